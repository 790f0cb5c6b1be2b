"""What a normal (non-editable) install gets: the example scenarios as package data, the
same files as the repository's scenarios/, and a demo that runs from a built wheel."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from support.e2e import run_ok, wheel_in_fresh_venv
from support.paths import ROOT

SHIPPED = ROOT / "xtape" / "data" / "scenarios"


def test_the_repository_scenarios_are_the_shipped_ones_not_a_copy() -> None:
    # one source: scenarios/ is a link to the package data, so the two cannot drift
    assert (ROOT / "scenarios").resolve() == SHIPPED.resolve()
    assert sorted(p.name for p in SHIPPED.glob("*.yaml"))  # and it holds the examples


@pytest.mark.slow
def test_demo_runs_from_a_wheel_installed_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    python, purelib = wheel_in_fresh_venv(tmp_path)

    where = run_ok(python, "-c", "import xtape; print(xtape.__file__)", cwd=tmp_path).stdout
    assert where.startswith(str(purelib)), where
    # the wheel carries the compiled XADD packer, built from source here
    packer = run_ok(python, "-c", "import xtape._speedups as s; print(s.__file__)", cwd=tmp_path).stdout
    assert packer.startswith(str(purelib)) and packer.strip().endswith(".so"), packer
    run_ok(sys.executable, "-m", "pip", "--python", python, "check", "--disable-pip-version-check")

    demo = run_ok(python.with_name("xtape"), "demo", "--speed", "20", cwd=tmp_path)

    assert "streams match byte for byte" in demo.stdout
    assert "demo done" in demo.stdout


def test_building_the_package_leaves_nothing_in_the_source_tree(tmp_path: Path) -> None:
    import shutil

    tree = tmp_path / "src"
    tree.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "xtape", tree / "xtape", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    before = sorted(p.relative_to(tree) for p in tree.rglob("*"))

    run_ok(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
           "--disable-pip-version-check", "-w", tmp_path / "dist", tree, cwd=tmp_path, timeout=300)  # fmt: skip

    assert sorted(p.relative_to(tree) for p in tree.rglob("*")) == before  # no build/, no *.egg-info
    assert [p.name.endswith(".whl") for p in (tmp_path / "dist").iterdir()] == [True]
