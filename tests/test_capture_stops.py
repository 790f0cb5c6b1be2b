"""Stops that the network cannot hold, failed recordings that leave no stub, idle streams
that cost the source nothing, redaction by case, backfill progress."""

from __future__ import annotations

import gc
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from capture_support import start_recorder
from e2e_support import wait_for

from xtape.capture import Progress, RecordOptions, parse_start, record
from xtape.connection import connect
from xtape.errors import RedisUnavailable, RuntimeFailure
from xtape.recording import Recording
from xtape.server import RedisServer, free_port

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

XTAPE = str(Path(sys.executable).parent / "xtape")


def _record(url: str, path: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [XTAPE, "record", "s", "--url", url, "-o", str(path), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _stop_within(proc: subprocess.Popen[bytes], seconds: float) -> float:
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=seconds + 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return time.monotonic() - start


def test_sigterm_on_a_frozen_server_stops_within_a_second(
    make_server: Callable[..., RedisServer], tmp_path: Path
) -> None:
    server = make_server()
    client = connect(server.url)
    client.execute_command("XADD", "s", "*", "f", "v")
    client.close()
    path = tmp_path / "frozen.xtape"
    proc = _record(server.url, path)
    assert server.proc is not None
    try:
        wait_for(lambda: path.exists() and path.stat().st_size > 0, what="the recorder")
        server.proc.send_signal(signal.SIGSTOP)
        time.sleep(0.5)  # the recorder now waits on a server that does not answer
        took = _stop_within(proc, 1.0)
    finally:
        server.proc.send_signal(signal.SIGCONT)
    assert proc.returncode == 0
    assert took < 2.5, f"stopping took {took:.1f}s"
    assert Recording(path).header is not None


def test_stop_during_a_reconnect_to_a_frozen_network_and_duration(
    make_server: Callable[..., RedisServer], tmp_path: Path
) -> None:
    """The server dies; a listener that accepts but never answers (a frozen network)
    takes its port: SIGTERM, and --duration, still take effect within a second."""
    server = make_server()
    port = server.port
    client = connect(server.url)
    client.execute_command("XADD", "s", "*", "f", "v")
    client.close()
    procs = [_record(server.url, tmp_path / f"r{i}.xtape", *a) for i, a in enumerate([[], ["--duration", "3s"]])]
    for i in range(2):
        wait_for(lambda i=i: (tmp_path / f"r{i}.xtape").exists(), what="the recorders")
    started = time.monotonic()
    server.stop()
    frozen = socket.socket()
    frozen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    frozen.bind(("127.0.0.1", port))
    frozen.listen(50)  # the kernel completes handshakes; nothing ever answers
    accepted: list[socket.socket] = []
    try:
        frozen.settimeout(10)
        while len(accepted) < 2:  # both recorders reconnected into the void
            accepted.append(frozen.accept()[0])
        time.sleep(0.3)
        took = _stop_within(procs[0], 1.0)
        assert procs[0].returncode == 0
        assert took < 2.5, f"SIGTERM took {took:.1f}s"
        procs[1].communicate(timeout=15)
        assert procs[1].returncode == 0
        assert time.monotonic() - started < 3 + 2.5
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for conn in accepted:
            conn.close()
        frozen.close()


def test_a_failed_recording_leaves_no_stub(
    make_server: Callable[..., RedisServer], tmp_path: Path
) -> None:
    server = make_server()
    admin = connect(server.url)
    admin.execute_command("ACL", "SETUSER", "nox", "on", ">pw", "~*", "+@all", "-xread")
    admin.execute_command("XADD", "s", "*", "f", "v")
    url = f"redis://nox:pw@127.0.0.1:{server.port}/0"
    path = tmp_path / "refused.xtape"
    with pytest.raises(RuntimeFailure, match="refused"):
        record(url, path, RecordOptions(["s"], start=parse_start("start")))
    assert not path.exists()
    # A file that was there before (the user forced over it) is not removed.
    path.write_bytes(b"old")
    with pytest.raises(RuntimeFailure, match="refused"):
        record(url, path, RecordOptions(["s"], start=parse_start("start")))
    assert path.exists()
    unreachable = tmp_path / "unreachable.xtape"
    with pytest.raises(RedisUnavailable):
        record(f"redis://127.0.0.1:{free_port()}/0", unreachable, RecordOptions(["s"]))
    assert not unreachable.exists()
    # Through the CLI: the next run needs no --force.
    proc = subprocess.run(
        [XTAPE, "record", "s", "--url", url, "-o", str(tmp_path / "cli.xtape"), "--from", "start"],
        capture_output=True,
    )
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    assert not (tmp_path / "cli.xtape").exists()
    admin.close()


def test_idle_streams_are_not_read_every_round(
    redis_url: str, r: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2,000 idle streams and a trickle on one: the recorder's commands name the streams
    that changed, not all 2,000 per round (Redis's slow log counts every argument)."""
    # The first round checks every stream: in one round, so it is over at the first entry.
    monkeypatch.setattr("xtape.capture.rounds.STREAMS_PER_ROUND", 5000)
    pipe = r.pipeline(transaction=False)
    for i in range(2000):
        pipe.execute_command("XADD", f"idle:{i}", "*", "f", "v")
    pipe.execute()
    r.config_set("slowlog-max-len", 100000)
    try:
        path = tmp_path / "idle.xtape"
        bg = start_recorder(redis_url, path, RecordOptions(["idle:*"], count=50))
        r.execute_command("XADD", "idle:7", "*", "n", "first")
        wait_for(lambda: bg.recorder.stats.entries == 1, what="the first entry")
        r.config_set("slowlog-log-slower-than", 0)
        r.slowlog_reset()
        for i in range(49):
            r.execute_command("XADD", "idle:7", "*", "n", str(i))
            time.sleep(0.01)
        bg.join()
        r.config_set("slowlog-log-slower-than", 10000)
        log = r.execute_command("SLOWLOG", "GET", 100000)
    finally:
        r.config_set("slowlog-log-slower-than", 10000)
    args = 0
    for item in log:
        argv = item[3]
        if argv and argv[0].upper() in (b"XREAD", b"XINFO", b"XRANGE"):
            more = re.match(rb"\.\.\. \((\d+) more arguments\)", argv[-1])
            extra = int(more.group(1)) if more else 0
            args += len(argv) + extra
    # Old recorder: every round probed every idle stream (>= 4,000 arguments per entry).
    assert args < 49 * 100, f"{args} arguments to read 49 entries"


def test_redact_matches_names_in_any_case_and_warns_of_unused_globs(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    r.execute_command("XADD", "u", "*", "apiToken", "s3cret", "user", "ann")
    path = tmp_path / "case.xtape"
    warnings: list[str] = []
    options = RecordOptions(["u"], start=parse_start("start"), count=1, redact=["*token*", "pin"])
    start_recorder(redis_url, path, options, warnings=warnings).join()
    assert b"s3cret" not in path.read_bytes()
    assert warnings == ["--redact 'pin' matched no field name in this recording"]
    sensitive = RecordOptions(
        ["u"], start=parse_start("start"), count=1, redact=["*token*"], redact_case_sensitive=True
    )
    start_recorder(redis_url, tmp_path / "cs.xtape", sensitive).join()
    [entry] = Recording(tmp_path / "cs.xtape").entries()
    assert dict(entry.fields)[b"apiToken"] == b"s3cret"


def test_cli_redact_case_sensitive_option(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    r.execute_command("XADD", "u", "*", "apiToken", "s3cret")
    for extra, leaked in (([], False), (["--redact-case-sensitive"], True)):
        out = tmp_path / f"cli{len(extra)}.xtape"
        proc = subprocess.run(
            [XTAPE, "record", "u", "--url", redis_url, "-o", str(out), "--from", "start",
             "--count", "1", "--redact", "*token*", *extra],
            capture_output=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert (b"s3cret" in out.read_bytes()) is leaked


def test_backfill_reports_done_total_and_eta(
    redis_url: str, r: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("xtape.capture.recorder._PROGRESS_EVERY_S", 0.0)
    pipe = r.pipeline(transaction=False)
    for i in range(30000):
        pipe.execute_command("XADD", "big", "*", "n", str(i))
    pipe.execute()
    seen: list[Progress] = []
    options = RecordOptions(["big"], start=parse_start("start"), count=30000, batch=1000)
    record(redis_url, tmp_path / "p.xtape", options, progress=seen.append)
    backfill = [p for p in seen if p.backlog_total is not None]
    assert backfill, "no progress during the backfill"
    assert all(p.backlog_total == 30000 for p in backfill)
    assert all(0 <= (p.backlog_done or 0) <= 30000 for p in backfill)
    assert any(p.eta_s is not None for p in backfill)


def test_recording_changes_no_process_wide_state(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    """The library leaves the GC and the signal handlers alone (the CLI owns them)."""
    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    assert gc.isenabled()
    bg = start_recorder(redis_url, tmp_path / "gc.xtape", RecordOptions(["s"], count=1))
    r.execute_command("XADD", "s", "*", "f", "v")
    seen: list[bool] = []
    wait_for(lambda: seen.append(gc.isenabled()) is None and not bg.thread.is_alive(), what="the end")
    bg.join()
    assert all(seen) and seen
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
