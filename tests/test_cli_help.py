"""``--help`` reads like a tool's: no Python types, no click range notes, choices shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from e2e_support import invoke, ok

from xtape.cli import app
from xtape.units import plural

COMMANDS = sorted(info.name or info.callback.__name__ for info in app.registered_commands if info.callback)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_python_types_or_range_notes(command: str) -> None:
    text = ok(invoke(command, "--help")).output
    assert re.search(r"<[a-z][a-z\[\], ]*>", text) is None, text  # <path>, <list[str]>, <int range>
    assert "x>=" not in text and "x<=" not in text, text
    assert "{" not in text.split("\n\n", 1)[0], text  # usage line: FILE, not {file}
    usage = text.splitlines()[0]
    assert usage.startswith(f"Usage: xtape {command} "), usage
    assert re.search(r"\[[a-z]", usage) is None, usage  # [SOURCE], never [source]


def test_choices_are_shown_and_quiet_says_what_it_hides() -> None:
    replay_help = ok(invoke("replay", "--help")).output
    assert "--clock [id|capture]" in replay_help
    record_help = ok(invoke("record", "--help")).output
    quiet = record_help[record_help.index("-q, --quiet") :]
    assert "progress line" in quiet and "summary" in quiet
    assert "STREAM_OR_GLOB..." in record_help.splitlines()[0]


def test_counts_are_said_in_the_singular_for_one() -> None:
    assert [plural(n, "entry", "entries") for n in (0, 1, 2)] == ["0 entries", "1 entry", "2 entries"]
    assert plural(1, "stream") == "1 stream" and plural(3, "stream") == "3 streams"


def test_one_entry_replayed_is_reported_in_the_singular(tmp_path: object) -> None:
    from pathlib import Path

    scenario = Path(str(tmp_path)) / "one.yaml"
    scenario.write_text("name: one\nevents:\n  - stream: s\n    payload: {a: 1}\n", encoding="utf-8")
    result = ok(invoke("replay", str(scenario), "--dry-run"))
    assert "scheduled 1 event to 1 stream " in result.stderr, result.stderr


def test_the_readme_command_table_lists_every_option_of_every_command() -> None:
    import typer.main

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `xtape "))
    group = typer.main.get_command(app)
    missing = {
        name: [p.opts[0] for p in command.params if p.param_type_name == "option"
               and p.opts[0] != "--help" and not any(f"`{o}" in table for o in p.opts)]
        for name, command in group.commands.items()  # type: ignore[attr-defined]
    }  # fmt: skip
    assert {name: opts for name, opts in missing.items() if opts} == {}
