"""``xtape demo --scenarios DIR`` names a folder: the two example scenarios are played
from it; a file, a missing folder or a folder without them is invalid input (exit 2),
refused before any redis-server starts."""

from __future__ import annotations

import shutil
from pathlib import Path

from support.e2e import error_line, invoke
from support.paths import ROOT

EXAMPLES = ROOT / "scenarios"
PLAYED = ("trade-and-liquidate.yaml", "high-frequency-trading.yaml")


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    given = tmp_path / "trade-and-liquidate.yaml"
    shutil.copyfile(EXAMPLES / PLAYED[0], given)
    line = error_line(invoke("demo", "--scenarios", given), 2)
    assert line == f"xtape: error: --scenarios {given}: not a folder (give the folder that holds the scenarios)"


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    line = error_line(invoke("demo", "--scenarios", tmp_path / "nope"), 2)
    assert line == f"xtape: error: --scenarios {tmp_path / 'nope'}: no such folder (give the folder that holds the scenarios)"


def test_a_folder_without_the_scenarios_is_invalid_input_naming_what_is_missing(tmp_path: Path) -> None:
    shutil.copyfile(EXAMPLES / PLAYED[1], tmp_path / PLAYED[1])
    result = invoke("demo", "--scenarios", tmp_path)
    line = error_line(result, 2)  # (1 before: a runtime failure, as if xtape's own files were lost)
    assert line == (
        f"xtape: error: --scenarios {tmp_path}: no trade-and-liquidate.yaml in it "
        "(the demo plays trade-and-liquidate.yaml and high-frequency-trading.yaml from the folder)"
    )
    assert result.stdout == ""  # refused before a redis-server started


def test_the_scenarios_are_played_from_the_folder(tmp_path: Path) -> None:
    shutil.copyfile(EXAMPLES / PLAYED[1], tmp_path / PLAYED[1])
    (tmp_path / PLAYED[0]).write_text("events: 5\n", encoding="utf-8")  # the folder's own, broken
    result = invoke("demo", "--scenarios", tmp_path)
    assert result.exit_code == 2, result.output
    assert "playing trade-and-liquidate.yaml" in result.stdout
    assert result.stderr == f"xtape: error: {tmp_path / PLAYED[0]}:1: events: must be a list (got 5)\n"
