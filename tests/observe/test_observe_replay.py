"""``xtape replay --metrics``: entries published, refused and sent again after a
reconnect, the lateness histogram and the pass of a loop, read from a live replay
(issue 20, item 1)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import redis
from support.e2e import wait_for
from support.observe import Watched

from xtape.server import RedisServer

SCENARIO = """\
name: metrics
events:
  - stream: out
    repeat: 50
    interval: 10
    payload: {n: "{{index}}"}
"""


def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "metrics.yaml"
    path.write_text(SCENARIO)
    return path


def test_a_replay_counts_what_it_published_and_how_late(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    with Watched("replay", scenario(tmp_path), "--url", redis_url, "-q", "--no-catalog",
                 "--metrics-linger", "5m") as rep:  # fmt: skip
        line = rep.wait_health(503, "stopped: done")  # (lingering after the end)
        metrics = rep.metrics()
        code, err = rep.stop()
    assert code == 0, err
    assert line == "stopped: done"
    assert r.xlen("out") == 50
    assert metrics["xtape_replay_entries_published_total"] == 50
    assert metrics["xtape_replay_entries_refused_total"] == 0
    assert metrics["xtape_replay_lateness_seconds_count"] == 50
    assert metrics['xtape_replay_lateness_seconds_bucket{le="+Inf"}'] == 50
    assert metrics["xtape_replay_pass"] == 1


def test_a_loop_shows_its_pass_and_healthz_is_ok_while_it_runs(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    with Watched("replay", scenario(tmp_path), "--url", redis_url, "-q", "--no-catalog",
                 "--loop", "--speed", "5") as rep:  # fmt: skip
        wait_for(lambda: (rep.value("xtape_replay_pass") or 0) >= 3, timeout=60, what="pass 3")
        status, line = rep.healthz()
        assert status == 200 and line.startswith("ok: connected, last entry"), line
        # (the pass's gauge moves when a pass begins; the counter when a batch is done)
        wait_for(lambda: (rep.value("xtape_replay_entries_published_total") or 0) >= 100, timeout=60,
                 what="two passes published")  # fmt: skip
        code, err = rep.stop()
    assert code == 143, err


def test_refused_entries_are_counted(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    r.set("out", "not a stream")
    with Watched("replay", scenario(tmp_path), "--url", redis_url, "-q", "--no-catalog",
                 "--keep-going", "--max-speed", "--metrics-linger", "5m") as rep:  # fmt: skip
        rep.wait_health(503, "stopped: done")
        metrics = rep.metrics()
        code, _ = rep.stop()
    assert code == 1  # Redis refused entries
    assert metrics["xtape_replay_entries_refused_total"] == 50
    assert metrics["xtape_replay_entries_published_total"] == 0
    assert metrics["xtape_replay_lateness_seconds_count"] == 0  # (no schedule at --max-speed)


def test_entries_sent_again_after_a_reconnect_are_counted(
    make_server: Callable[..., RedisServer], tmp_path: Path
) -> None:
    server = make_server()
    assert server.proc is not None
    with Watched("replay", scenario(tmp_path), "--url", server.url, "-q", "--no-catalog",
                 "--loop", "--rate", "2000") as rep:  # fmt: skip
        rep.wait_value("xtape_replay_reconnects_total", 0)
        wait_for(lambda: (rep.value("xtape_replay_entries_published_total") or 0) > 0, timeout=60)
        os.kill(server.proc.pid, signal.SIGSTOP)  # entries go out, no reply comes back

        def unconfirmed() -> float:
            m = rep.metrics()
            return m["xtape_replay_lateness_seconds_count"] - m["xtape_replay_entries_published_total"]

        try:
            wait_for(lambda: unconfirmed() > 0, timeout=60, what="entries sent and not confirmed")
        finally:
            os.kill(server.proc.pid, signal.SIGKILL)
            server.proc.wait()
        server.start()
        rep.wait_value("xtape_replay_reconnects_total", 1)
        assert (rep.value("xtape_replay_entries_resent_total") or 0) > 0
        code, err = rep.stop()
    assert code == 143, err


def test_an_observer_given_with_a_path_hears_the_replay(redis_url: str, r: redis.Redis) -> None:
    """``xtape.replay(path, ..., observer=...)`` opens the file and keeps the observer."""
    from support.paths import SAMPLE

    import xtape
    from xtape.observe.events import ReplayEvents

    class Heard(ReplayEvents):
        def __init__(self) -> None:
            self.begun = self.ended = 0
            self.batches = 0

        def begin(self, counts: object) -> None:
            self.begun += 1

        def published(self, deadlines: object, now_ns: int) -> None:
            self.batches += 1

        def end(self) -> None:
            self.ended += 1

    heard = Heard()
    report = xtape.replay(SAMPLE, redis_url, xtape.ReplayOptions(pacing=xtape.Pacing.max_speed()), observer=heard)
    assert report.published > 0
    assert (heard.begun, heard.ended) == (1, 1) and heard.batches >= 1
