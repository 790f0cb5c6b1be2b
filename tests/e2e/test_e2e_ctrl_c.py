"""Ctrl-C at a terminal, at several moments of ``xtape demo``, ``xtape test`` and ``replay
--capture``: the terminal sends SIGINT to its whole foreground process group, so each
test starts xtape in a session of its own and signals that group (``os.killpg``).

xtape must stop within a bound (2 s is the aim; the tests allow more on a loaded
machine, and kill a hung process), exit 130, and leave no process it started and no
temporary directory behind. The servers and services xtape starts run in process groups
of their own, so the Ctrl-C reaches xtape only, which then stops them in order."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import redis
from support.e2e import XTAPE
from support.paths import ROOT

from xtape.server import RedisServer

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "matcher"
SMOKE = ROOT / "scenarios" / "smoke-test.yaml"
#: How long xtape may take to exit after a Ctrl-C here (the aim is 2 s; seen: 0.3 s).
EXIT_BOUND_S = 4.0


def _default_sigint() -> None:
    # Whatever pytest was started with (a job started with '&' ignores SIGINT, and its
    # children inherit that), xtape starts here as from an interactive shell.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Run:
    returncode: int
    output: str
    exit_s: float
    #: Every process xtape started (its descendants) still running after it exited.
    leftovers: list[str]
    #: What xtape left in its temporary directory ($TMPDIR).
    temp_left: list[str]


def ctrl_c(
    args: list[str],
    when: Callable[[str, list[psutil.Process]], bool],
    tmp_path: Path,
    *,
    twice: bool = False,
    then: Callable[[], bool] | None = None,
    timeout: float = 120.0,
) -> Run:
    """Run ``xtape ARGS``; once ``when(output, descendants)`` holds, Ctrl-C (twice with
    ``twice``, again once ``then()`` holds), and see how it ends (the time is counted
    from the last Ctrl-C)."""
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    log = tmp_path / "xtape.log"
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
    seen: dict[int, psutil.Process] = {}
    with log.open("wb") as out:
        proc = psutil.Popen(
            [XTAPE, *args], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=tmp_path, start_new_session=True, preexec_fn=_default_sigint,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                for child in proc.children(recursive=True):
                    seen.setdefault(child.pid, child)
            except psutil.NoSuchProcess:
                pass
            text = log.read_text(errors="replace")
            if when(text, list(seen.values())):
                break
            if proc.poll() is not None:
                raise AssertionError(f"xtape ended before the moment to interrupt it:\n{text[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the moment to interrupt never came:\n{text[-3000:]}")
            time.sleep(0.01)
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        if twice:
            time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGINT)
        if then is not None:
            while not then() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            sent = time.monotonic()
            os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=EXIT_BOUND_S)
        exit_s = time.monotonic() - sent
    finally:
        hung = proc.poll() is None
        if hung:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # A process killed a moment ago may take a moment to be gone.
    give_up = time.monotonic() + 5
    while (left := _running(seen.values())) and time.monotonic() < give_up:
        time.sleep(0.05)
    for child in left:
        child.kill()
    return Run(
        -999 if hung else proc.returncode,
        log.read_text(errors="replace"),
        exit_s,
        [" ".join(c.cmdline()[:3]) or c.name() for c in left],
        sorted(p.name for p in tmpdir.iterdir()),
    )


def _running(processes: object) -> list[psutil.Process]:
    alive = []
    for p in processes:  # type: ignore[attr-defined]
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.NoSuchProcess:
            continue
    return alive


def _said(pattern: str) -> Callable[[str, list[psutil.Process]], bool]:
    return lambda text, _: re.search(pattern, text) is not None


def _runs(word: str) -> Callable[[str, list[psutil.Process]], bool]:
    """Once a process whose command line holds ``word`` runs (redis-server, service.py)."""

    def check(_: str, procs: list[psutil.Process]) -> bool:
        for p in _running(procs):
            try:
                if word in " ".join(p.cmdline()) or p.name() == word:
                    return True
            except psutil.Error:
                continue
        return False

    return check


def _assert_stopped_cleanly(run: Run) -> None:
    assert run.returncode == 130, f"exit {run.returncode} after {run.exit_s:.1f} s:\n{run.output[-3000:]}"
    assert run.exit_s < EXIT_BOUND_S
    assert "Traceback" not in run.output, run.output[-3000:]
    assert "cannot reach Redis" not in run.output and "lost the connection" not in run.output, run.output[-3000:]
    assert run.leftovers == []
    assert run.temp_left == []


# ------------------------------------------------------------------------------ demo


@pytest.mark.parametrize(
    "when",
    [
        _runs("redis-server"),
        _said(r"production: playing trade-and-liquidate"),
        _said(r"production: playing high-frequency"),
        _said(r"5\. replaying"),
        _runs("service.py"),
        _said(r"seeded bug \("),
    ],
    ids=["server-started", "first-production-replay", "second-production-replay", "final-replay",
         "regression-service-running", "seeded-bug-case"],
)  # fmt: skip
def test_ctrl_c_during_the_demo_stops_it_and_cleans_up(
    when: Callable[[str, list[psutil.Process]], bool], tmp_path: Path
) -> None:
    run = ctrl_c(["demo"], when, tmp_path)
    _assert_stopped_cleanly(run)
    assert run.output.rstrip().endswith("xtape: interrupted: the redis-server is stopped and its files removed")


def test_ctrl_c_twice_during_the_demo_exits_130_at_once(tmp_path: Path) -> None:
    run = ctrl_c(["demo"], _said(r"production: playing trade-and-liquidate"), tmp_path, twice=True)
    _assert_stopped_cleanly(run)


# ------------------------------------------------------------------------------ xtape test


def _case(tmp_path: Path, *, settle: str = "500ms", service: str | None = None) -> Path:
    folder = tmp_path / "matcher"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.actual.xtape", "__pycache__"))
    case = folder / "case.yaml"
    text = case.read_text(encoding="utf-8").replace("settle: 500ms", f"settle: {settle}")
    text = text.replace("timeout: 30s", "timeout: 120s")
    if service is not None:
        (folder / "slow_start.py").write_text(service, encoding="utf-8")
        text = text.replace('command: ["{python}", service.py]', 'command: ["{python}", slow_start.py]')
    case.write_text(text, encoding="utf-8")
    return case


def test_ctrl_c_while_xtape_test_waits_for_the_service_to_get_ready(tmp_path: Path) -> None:
    # A service that takes its time before it creates its consumer group.
    case = _case(tmp_path, service="import time\nprint('warming up', flush=True)\ntime.sleep(60)\n")
    run = ctrl_c(["test", str(case)], _runs("slow_start.py"), tmp_path)
    _assert_stopped_cleanly(run)


def test_ctrl_c_while_xtape_test_captures_the_outputs(tmp_path: Path) -> None:
    case = _case(tmp_path, settle="60s")
    # the service has answered: the capture is settling
    run = ctrl_c(["test", str(case)], _runs("service.py"), tmp_path)
    _assert_stopped_cleanly(run)
    assert "ERROR    matcher" in run.output and "interrupted" in run.output


def test_a_second_ctrl_c_cuts_the_grace_of_a_service_that_ignores_sigterm(tmp_path: Path) -> None:
    up, termed = tmp_path / "up", tmp_path / "got-sigterm"
    service = (
        "import signal, time\n"
        f"signal.signal(signal.SIGTERM, lambda *_: open({str(termed)!r}, 'w').close())\n"
        f"open({str(up)!r}, 'w').close()\n"
        "time.sleep(300)\n"
    )
    case = _case(tmp_path, service=service)
    case.write_text(case.read_text(encoding="utf-8").replace("grace: 5s", "grace: 60s"), encoding="utf-8")
    # the first Ctrl-C: xtape stops the service, which ignores it; the second: no more grace
    run = ctrl_c(["test", str(case)], lambda *_: up.exists(), tmp_path, then=termed.exists)
    _assert_stopped_cleanly(run)


def test_ctrl_c_during_the_second_case_of_xtape_test(tmp_path: Path) -> None:
    first = _case(tmp_path)
    (tmp_path / "second").mkdir()
    second = _case(tmp_path / "second", settle="60s")
    run = ctrl_c(["test", str(first), str(second)], _said(r"same     matcher"), tmp_path)
    _assert_stopped_cleanly(run)
    assert run.output.startswith("same     matcher")


# ------------------------------------------------------------------------------ replay


@pytest.mark.parametrize("moment", ["replaying", "settling"])
def test_ctrl_c_during_replay_capture(moment: str, redis_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out.xtape"
    args = ["replay", str(SMOKE), "--url", redis_url, "--capture", "order.*", "-o", str(out), "--settle", "60s"]
    # replaying: the smoke test's 5 events over some minutes, interrupted after the first;
    # settling: all 5 published, the capture waits for its outputs to be quiet for 60 s.
    if moment == "replaying":
        args += ["--speed", "0.01"]
    wanted = 1 if moment == "replaying" else 5

    def when(_text: str, _procs: list[psutil.Process]) -> bool:
        return _xlen(redis_url) >= wanted
    run = ctrl_c(args, when, tmp_path)
    _assert_stopped_cleanly(run)
    assert "interrupted" in run.output or "stopped: stopped" in run.output


def _xlen(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return sum(client.xlen(k) for k in client.scan_iter(_type="stream"))
    finally:
        client.close()


@pytest.mark.parametrize("twice", [False, True], ids=["once", "twice"])
def test_ctrl_c_while_a_reconnect_is_pending_exits_130_at_once(twice: bool, tmp_path: Path) -> None:
    with RedisServer() as target:
        args = ["replay", str(SMOKE), "--url", target.url, "--loop", "--loop-interval", "50"]

        def lost(text: str, _: list[psutil.Process]) -> bool:
            if "reconnecting" in text:
                return True
            if target.proc is not None and _xlen(target.url) > 0:
                target.stop()  # the server goes away mid-replay
            return False

        run = ctrl_c(args, lost, tmp_path, twice=twice)
    _assert_stopped_cleanly_after_a_loss(run)


def _assert_stopped_cleanly_after_a_loss(run: Run) -> None:
    assert run.returncode == 130, run.output[-3000:]
    assert run.exit_s < EXIT_BOUND_S
    assert "Traceback" not in run.output
    assert run.leftovers == [] and run.temp_left == []
