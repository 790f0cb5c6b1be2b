"""Stopping long-running commands from outside, as a user or a supervisor does: Ctrl-C
(exit 130) or SIGTERM (exit 143) ends a looping replay with its report, also when it
runs in the background with SIGINT ignored; SIGTERM ends a recording with a complete
file, and ``xtape demo`` leaves no server behind."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import redis
from support.e2e import XTAPE, invoke, ok, streams, wait_for, xadd
from support.paths import ROOT

from xtape.recording import Recording

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

SMOKE = ROOT / "scenarios" / "smoke-test.yaml"


def stop(proc: subprocess.Popen[str], sig: int, timeout: float = 20.0) -> tuple[str, str]:
    """Send ``sig`` and collect the output; the process is killed if it does not end."""
    try:
        proc.send_signal(sig)
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("as_json", "sig"),
    [(True, signal.SIGINT), (False, signal.SIGINT), (True, signal.SIGTERM)],
    ids=["json-SIGINT", "text-SIGINT", "json-SIGTERM"],
)
def test_looping_replay_stopped_by_a_signal_exits_128_plus_signal_with_a_report_of_several_passes(
    as_json: bool, sig: int, redis_url: str, r: redis.Redis
) -> None:
    args = [XTAPE, "replay", str(SMOKE), "--loop", "--loop-interval", "50", "--url", redis_url]
    proc = subprocess.Popen(
        [*args, "--json"] if as_json else args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # smoke-test.yaml ends each pass with one order.request: two of them, two passes.
        wait_for(
            lambda: r.xlen(b"order.request") >= 2 or proc.poll() is not None, what="two passes"
        )
    finally:
        out, err = stop(proc, sig)

    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    in_redis = sum(r.xlen(s) for s in streams(r))
    if as_json:
        report = json.loads(out)
        assert report["iterations"] > 1
        assert report["interrupted"] is True
        assert report["errors"] == 0
        assert report["published"] == in_redis
    else:
        lines = out.splitlines()
        assert lines[0].startswith(f"published {in_redis} events to 3 streams in ")
        passes = int(lines[0].rsplit(", ", 1)[1].split()[0])
        assert passes > 1
        assert "interrupted: stopped early by Ctrl-C or SIGTERM" in lines


def _ignore_sigint() -> None:
    """What a non-interactive shell does for a job started with ``&``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_background_replay_with_sigint_ignored_stops_on_sigterm_with_its_report(
    redis_url: str, r: redis.Redis
) -> None:
    proc = subprocess.Popen(
        [XTAPE, "replay", str(SMOKE), "--loop", "--url", redis_url, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint,
    )
    try:
        wait_for(
            lambda: r.xlen(b"order.request") >= 2 or proc.poll() is not None, what="two passes"
        )
    finally:
        out, err = stop(proc, signal.SIGTERM)

    assert proc.returncode == 143, err
    report = json.loads(out)
    assert report["interrupted"] is True
    assert report["published"] == sum(r.xlen(s) for s in streams(r))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_recorder_stopped_by_a_signal_exits_0_with_a_complete_file(
    sig: int, tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    xadd(r, b"live:a", [b"before", b"start"])
    path = tmp_path / "live.xtape"
    proc = subprocess.Popen(
        [XTAPE, "record", "live:*", "-o", str(path), "--url", redis_url, "--scan-interval", "50ms"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The file appears once the streams present are resolved: from then on, "now".
        wait_for(
            lambda: (path.exists() and path.stat().st_size > 0) or proc.poll() is not None,
            what="the recorder to start",
        )
        for i in range(3):
            xadd(r, b"live:a", [b"i", str(i).encode()])
        xadd(r, b"live:new", [b"created", b"after start"])
        wait_for(
            lambda: proc.poll() is not None or sum(1 for _ in Recording(path).entries()) >= 4,
            what="four entries in the file",
        )
    finally:
        _, err = stop(proc, sig)

    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert err.startswith(f"recorded 4 entries from 2 streams into {path} ")
    info = ok(invoke("info", path))
    assert "complete:  yes" in info.stdout
    assert "truncated" not in info.stdout
    recorded = [(e.stream, e.fields) for e in Recording(path).entries()]
    assert recorded == [
        (b"live:a", ((b"i", b"0"),)),
        (b"live:a", ((b"i", b"1"),)),
        (b"live:a", ((b"i", b"2"),)),
        (b"live:new", ((b"created", b"after start"),)),
    ]


def _redis_children(proc: psutil.Process) -> dict[int, tuple[float, str]]:
    """redis-server processes under ``proc``: pid -> (start time, working directory).

    redis-server rewrites its command line, but it works in its ``--dir``."""
    found = {}
    try:
        children = proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return found
    for child in children:
        try:
            if child.name() == "redis-server":
                found[child.pid] = (child.create_time(), child.cwd())
        except psutil.NoSuchProcess:
            continue
    return found


def _alive(pid: int, created: float) -> bool:
    try:
        process = psutil.Process(pid)
        return process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_demo_matches_byte_for_byte_and_leaves_no_server_behind(tmp_path: Path) -> None:
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        proc = psutil.Popen([XTAPE, "demo"], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
        servers: dict[int, tuple[float, str]] = {}
        deadline = time.monotonic() + 60
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                servers.update(_redis_children(proc))
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                for pid, (created, _) in servers.items():
                    if _alive(pid, created):
                        psutil.Process(pid).kill()
                proc.kill()
            proc.wait()
    text = log.read_text()

    assert proc.returncode == 0, text[-2000:]
    assert "match byte for byte" in text
    assert "Traceback" not in text
    assert servers, "the demo never ran a redis-server"
    assert [pid for pid, (created, _) in servers.items() if _alive(pid, created)] == []
    for _, data_dir in servers.values():
        assert "xtape" in data_dir
        assert not Path(data_dir).exists()
