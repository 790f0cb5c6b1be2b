"""What a normal (non-editable) install gets: the example scenarios as package data, the
same files as the repository's scenarios/, and a demo that runs from a built wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "xtape" / "data" / "scenarios"


def test_the_repository_scenarios_are_the_shipped_ones_not_a_copy() -> None:
    # one source: scenarios/ is a link to the package data, so the two cannot drift
    assert (ROOT / "scenarios").resolve() == SHIPPED.resolve()
    assert sorted(p.name for p in SHIPPED.glob("*.yaml"))  # and it holds the examples


def _run(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


@pytest.mark.slow
def test_demo_runs_from_a_wheel_installed_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    # Build from a copy, so nothing (build/, *.egg-info) lands in the working tree.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "xtape", src / "xtape", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "-w", dist, src)  # fmt: skip
    [wheel] = dist.glob("xtape-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps",
         "--disable-pip-version-check", "-q", wheel)  # fmt: skip
    # xtape's dependencies come from this test run's environment, after the venv's own
    # site-packages (a path line in a .pth file: that directory's own .pth files, such
    # as an editable install of xtape, are not run).
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (purelib / "zz_xtape_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = _run(python, "-c", "import xtape; print(xtape.__file__)", cwd=tmp_path).stdout
    assert where.startswith(str(purelib)), where
    # the wheel carries the compiled XADD packer, built from source here
    packer = _run(python, "-c", "import xtape._speedups as s; print(s.__file__)", cwd=tmp_path).stdout
    assert packer.startswith(str(purelib)) and packer.strip().endswith(".so"), packer
    _run(sys.executable, "-m", "pip", "--python", python, "check", "--disable-pip-version-check")

    demo = _run(venv / "bin" / "xtape", "demo", "--speed", "20", cwd=tmp_path)

    assert "streams match byte for byte" in demo.stdout
    assert "demo done" in demo.stdout
