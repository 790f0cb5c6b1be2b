"""Without the compiled XADD packer (no C compiler at install time) xtape still works, and
says so: ``xtape --version`` tells whether the packer is compiled, and ``replay
--max-speed`` on the fallback prints one note with the install hint. The fallback is made
by blocking the import of ``xtape._speedups`` in a subprocess (as a missing .so does)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support.paths import ROOT

SMOKE = ROOT / "scenarios" / "smoke-test.yaml"


def _xtape(*args: str, compiled: bool) -> subprocess.CompletedProcess[str]:
    block = "" if compiled else "sys.modules['xtape._speedups'] = None  # import fails\n"
    code = f"import sys\n{block}from xtape.cli import main\nsys.argv = ['xtape', *sys.argv[1:]]\nmain()\n"
    return subprocess.run(
        # (not run from the checkout's root, where '' on sys.path would pick its xtape/)
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, check=False,
        cwd=ROOT / "scenarios",
    )  # fmt: skip


def test_version_says_the_packer_is_compiled() -> None:
    pytest.importorskip("xtape._speedups", reason="this install has no compiled packer")
    done = _xtape("--version", compiled=True)
    assert done.returncode == 0
    assert done.stdout.strip().endswith("(compiled XADD packer: yes)")


def test_version_says_the_packer_is_not_compiled_on_the_fallback() -> None:
    done = _xtape("--version", compiled=False)
    assert done.returncode == 0
    assert "(compiled XADD packer: no; for a faster --max-speed, install a C compiler and reinstall xtape)" in done.stdout


def test_max_speed_replay_on_the_fallback_prints_one_note_with_the_install_hint(redis_url: str) -> None:
    done = _xtape("replay", str(SMOKE), "--max-speed", "--url", redis_url, compiled=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("published 5 events to 3 streams")
    notes = [line for line in done.stderr.splitlines() if "compiled XADD packer" in line]
    assert len(notes) == 1, done.stderr
    assert notes[0].startswith("xtape: note: the compiled XADD packer is not installed")
    assert "apt-get install gcc python3-dev" in notes[0] and "reinstall xtape" in notes[0]


@pytest.mark.parametrize("args", [("--speed", "100"), ("--max-speed",)], ids=["paced", "max-speed-compiled"])
def test_no_note_where_the_packer_does_not_matter_or_is_there(args: tuple[str, ...], redis_url: str) -> None:
    compiled = args == ("--max-speed",)
    if compiled:
        pytest.importorskip("xtape._speedups", reason="this install has no compiled packer")
    done = _xtape("replay", str(SMOKE), *args, "--url", redis_url, compiled=compiled)
    assert done.returncode == 0, done.stderr
    assert "packer" not in done.stderr
