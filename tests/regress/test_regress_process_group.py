"""When a case ends, nothing of the service is left: SIGTERM to its process group, SIGKILL
to the group after the grace (always), and a service that needed the SIGKILL is reported,
through ``xtape test`` and through the pytest plugin."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from support.e2e import wait_for
from support.paths import ROOT
from typer.testing import CliRunner

from xtape.children import group_members
from xtape.cli import app
from xtape.regress import Service

EXAMPLE = ROOT / "examples" / "matcher"

#: A process that ignores SIGTERM and writes its pid into the file named by argv[1].
STUBBORN = (
    "import os, signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "with open(sys.argv[1] + '.tmp', 'w') as fh: fh.write(str(os.getpid()))\n"
    "os.replace(sys.argv[1] + '.tmp', sys.argv[1])\n"
    "time.sleep(120)\n"
)


def _wrapper(folder: Path, pidfile: Path, then: str) -> Path:
    """A service that starts a SIGTERM-ignoring child in its own process group (as a
    framework's worker pool or a forgotten helper does), then runs ``then``."""
    script = folder / "wrapper.py"
    script.write_text(
        "import runpy, subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', {STUBBORN!r}, {str(pidfile)!r}])\n"
        f"{then}\n",
        encoding="utf-8",
    )
    return script


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture()
def stray() -> Iterator[list[int]]:
    """Pids a test expects gone: killed afterwards if a test failed before they were."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if _running(pid):
            os.kill(pid, 9)


def test_xtape_test_leaves_no_process_of_the_services_group_and_reports_the_kill(
    tmp_path: Path, stray: list[int]
) -> None:
    folder = tmp_path / "matcher"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.actual.xtape", "__pycache__"))
    case = folder / "case.yaml"
    case.write_text(case.read_text(encoding="utf-8").replace("grace: 5s", "grace: 1s"), encoding="utf-8")
    pidfile = tmp_path / "child.pid"
    wrapper = _wrapper(folder, pidfile, f"runpy.run_path({str(folder / 'service.py')!r}, run_name='__main__')")

    done = CliRunner().invoke(app, ["test", str(case), "--", sys.executable, str(wrapper)])

    child = int(pidfile.read_text())
    stray.append(child)
    assert done.exit_code == 0, done.output
    wait_for(lambda: not _running(child), what="the service's child to be gone")
    assert done.stdout.startswith("same     matcher")
    assert f"killed after its 1 s grace: a process the service started (pid {child}) ignored SIGTERM" in done.stdout


def test_the_pytest_plugin_leaves_no_process_of_the_services_group(tmp_path: Path, stray: list[int]) -> None:
    pidfile = tmp_path / "child.pid"
    _wrapper(tmp_path, pidfile, "import time; time.sleep(120)")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_stubborn.py").write_text(
        "import os, sys, time\n"
        "def test_service(xtape):\n"
        "    with xtape.service([sys.executable, 'wrapper.py'], grace=0.5) as svc:\n"
        f"        while not os.path.exists({str(pidfile)!r}):\n"
        "            time.sleep(0.02)\n"
        "    assert svc.killed\n"
        "    print('NOTE', svc.stop_note)\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "test_stubborn.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    child = int(pidfile.read_text())
    stray.append(child)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"NOTE killed after its 0.5 s grace: a process the service started (pid {child}) ignored SIGTERM" in done.stdout
    assert f"xtape: killed after its 0.5 s grace: a process the service started (pid {child})" in done.stdout
    wait_for(lambda: not _running(child), what="the service's child to be gone")


def test_a_service_that_stops_on_sigterm_is_not_reported(redis_url: str, tmp_path: Path) -> None:
    service = Service([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"], redis_url)
    service.start()
    try:
        wait_for(lambda: "up" in service.output, what="the service to start")
        pgid = service.proc.pid if service.proc else 0
        service.stop()
        assert not service.killed and service.stop_note == ""
        assert group_members(pgid) == []
    finally:
        service.close()


def test_the_leader_ignoring_sigterm_is_named_as_the_service(redis_url: str, tmp_path: Path) -> None:
    pidfile = tmp_path / "leader.pid"
    service = Service([sys.executable, "-c", STUBBORN, str(pidfile)], redis_url, grace=0.3)
    service.start()
    try:
        wait_for(pidfile.exists, what="the service to start")
        service.stop()
        assert service.killed and service.returncode == -9
        assert service.stop_note == "killed after its 0.3 s grace: the service ignored SIGTERM"
    finally:
        service.close()
