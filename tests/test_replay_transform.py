"""Stream filters, renames and time windows applied to a timeline."""

from __future__ import annotations

import pytest

from xtape.errors import UsageError
from xtape.timeline import NS_PER_MS, Event
from xtape.transform import Transform, parse_map

F = ((b"k", b"v"),)


def ev(stream: bytes, ms: int = 0, id: bytes | None = None) -> Event:
    return Event.of(ms * NS_PER_MS, stream, F, id)


def streams(transform: Transform, events: list[Event]) -> list[bytes]:
    return [e.stream for e in transform.apply(events)]


EVENTS = [ev(b"orders"), ev(b"orders.eu"), ev(b"trades"), ev(b"audit")]


def test_no_options_pass_the_very_same_events_through() -> None:
    out = list(Transform().apply(EVENTS))
    assert all(a is b for a, b in zip(out, EVENTS, strict=True))


def test_stream_globs_keep_matching_streams_in_order() -> None:
    assert streams(Transform(streams=("orders*", "audit")), EVENTS) == [
        b"orders",
        b"orders.eu",
        b"audit",
    ]


def test_stream_globs_are_case_sensitive_like_redis_keys() -> None:
    assert streams(Transform(streams=("ORDERS*",)), EVENTS) == []


def test_map_renames_exact_names_only() -> None:
    out = streams(Transform(maps=(("orders", "orders-copy"),)), EVENTS)
    assert out == [b"orders-copy", b"orders.eu", b"trades", b"audit"]


def test_prefix_applies_after_map_and_filter_uses_source_names() -> None:
    transform = Transform(streams=("orders",), maps=(("orders", "o"),), prefix="test:")
    assert streams(transform, EVENTS) == [b"test:o"]


def test_non_utf8_stream_names_can_be_matched_and_mapped() -> None:
    raw = b"bin\xff\xfe"
    name = raw.decode("utf-8", "surrogateescape")
    transform = Transform(streams=("bin*",), maps=((name, "clean"),))
    assert streams(transform, [ev(raw), ev(b"other")]) == [b"clean"]
    assert streams(Transform(prefix="p:"), [ev(raw)]) == [b"p:" + raw]


def test_since_and_until_keep_a_window_and_shift_it_to_zero() -> None:
    events = [ev(b"s", ms) for ms in (0, 999, 1000, 1500, 1999, 2000, 2500)]
    out = list(Transform(since_ns=1000 * NS_PER_MS, until_ns=2000 * NS_PER_MS).apply(events))
    assert [e.offset_ns // NS_PER_MS for e in out] == [0, 500, 999]


def test_since_keeps_the_quiet_stretch_before_the_first_kept_event() -> None:
    out = list(Transform(since_ns=1000 * NS_PER_MS).apply([ev(b"s", 0), ev(b"s", 1400)]))
    assert [e.offset_ns // NS_PER_MS for e in out] == [400]


def test_transforms_keep_fields_and_ids() -> None:
    event = Event.of(5 * NS_PER_MS, b"s", ((b"a", b"1"), (b"a", b"2")), b"7-1")
    (out,) = Transform(prefix="x", since_ns=NS_PER_MS).apply([event])
    assert (out.stream, out.fields, out.id, out.offset_ns) == (
        b"xs",
        event.fields,
        b"7-1",
        4 * NS_PER_MS,
    )


def test_parse_map_splits_at_the_first_equals_sign() -> None:
    assert parse_map("a=b=c") == ("a", "b=c")


@pytest.mark.parametrize("text", ["ab", "=b", "a="])
def test_parse_map_refuses_a_missing_side(text: str) -> None:
    with pytest.raises(UsageError, match="SRC=DST"):
        parse_map(text)


def test_two_targets_for_one_stream_are_refused() -> None:
    with pytest.raises(UsageError, match="more than one target for a"):
        Transform(maps=(("a", "b"), ("a", "c")))


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [(-1, None, "--since"), (None, 0, "--until"), (5, 5, "--until"), (6, 5, "--until")],
)
def test_bad_windows_are_refused(since: int | None, until: int | None, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Transform(since_ns=since, until_ns=until)
