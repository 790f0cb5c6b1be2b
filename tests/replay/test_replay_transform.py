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
    out = list(Transform(since=1.0, until=2.0).apply(events))
    assert [e.offset_ns // NS_PER_MS for e in out] == [0, 500, 999]


def test_since_keeps_the_quiet_stretch_before_the_first_kept_event() -> None:
    out = list(Transform(since=1.0).apply([ev(b"s", 0), ev(b"s", 1400)]))
    assert [e.offset_ns // NS_PER_MS for e in out] == [400]


def test_transforms_keep_fields_and_ids() -> None:
    event = Event.of(5 * NS_PER_MS, b"s", ((b"a", b"1"), (b"a", b"2")), b"7-1")
    (out,) = Transform(prefix="x", since=0.001).apply([event])
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
    [(-1.0, None, "--since"), (None, 0.0, "--until"), (5.0, 5.0, "--until"), (6.0, 5.0, "--until"),
     (float("nan"), None, "--since")],
)
def test_bad_windows_are_refused(since: float | None, until: float | None, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Transform(since=since, until=until)


def test_map_globs_put_what_star_matched_into_the_target() -> None:
    t = Transform(maps=(parse_map("orders:*=test:orders:*"), parse_map("a?-[0-9]=b")))
    events = [ev(b"orders:eu"), ev(b"orders:"), ev(b"ordersX"), ev(b"ax-7"), ev(b"ax-y")]
    assert streams(t, events) == [b"test:orders:eu", b"test:orders:", b"ordersX", b"b", b"ax-y"]


def test_map_glob_with_several_stars_fills_them_in_order_and_keeps_bytes() -> None:
    t = Transform(maps=(parse_map("*.*=*:*"),), prefix="p:")
    assert streams(t, [ev(b"eu.orders"), ev(b"\xff.x"), ev(b"plain")]) == [
        b"p:eu:orders",
        b"p:\xff:x",
        b"p:plain",
    ]


def test_first_matching_map_wins() -> None:
    t = Transform(maps=(parse_map("orders=exact"), parse_map("orders*=glob*")))
    assert streams(t, [ev(b"orders"), ev(b"orders.eu")]) == [b"exact", b"glob.eu"]


def test_a_map_target_with_stars_its_source_lacks_is_refused() -> None:
    with pytest.raises(UsageError, match=r"DST has 2 '\*' and SRC has 1"):
        parse_map("a*=b*c*")


def test_maps_that_renamed_nothing_are_listed_after_a_pass() -> None:
    t = Transform(maps=(parse_map("orders*=o*"), parse_map("nothing:*=x*"), parse_map("gone=x")))
    list(t.apply(EVENTS))
    assert t.unused_maps() == ["nothing:*=x*", "gone=x"]


def test_parse_builds_a_transform_from_option_texts() -> None:
    t = Transform.parse(streams=["a*"], maps=["a=b"], prefix="p", since="1.5s", until="2m")
    assert (t.streams, t.maps, t.prefix) == (("a*",), (("a", "b"),), "p")
    assert (t.since, t.until) == (1.5, 120.0)
    assert (t.since_ns, t.until_ns) == (1_500_000_000, 120_000_000_000)


@pytest.mark.parametrize("glob", ["s[!]x]*", "s[]x]*", "s[a-c]?", "s*", "s[", "s\\\\*", "s?1"])
def test_map_globs_match_what_stream_globs_match(glob: str) -> None:
    names = [b"s", b"sa1", b"s]1", b"sx1", b"sd1", b"s[", b"s\\1", b"sb", b"s\\*"]
    kept = {n for n in names if Transform(streams=(glob,)).target(n) is not None}
    mapping = Transform(maps=((glob, "hit"),))
    assert {n for n in names if mapping.target(n) == b"hit"} == kept
