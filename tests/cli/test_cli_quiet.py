"""``-q`` means one thing on every command (docs/cli.md): it hides what went as expected
and keeps what went wrong. tests/cli/test_cli_rules.py checks the first half (a successful
run says nothing); this table checks the second, a run per command that finds something
wrong, which says it under ``-q`` too."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from support.e2e import invoke, write_recording
from support.paths import ROOT

EXAMPLE = ROOT / "examples" / "matcher"
BUG = ("MAX_QTY = Decimal(1000)", "MAX_QTY = Decimal(2000)")


def _diff(tmp_path: Path, url: str, r: redis.Redis) -> list[object]:
    a = write_recording(tmp_path / "a.xtape", [(b"s", 1_700_000_000_000, 0, [b"qty", b"1"])])
    b = write_recording(tmp_path / "b.xtape", [(b"s", 1_700_000_000_000, 0, [b"qty", b"2"])])
    return ["diff", a, b]


def _test(tmp_path: Path, url: str, r: redis.Redis) -> list[object]:
    folder = tmp_path / "matcher"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.actual.xtape", "__pycache__"))
    service = folder / "service.py"
    service.write_text(service.read_text(encoding="utf-8").replace(*BUG), encoding="utf-8")
    return ["test", folder / "case.yaml"]


def _replay(tmp_path: Path, url: str, r: redis.Redis) -> list[object]:
    r.set("taken", "a string")  # XADD to it: WRONGTYPE
    scenario = tmp_path / "s.yaml"
    scenario.write_text("events:\n  - {stream: taken, payload: {a: '1'}}\n", encoding="utf-8")
    return ["replay", scenario, "--url", url, "--max-speed"]


def _validate(tmp_path: Path, url: str, r: redis.Redis) -> list[object]:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("events: 5\n", encoding="utf-8")
    return ["validate", scenario]


#: A run per command that finds something wrong: its command line, its exit code and
#: what it must still say under -q (in stdout or stderr).
WRONG: dict[str, tuple[Callable[[Path, str, redis.Redis], list[object]], int, str]] = {
    "diff": (_diff, 1, "qty"),
    "test": (_test, 1, "DIFFERS  matcher"),
    "replay": (_replay, 1, "1 entry refused by Redis"),
    "validate": (_validate, 2, "events: must be a list"),
}


@pytest.mark.parametrize("command", WRONG)
def test_quiet_still_says_what_went_wrong(command: str, tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    build, code, said = WRONG[command]
    args = build(tmp_path, redis_url, r)
    loud = invoke(*args)
    quiet = invoke(*args, "-q")
    assert (loud.exit_code, quiet.exit_code) == (code, code), (loud.output, quiet.output)
    assert said in loud.output, loud.output
    assert said in quiet.output, quiet.output
    assert "Traceback" not in quiet.output


def test_diff_quiet_prints_the_differences_it_would_print_and_nothing_when_same(tmp_path: Path) -> None:
    a = write_recording(tmp_path / "a.xtape", [(b"s", 1_700_000_000_000, 0, [b"qty", b"1"])])
    b = write_recording(tmp_path / "b.xtape", [(b"s", 1_700_000_000_000, 0, [b"qty", b"2"])])
    loud, quiet = invoke("diff", a, b, "--no-color"), invoke("diff", a, b, "--no-color", "-q")
    assert quiet.stdout == loud.stdout and "differs" in quiet.stdout
    assert quiet.stderr == ""
    same = invoke("diff", a, a, "-q")
    assert (same.exit_code, same.stdout, same.stderr) == (0, "", "")
