"""A live ``xtape record --metrics`` under faults: a server restart, a server that stops
answering, a disk that fills up. /metrics and /healthz say what happened (issue 20,
items 1 and 2)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import redis
from support.e2e import wait_for, xadd
from support.observe import Watched

from xtape.connection import connect
from xtape.server import RedisServer


def test_a_server_restart_is_a_503_while_reconnecting_then_200_and_counted(
    make_server: Callable[..., RedisServer], tmp_path: Path
) -> None:
    server = make_server(appendonly=True)
    client = connect(server.url)
    path = tmp_path / "restart.xtape"
    with Watched("record", "s", "-o", path, "--url", server.url, "-q", "--unhealthy-after", "1s") as rec:
        rec.wait_health(200, "ok: connected")
        for i in range(5):
            xadd(client, "s", [b"n", b"%d" % i])
        rec.wait_value('xtape_record_entries_total{stream="s"}', 5)
        client.close()
        server.stop()
        line = rec.wait_health(503, "reconnecting for")
        assert "s:" in line  # the reason the connection was lost
        assert rec.value("xtape_record_connected") == 0
        server.start()
        rec.wait_health(200, "ok: connected")
        metrics = rec.metrics()
        assert metrics["xtape_record_reconnects_total"] == 1
        assert metrics['xtape_record_markers_total{kind="reconnect"}'] == 1
        assert metrics["xtape_record_connected"] == 1
        rec.wait_value('xtape_record_markers_total{kind="restart"}', 1)
        client = connect(server.url)
        xadd(client, "s", [b"after", b"restart"])
        client.close()
        rec.wait_value('xtape_record_entries_total{stream="s"}', 6)
        code, err = rec.stop()
    assert code in (0, 143), err


def test_a_server_that_stops_answering_is_a_503_stalled_then_200(
    make_server: Callable[..., RedisServer], tmp_path: Path
) -> None:
    server = make_server()
    assert server.proc is not None
    with Watched("record", "s", "-o", tmp_path / "stall.xtape", "--url", server.url, "-q",
                 "--unhealthy-after", "1s") as rec:  # fmt: skip
        rec.wait_health(200, "ok: connected")
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            line = rec.wait_health(503, "stalled: no answer from the server for")
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        assert line.startswith("stalled")
        rec.wait_health(200, "ok: connected")
        code, err = rec.stop()
    assert code in (0, 143), err


def test_a_full_disk_counts_a_write_error_and_healthz_says_it(
    small_disk: Path, redis_url: str, r: redis.Redis
) -> None:
    path = small_disk / "live.xtape"
    with Watched("record", "live", "-q", "-o", path, "--url", redis_url, "--compression", "none",
                 "--metrics-linger", "5m") as rec:  # fmt: skip
        rec.wait_health(200, "ok: connected")
        assert rec.value("xtape_record_write_errors_total") == 0
        deadline = time.monotonic() + 60
        sent = 0
        while True:  # ~2 KB an entry until the disk is full
            for _ in range(10):
                xadd(r, b"live", [b"n", b"%d" % sent, b"payload", b"y" * 2000])
                sent += 1
            status, line = rec.healthz()
            if status == 503:
                break
            assert time.monotonic() < deadline and sent < 5000, "the disk never filled up"
            time.sleep(0.01)
        wait_for(lambda: "write error" in rec.healthz()[1], what="the write error on /healthz")
        status, line = rec.healthz()
        assert (status, line.strip()) == (
            503,
            f"write error: cannot write {path}: No space left on device",
        )
        metrics = rec.metrics()
        assert metrics["xtape_record_write_errors_total"] == 1
        assert metrics["xtape_record_connected"] == 0
        assert rec.proc.poll() is None  # lingering for the last scrape
        code, err = rec.stop()
    assert code == 1
    assert err.splitlines()[-1] == f"xtape: error: cannot write {path}: No space left on device"
    assert "Traceback" not in err
