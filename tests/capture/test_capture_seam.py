"""The recorder's reader seam on one server: the clock tests control, ``--exclude``, the
reader interface both implementations follow."""

from __future__ import annotations

import time
from pathlib import Path

import redis
from support.capture import by_stream

from xtape.capture import Recorder, RecordOptions, parse_start
from xtape.capture.cluster_reader import ClusterReader
from xtape.capture.server_reader import ServerReader, StreamReader
from xtape.clock import FakeClock
from xtape.timeline import NS_PER_S


class JumpingClock(FakeClock):
    """Each look at the monotonic clock is ten minutes later."""

    looks = 0

    def now_ns(self) -> int:
        self.looks += 1
        self.now += 600 * NS_PER_S
        return self.now


def test_the_stop_rules_run_on_the_clock_given(redis_url: str, tmp_path: Path) -> None:
    clock = JumpingClock()
    path = tmp_path / "c.xtape"
    started = time.monotonic()
    stats = Recorder(
        redis_url, path, RecordOptions(["c"], duration=3600.0), clock=clock
    ).run()
    assert stats.stop_reason == "duration"
    assert time.monotonic() - started < 10  # an hour of the test's clock, not of ours
    assert clock.looks > 0


def test_exclude_keeps_matching_streams_out(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    for name in ("x:keep", "x:skip:1", "x:skip:2", "x:other"):
        r.xadd(name, {"n": "1"})
    path = tmp_path / "x.xtape"
    options = RecordOptions(
        ["x:*", "x:skip:2"], start=parse_start("start"), until_idle=0.5, exclude=["x:skip:*"]
    )
    stats = Recorder(redis_url, path, options).run()
    assert set(by_stream(path)) == {b"x:keep", b"x:other"}
    assert stats.entries == 2


def test_both_readers_offer_the_seam() -> None:
    wanted = [
        name
        for name in dir(StreamReader)
        if not name.startswith("_") and name not in ("run_id", "version")
    ]
    assert {"read_round", "changes", "block", "scan", "describe", "restart_kind"} <= set(wanted)
    for cls in (ServerReader, ClusterReader):
        missing = [n for n in wanted if not hasattr(cls, n)]
        assert missing == [], (cls, missing)
