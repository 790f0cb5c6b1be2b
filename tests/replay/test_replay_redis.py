"""Publishing into a real redis-server: fidelity, ids, trimming, refusals. (Timing: on the
fake clock in test_replay_timing_modes.py, for real in tests/e2e/test_e2e_timing.py.)"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.replay import ListSource
from support.streams import xrange_raw

from xtape.errors import KeepIdsConflict, RedisUnavailable, ReplayAborted, UsageError
from xtape.process import process_state
from xtape.replay import (
    FakeClock,
    Pacing,
    PrintPublisher,
    RedisPublisher,
    ReplayOptions,
    ReplayReport,
    replay_through,
)
from xtape.server import RedisServer, free_port
from xtape.timeline import NS_PER_MS, Event, ScheduleFn

MAX = ReplayOptions(pacing=Pacing.max_speed())


def publish_all(
    url: str, events: list[Event], options: ReplayOptions = MAX, **publisher_options: Any
) -> ReplayReport:
    with RedisPublisher(url, **publisher_options) as publisher:
        return replay_through(ListSource(events), publisher, options)


AWKWARD = [
    Event.of(0, b"s", ((b"a", b"1"), (b"a", b"2"), (b"b", b""))),  # duplicate names, empty value
    Event.of(0, b"s", ((b"", b"empty name"),)),
    Event.of(0, b"s", ((b"\xff\xfe\x00", b"\x00\x80\xc3(\r\n$3\r\n"),)),  # not UTF-8, RESP-looking
    Event.of(0, "流-ü".encode(), ((b"k", "ünïcødé".encode()),)),
    Event.of(0, b"big", ((b"blob", bytes(range(256)) * 4096),)),  # 1 MiB
]


def test_awkward_entries_arrive_byte_identical(r: redis.Redis, redis_url: str) -> None:
    report = publish_all(redis_url, AWKWARD)
    assert (report.published, report.errors) == (5, 0)
    for stream in {e.stream for e in AWKWARD}:
        sent = [list(e.flat) for e in AWKWARD if e.stream == stream]
        assert [fields for _, fields in xrange_raw(r, stream)] == sent


def test_awkward_entries_survive_paced_replay_too(r: redis.Redis, redis_url: str) -> None:
    events = [Event.of(i * NS_PER_MS, e.stream, e.fields) for i, e in enumerate(AWKWARD)]
    publish_all(redis_url, events, ReplayOptions())
    assert [f for _, f in xrange_raw(r, b"s")] == [list(e.flat) for e in AWKWARD[:3]]


def test_many_batches_in_flight_arrive_complete_and_in_order(
    r: redis.Redis, redis_url: str
) -> None:
    events = [Event.of(0, b"s%d" % (i % 3), ((b"i", b"%d" % i),)) for i in range(30_000)]
    options = ReplayOptions(pacing=Pacing.max_speed(), batch_cap=700)
    report = publish_all(redis_url, events, options, max_pending=2000)
    assert report.published == 30_000
    assert report.streams == {"s0": 10_000, "s1": 10_000, "s2": 10_000}
    for k in range(3):
        values = [int(f[1]) for _, f in xrange_raw(r, b"s%d" % k)]
        assert values == list(range(k, 30_000, 3))


def test_keep_ids_into_a_missing_stream_preserves_ids(r: redis.Redis, redis_url: str) -> None:
    ids = [b"1700000000000-0", b"1700000000000-1", b"1700000000500-0"]
    events = [Event.of(0, b"s", ((b"n", b"%d" % i),), id) for i, id in enumerate(ids)]
    publish_all(redis_url, events, keep_ids=True)
    assert [entry_id for entry_id, _ in xrange_raw(r, b"s")] == ids


def test_without_keep_ids_redis_generates_new_ids(r: redis.Redis, redis_url: str) -> None:
    publish_all(redis_url, [Event.of(0, b"s", ((b"n", b"1"),), b"1-1")])
    ((entry_id, _),) = xrange_raw(r, b"s")
    assert entry_id != b"1-1"


def test_keep_ids_into_a_stream_with_higher_ids_is_refused_with_nothing_published(
    r: redis.Redis, redis_url: str
) -> None:
    r.execute_command("XADD", "s", "5000-0", "old", "1")
    events = [
        Event.of(0, b"fresh", ((b"n", b"1"),), b"1-0"),
        Event.of(0, b"s", ((b"n", b"2"),), b"1000-0"),
    ]
    with pytest.raises(KeepIdsConflict, match=r"'s' already has ids up to 5000-0") as caught:
        publish_all(redis_url, events, keep_ids=True)
    assert "--keep-ids" in str(caught.value)
    assert r.exists("fresh") == 0
    assert r.xlen("s") == 1


def test_keep_ids_compares_with_the_last_generated_id_even_after_deletes(
    r: redis.Redis, redis_url: str
) -> None:
    entry_id = r.execute_command("XADD", "s", "5000-0", "old", "1")
    r.execute_command("XDEL", "s", entry_id)  # empty, but 5000-0 stays the top
    with pytest.raises(KeepIdsConflict):
        publish_all(redis_url, [Event.of(0, b"s", ((b"n", b"1"),), b"4000-0")], keep_ids=True)


def test_keep_ids_into_a_key_of_another_type_is_refused(r: redis.Redis, redis_url: str) -> None:
    r.set("s", "not a stream")
    with pytest.raises(UsageError, match="WRONGTYPE"):
        publish_all(redis_url, [Event.of(0, b"s", ((b"n", b"1"),), b"1-0")], keep_ids=True)


def test_maxlen_trims_approximately(r: redis.Redis, redis_url: str) -> None:
    events = [Event.of(0, b"s", ((b"i", b"%d" % i),)) for i in range(5000)]
    report = publish_all(redis_url, events, maxlen=100)
    assert report.published == 5000
    assert 100 <= r.xlen("s") < 400  # ~ trims whole nodes (100 entries each by default)
    assert xrange_raw(r, b"s")[-1][1] == [b"i", b"4999"]


def test_refused_entries_are_counted_and_the_rest_published(r: redis.Redis, redis_url: str) -> None:
    r.set("str", "x")
    events = [Event.of(0, b"str" if i % 4 == 0 else b"s", ((b"i", b"%d" % i),)) for i in range(400)]
    events.append(Event.of(0, b"s", ()))  # XADD without fields: wrong number of arguments
    report = publish_all(redis_url, events)
    assert report.errors == 101
    assert report.published == 300
    assert r.xlen("s") == 300
    assert report.streams == {"s": 300}  # a stream that took nothing is not listed
    assert report.error_messages[0].startswith("str: WRONGTYPE")
    assert any("wrong number of arguments" in m for m in report.error_messages)


def test_unreachable_server_raises_redis_unavailable_without_the_password() -> None:
    url = f"redis://user:s3cret@127.0.0.1:{free_port()}/0"
    with pytest.raises(RedisUnavailable) as caught:
        RedisPublisher(url)
    assert "s3cret" not in str(caught.value)
    assert "***" in str(caught.value)
    assert caught.value.exit_code == 1


def test_server_going_away_without_reconnect_aborts_with_the_confirmed_report(
    make_server: Callable[..., RedisServer],
) -> None:
    server = make_server()
    events = [Event.of(i * 5 * NS_PER_MS, b"s", ((b"i", b"1"),)) for i in range(100)]

    class Killing(ListSource):
        def timeline(self, iteration: int, schedule: ScheduleFn) -> Iterator[Event]:
            for i, event in enumerate(self.events):
                if i == 10:
                    server.stop()
                yield event

    with (
        RedisPublisher(server.url, reconnect=False) as publisher,
        pytest.raises(ReplayAborted, match="connection lost") as caught,
    ):
        replay_through(Killing(events), publisher)
    assert isinstance(caught.value.cause, RedisUnavailable)
    report = caught.value.report
    # confirmed entries only: the ten sent before the kill, at most
    assert report.published <= 10
    assert report.published == sum(report.streams.values())


def test_ctrl_c_during_a_real_replay_returns_a_report_that_matches_redis(
    r: redis.Redis, redis_url: str
) -> None:
    events = [Event.of(i * 10 * NS_PER_MS, b"s", ((b"i", b"%d" % i),)) for i in range(300)]  # 3 s
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        # as the CLI runs it: the signal only sets the stop event, honoured at a safe point
        with process_state() as state, RedisPublisher(redis_url) as publisher:
            report = replay_through(ListSource(events), publisher, stop_event=state.stop_event)
    finally:
        timer.cancel()
    assert report.interrupted
    assert state.exit_code == 130
    assert report.duration_s < 1.0
    assert 10 <= report.published <= 100
    assert r.xlen("s") == report.published


def test_dry_run_prints_one_line_per_event_without_redis_or_sleeping() -> None:
    out = io.StringIO()
    events = [
        Event.of(0, b"orders", ((b"id", b"1"), (b"id", b"2"))),
        Event.of(90_000 * NS_PER_MS, b"bin\xff", ((b"v", b"\xff\x00"),), b"9-9"),
    ]
    clock = FakeClock()
    report = replay_through(ListSource(events), PrintPublisher(out, verbose=True), clock=clock)
    assert report.published == 2
    lines = out.getvalue().splitlines()
    assert lines[0] == '+0.000s  orders  [["id", "1"], ["id", "2"]]'
    offset, stream, fields = lines[1].split("  ")
    assert (offset, stream) == ("+90.000s", "bin\\xff")
    assert json.loads(fields) == [["v", {"base64": "/wA="}]]
    quiet = io.StringIO()
    replay_through(ListSource(events), PrintPublisher(quiet, keep_ids=True), clock=FakeClock())
    assert quiet.getvalue().splitlines() == [
        "+0.000s  orders  *  2 fields",
        "+90.000s  bin\\xff  9-9  1 field",
    ]


field_bytes = st.binary(max_size=40)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(st.tuples(field_bytes, field_bytes), min_size=1, max_size=6),
        min_size=1,
        max_size=20,
    ),
    st.binary(min_size=1, max_size=20),
)
def test_any_bytes_survive_publishing(
    r: redis.Redis, redis_url: str, entries: list[list[tuple[bytes, bytes]]], stream: bytes
) -> None:
    r.delete(stream)
    events = [Event.of(0, stream, tuple(fields)) for fields in entries]
    publish_all(redis_url, events)
    assert [f for _, f in xrange_raw(r, stream)] == [list(e.flat) for e in events]
