"""``scripts/setup.sh`` (run by ``scripts/test.sh`` and ``scripts/demo.sh`` on every call)
installs xtape into .venv only when what the install reads changed (pyproject.toml,
setup.py, the C packer), keeps the build's noise in a log shown only on failure, and so
lets a second run start at once. Tested on a copy of the script in a scratch tree whose
``.venv/bin/python`` records the pip calls instead of making them (no network, no build)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.paths import ROOT

FAKE_PYTHON = f"""#!/bin/sh
# pip: recorded, with the noise a real build prints; anything else: the real Python.
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
    echo "$*" >> "$(dirname "$0")/../../pip-calls.log"
    echo "running build_ext: a setuptools banner"
    echo "warning: a compiler warning" >&2
    exit "${{FAKE_PIP_EXIT:-0}}"
fi
exec {sys.executable} "$@"
"""


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    for needed in ("redis-server", "redis-benchmark", "openssl"):
        if shutil.which(needed) is None:
            pytest.skip(f"{needed} is missing: setup.sh would install it with apt-get")
    root = tmp_path / "clone"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", root / "scripts" / "setup.sh")
    (root / "xtape").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'xtape'\n", encoding="utf-8")
    (root / "setup.py").write_text("# setup\n", encoding="utf-8")
    (root / "xtape" / "_speedups.c").write_text("/* packer */\n", encoding="utf-8")
    _executable(root / ".venv" / "bin" / "python", FAKE_PYTHON)
    # Whatever is missing here must not be installed by a test.
    _executable(tmp_path / "bin" / "apt-get", "#!/bin/sh\necho 'apt-get was called' >&2\nexit 1\n")
    return root


def _setup(root: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "scripts/setup.sh"], cwd=root, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PATH": f"{root.parent / 'bin'}:{os.environ['PATH']}", "PYTHON": sys.executable, **env},
    )  # fmt: skip
    return done, time.monotonic() - started


def _pip_calls(root: Path) -> list[str]:
    log = root / "pip-calls.log"
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return calls


def test_a_second_run_installs_nothing_prints_nothing_and_is_quick(tree: Path) -> None:
    first, _ = _setup(tree)
    assert first.returncode == 0, first.stderr
    assert _pip_calls(tree) == [
        "-m pip install -q --disable-pip-version-check --upgrade pip",
        "-m pip install -q --disable-pip-version-check -e .[test]",
    ]
    # the build's noise is in the log, not on the terminal
    assert first.stdout == ""
    assert first.stderr.splitlines() == ["setup: installing xtape and its test tools into .venv (log: .venv/install.log)"]
    assert "a setuptools banner" in (tree / ".venv" / "install.log").read_text(encoding="utf-8")

    second, took = _setup(tree)
    assert second.returncode == 0, second.stderr
    assert _pip_calls(tree) == []
    assert second.stdout == "" and second.stderr == ""
    assert took < 5.0


@pytest.mark.parametrize("changed", ["pyproject.toml", "setup.py", "xtape/_speedups.c"])
def test_a_change_to_what_the_install_reads_installs_again(tree: Path, changed: str) -> None:
    assert _setup(tree)[0].returncode == 0
    _pip_calls(tree)
    with (tree / changed).open("a", encoding="utf-8") as fh:
        fh.write("\n# changed\n")

    again, _ = _setup(tree)

    assert again.returncode == 0, again.stderr
    assert any("-e .[test]" in call for call in _pip_calls(tree))


def test_a_failed_install_shows_its_output_and_is_tried_again_next_time(tree: Path) -> None:
    failed, _ = _setup(tree, FAKE_PIP_EXIT="1")
    assert failed.returncode == 1
    assert "a setuptools banner" in failed.stderr and "a compiler warning" in failed.stderr
    assert failed.stderr.rstrip().endswith("setup: installing xtape failed (the output above is in .venv/install.log)")
    assert not (tree / ".venv" / ".xtape-install-stamp").exists()
    _pip_calls(tree)

    again, _ = _setup(tree)

    assert again.returncode == 0, again.stderr
    assert len(_pip_calls(tree)) == 2
