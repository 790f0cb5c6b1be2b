"""``replay --multiply N`` (issue 21, item 3): N copies of the traffic with the original
timing, each into its own streams (``--copy-map``) or into the same ones, a copy number
field, ids made distinct with ``--copy-suffix``; the report counts per copy."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import redis
from support.e2e import error_line, fields_of, invoke, ok, streams
from support.replay import ListSource, TimedPublisher
from support.shape import T0, order, write_orders

from xtape.clock import FakeClock
from xtape.replay import Pacing, ReplayOptions, replay_through
from xtape.shape import Multiply
from xtape.timeline import NS_PER_MS, Event
from xtape.transform import Transform


@pytest.fixture()
def rec(tmp_path: Path) -> Path:
    return write_orders(tmp_path / "orders.xtape", 30)


def test_each_copy_goes_into_its_own_streams_byte_for_byte(rec: Path, redis_url: str, r: redis.Redis) -> None:
    result = ok(invoke("replay", rec, "--url", redis_url, "--max-speed", "--json", "--multiply", "3"))
    report = json.loads(result.stdout)
    assert streams(r) == sorted(b"%s:%d" % (s, k) for s in (b"orders", b"payments") for k in (1, 2, 3))
    for k in (1, 2, 3):
        assert fields_of(r, b"orders:%d" % k) == [order(i) for i in range(0, 30, 2)]
        assert fields_of(r, b"payments:%d" % k) == [order(i) for i in range(1, 30, 2)]
    assert report["published"] == 90
    assert report["copies"] == {"1": 30, "2": 30, "3": 30}


def test_copies_into_the_same_streams_with_a_copy_field_and_suffixed_ids(rec: Path, redis_url: str, r: redis.Redis) -> None:
    result = ok(
        invoke(
            "replay", rec, "--url", redis_url, "--max-speed", "--multiply", "2", "--copy-into-same",
            "--copy-field", "copy", "--copy-suffix", "order_id", "--copy-suffix", "user",
        )
    )  # fmt: skip
    assert "copies (--multiply 2): 1: 30, 2: 30" in result.stdout
    assert streams(r) == [b"orders", b"payments"]
    got = fields_of(r, b"orders")
    expected = []
    for i in range(0, 30, 2):
        for k in (1, 2):
            flat = order(i)
            flat[1] += b"-%d" % k
            flat[3] += b"-%d" % k
            expected.append([*flat, b"copy", b"%d" % k])
    assert got == expected


def test_a_copy_map_template_names_the_streams(rec: Path, redis_url: str, r: redis.Redis) -> None:
    ok(invoke("replay", rec, "--url", redis_url, "--max-speed", "-q", "--multiply", "2", "--prefix", "t:", "--copy-map", "load{n}:{stream}"))
    assert streams(r) == [b"load1:t:orders", b"load1:t:payments", b"load2:t:orders", b"load2:t:payments"]


def test_copies_keep_the_original_timing() -> None:
    # on a fake clock: every copy of an event goes out at the event's own deadline
    clock = FakeClock()
    publisher = TimedPublisher(clock)
    events = [Event.of(k * 100 * NS_PER_MS, b"s", ((b"n", b"%d" % k),)) for k in range(5)]
    options = ReplayOptions(Pacing.speed(1.0), transform=Transform(multiply=Multiply(4)))
    report = replay_through(ListSource(events, "events"), publisher, options, clock=clock)
    assert report.published == 20
    assert report.copies == {"1": 5, "2": 5, "3": 5, "4": 5}
    times = [(e.stream, t) for t, e in zip(publisher.times, publisher.events, strict=True)]
    for k in range(5):
        group = times[4 * k : 4 * k + 4]
        assert len({t for _, t in group}) == 1  # the four copies together
        assert [stream for stream, _ in group] == [b"s:1", b"s:2", b"s:3", b"s:4"]
    starts = [times[4 * k][1] for k in range(5)]
    assert [b - a for a, b in itertools.pairwise(starts)] == [100 * NS_PER_MS] * 4


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["--copy-field", "c"], "--copy-field applies with --multiply N"),
        (["--copy-into-same", "--copy-suffix", "id"], "--copy-into-same, --copy-suffix apply with --multiply N"),
        (["--multiply", "0"], "--multiply must be from 1"),
        (["--multiply", "2", "--copy-map", "{stream}"], "has no {n}"),
        (["--multiply", "2", "--copy-map", "{stream}:{copy}"], "unknown placeholder {copy}"),
        (["--multiply", "2", "--copy-map", "{stream}:{n", ], "--copy-map '{stream}:{n'"),
        (["--multiply", "2", "--copy-map", "x{n}", "--copy-into-same"], "exclude each other"),
        (["--multiply", "2", "--copy-into-same", "--keep-ids"], "--keep-ids cannot be combined with --copy-into-same"),
    ],
)
def test_bad_copy_options_are_one_line(rec: Path, args: list[str], what: str) -> None:
    assert what in error_line(invoke("replay", rec, "--dry-run", *args), 2)


def test_keep_ids_with_copies_in_their_own_streams(rec: Path, redis_url: str, r: redis.Redis) -> None:
    ok(invoke("replay", rec, "--url", redis_url, "--max-speed", "-q", "--multiply", "2", "--keep-ids"))
    assert [i for i, _ in r.xrange(b"orders:2")] == [b"%d-0" % (T0 + i) for i in range(0, 30, 2)]


def test_multiply_after_where_and_sample(rec: Path, redis_url: str, r: redis.Redis) -> None:
    result = ok(
        invoke("replay", rec, "--url", redis_url, "--max-speed", "--json", "--multiply", "5",
               "--where", "fields.user == 'ann'", "--copy-into-same")
    )  # fmt: skip
    report = json.loads(result.stdout)
    ann = [i for i in range(30) if i % 8 == 0]
    assert report["published"] == 5 * len(ann)
    assert report["copies"] == {str(k): len(ann) for k in range(1, 6)}


def test_help_explains_multiply() -> None:
    text = " ".join(ok(invoke("replay", "--help")).stdout.split())
    for option in ("--multiply N", "--copy-map TEMPLATE", "--copy-into-same", "--copy-field NAME", "--copy-suffix FIELD"):
        assert option in text
    assert "{stream}:{n}" in text and "counts per copy" in text
