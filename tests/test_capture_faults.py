"""The recorder under faults: signals, SIGKILL mid-write, a server restart."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from capture_support import by_stream, start_recorder
from conftest import xrange_raw
from e2e_support import wait_for

from xtape.capture import RecordOptions, parse_start
from xtape.connection import connect
from xtape.recording import Recording, summarize
from xtape.server import RedisServer

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

XTAPE = str(Path(sys.executable).parent / "xtape")


def _recorder_process(url: str, path: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [XTAPE, "record", *args, "--url", url, "-o", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _recorded(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        return sum(1 for _ in Recording(path).entries())
    except Exception:
        return 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_closes_the_recording_cleanly(
    redis_url: str, r: redis.Redis, tmp_path: Path, sig: signal.Signals
) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.execute_command("XADD", "s", "*", "n", str(i), "n", "dup")
    pipe.execute()
    path = tmp_path / "sig.xtape"
    proc = _recorder_process(redis_url, path, "s", "--from", "start")
    wait_for(lambda: _recorded(path) == 1000, what="the backlog to be recorded")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err
    assert b"recorded 1000 entries" in err
    info = summarize(path)
    assert info.complete and info.truncated_bytes == 0
    assert by_stream(path)[b"s"] == xrange_raw(r, "s")


def test_sigkill_mid_write_leaves_a_readable_prefix(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    port = r.connection_pool.connection_kwargs["port"]
    subprocess.run(
        [
            "redis-benchmark",
            "-p",
            str(port),
            "-n",
            "300000",
            "-P",
            "64",
            "-q",
            "XADD",
            "busy",
            "*",
            "field",
            "x" * 200,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    path = tmp_path / "killed.xtape"
    # (uncompressed: zstd would shrink the 200-byte runs of "x" far below 4 MB)
    proc = _recorder_process(redis_url, path, "busy", "--from", "start", "--compression", "none")
    wait_for(lambda: path.exists() and path.stat().st_size > 4_000_000, what="a busy recorder")
    proc.kill()
    proc.communicate(timeout=10)
    rec = Recording(path)
    got = [(e.id, [p for pair in e.fields for p in pair]) for e in rec.entries()]
    assert 0 < len(got) < 300000
    assert got == xrange_raw(r, "busy")[: len(got)]
    info = summarize(path)
    assert not info.complete
    assert info.truncated_bytes >= 0


def test_server_restart_resumes_without_duplicates_or_losses(
    make_server: Callable[..., RedisServer], tmp_path: Path
) -> None:
    server = make_server(appendonly=True)
    client = connect(server.url)
    before = [client.execute_command("XADD", "s", "*", "n", str(i)) for i in range(100)]
    client.close()
    path = tmp_path / "restart.xtape"
    warnings: list[str] = []
    options = RecordOptions(["s"], start=parse_start("start"), count=200)
    bg = start_recorder(server.url, path, options, warnings=warnings)
    wait_for(lambda: bg.recorder.stats.entries == 100, what="the backlog to be recorded")
    server.restart()
    client = connect(server.url)
    after = [client.execute_command("XADD", "s", "*", "n", str(100 + i)) for i in range(100)]
    stats = bg.join()
    assert stats.entries == 200 and stats.reconnects >= 1 and stats.restarts == 1
    recorded = by_stream(path)[b"s"]
    assert recorded == xrange_raw(client, "s")
    assert [e[0] for e in recorded] == before + after
    kinds = [m.kind for m in Recording(path).markers()]
    assert "reconnect" in kinds and "restart" in kinds
    assert any("restarted" in w for w in warnings)
    client.close()
