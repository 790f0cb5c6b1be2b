"""The pytest plugin: registered by installing xtape (pytest11 entry point), its fixtures
run the matcher example's test, fail with the readable diff, and write a missing golden
with --xtape-update."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.e2e import run_ok, wheel_in_fresh_venv
from support.paths import ROOT

EXAMPLE = ROOT / "examples" / "matcher"
BUG = ("MAX_QTY = Decimal(1000)", "MAX_QTY = Decimal(2000)")


def _pytest(python: Path | str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest on the example's test file, in a folder of its own (no project config)."""
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_matcher.py", *args],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    folder = tmp_path / "matcher"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.actual.xtape", "__pycache__"))
    return folder


def test_the_example_test_passes_through_the_plugin(example: Path) -> None:
    done = _pytest(sys.executable, example)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_a_difference_fails_the_test_with_the_readable_diff(example: Path) -> None:
    service = example / "service.py"
    service.write_text(service.read_text(encoding="utf-8").replace(*BUG), encoding="utf-8")

    done = _pytest(sys.executable, example)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "order.rejected: 2 differences" in done.stdout
    assert 'detail: "qty 5000 above the limit of 1000" -> "qty 5000 above the limit of 2000"' in done.stdout
    assert "--- service output" in done.stdout  # printed by xtape.service, shown on failure


def test_a_missing_golden_is_written_only_with_xtape_update(example: Path) -> None:
    golden = example / "golden.xtape"
    golden.unlink()

    missing = _pytest(sys.executable, example)
    assert missing.returncode == 1
    assert "golden.xtape does not exist yet: run pytest --xtape-update" in missing.stdout
    assert not golden.exists()

    update = _pytest(sys.executable, example, "--xtape-update")
    assert update.returncode == 0, update.stdout + update.stderr
    assert golden.is_file()

    again = _pytest(sys.executable, example)
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.slow
def test_the_plugin_works_from_a_wheel_installed_in_a_fresh_virtualenv(
    tmp_path: Path, example: Path
) -> None:
    python, purelib = wheel_in_fresh_venv(tmp_path, timeout=180)
    where = run_ok(python, "-c", "import xtape.pytest_plugin as p; print(p.__file__)", cwd=tmp_path, timeout=180).stdout
    assert where.startswith(str(purelib)), where
    # The example shipped in the wheel is the one the test runs.
    shipped = purelib / "xtape" / "data" / "examples" / "matcher" / "test_matcher.py"
    assert shipped.read_bytes() == (example / "test_matcher.py").read_bytes()

    done = _pytest(python, example)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    plugins = subprocess.run(
        [str(python), "-c", "from importlib.metadata import entry_points; "
         "print([e.value for e in entry_points(group='pytest11') if e.name == 'xtape'])"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "xtape.pytest_plugin" in plugins
