"""``--help`` reads like a tool's: no Python types, no click range notes, choices shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.e2e import invoke, ok
from support.paths import ROOT

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

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `xtape "))
    group = typer.main.get_command(app)
    missing = {
        name: [p.opts[0] for p in command.params if p.param_type_name == "option"
               and p.opts[0] != "--help" and not any(f"`{o}" in table for o in p.opts)]
        for name, command in group.commands.items()  # type: ignore[attr-defined]
    }  # fmt: skip
    assert {name: opts for name, opts in missing.items() if opts} == {}


def _help_records(command: str) -> dict[str, str]:
    """``{option: its help text}`` of a command, as ``--help`` renders it."""
    import typer.main

    from xtape.cli.typer_app import tidy_extras

    cmd = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    ctx = cmd.make_context(command, ["--help"], resilient_parsing=True)
    records = {}
    for param in cmd.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None:
            records[param.opts[0]] = tidy_extras(record[1])  # as Command renders it
    return records


def _library_defaults() -> dict[tuple[str, str], str]:
    """Defaults that --help states in words but the library decides, from the library."""
    from xtape.capture import RecordOptions
    from xtape.diff import DiffRules
    from xtape.diff.live import DEFAULT_IDLE_S
    from xtape.regress import DEFAULT_SETTLE_S
    from xtape.replay import ReplayOptions

    def seconds(s: float) -> str:
        return f"{s:g}s"

    return {
        ("replay", "--speed"): f"{ReplayOptions().pacing.value:g}",
        ("replay", "--loop-interval"): f"{ReplayOptions().interval_ns}",
        ("replay", "--settle"): f"{seconds(DEFAULT_SETTLE_S)} without --expect",
        ("diff", "--window"): f"{DiffRules().window}",
        ("diff", "--max-reported"): f"{DiffRules().max_reported}",
        ("diff", "--idle"): seconds(DEFAULT_IDLE_S),
        ("record", "--scan-interval"): seconds(RecordOptions(["x"]).scan_interval),
    }


@pytest.mark.parametrize("command", COMMANDS)
def test_every_default_help_states_is_the_one_in_force(command: str) -> None:
    import typer.main

    cmd = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    library = _library_defaults()
    for param in cmd.params:
        text = _help_records(command).get(param.opts[0], "")
        said = re.findall(r"\[default: ([^\]]*)\]", text)
        if not said:
            continue
        key = (command, param.opts[0])
        if key in library:
            assert said == [library[key]], (key, text)
        else:  # shown by typer from the parameter itself
            shown = param.default
            if isinstance(shown, bool):  # --sparkline/--no-sparkline: the flag in force
                shown = (param.opts if shown else param.secondary_opts)[0].lstrip("-")
            assert said == [str(shown)], (key, text)


def test_the_command_list_is_never_cut_mid_sentence() -> None:
    text = ok(invoke("--help")).output
    listed = text[text.index("Commands:") :].splitlines()[1:]
    assert len([line for line in listed if line.strip()]) == len(COMMANDS)
    assert not [line for line in listed if line.rstrip().endswith("...")], listed


def test_help_says_what_each_option_really_takes() -> None:
    test_url = _help_records("test")["--url"]
    assert "throwaway redis-server" in test_url and "default: $REDIS_URL" not in test_url
    assert "--scenarios DIR" in ok(invoke("demo", "--help")).output
    plot_help = ok(invoke("plot", "--help")).output
    assert "RECORDING" in plot_help.splitlines()[0] and "folder" in plot_help and "glob" in plot_help
    assert "Replaced if it exists" not in plot_help  # (it is not, without --force)
    for command, option in [("record", "--scan-interval"), ("convert", "--max-delay"), ("convert", "--jitter"),
                            ("replay", "--loop-interval"), ("diff", "--time-tolerance")]:  # fmt: skip
        assert f"{option} D " in ok(invoke(command, "--help")).output.replace("\n", " "), (command, option)


def test_a_speed_of_zero_is_refused_as_not_above_zero() -> None:
    from support.e2e import error_line

    line = error_line(invoke("replay", "-f", "scenarios/smoke-test.yaml", "--dry-run", "--speed", "0"), 2)
    assert line == "xtape: error: --speed must be > 0 (got 0)"
    assert error_line(invoke("demo", "--speed", "0"), 2) == "xtape: error: --speed must be > 0 (got 0)"


def test_diff_html_says_where_it_wrote(tmp_path: Path) -> None:
    sample = ROOT / "recordings" / "sample.xtape"
    result = ok(invoke("diff", sample, sample, "--html", tmp_path / "r.html"))
    assert f"wrote {tmp_path / 'r.html'}: the HTML report" in result.stderr


@pytest.mark.parametrize(
    ("options", "doc"), [("RecordOptions", "docs/recording.md"), ("ReplayOptions", "docs/replay.md")]
)
def test_the_docs_list_every_field_of_the_library_options(options: str, doc: str) -> None:
    import dataclasses

    import xtape

    cls = getattr(xtape, options)  # (the public names: xtape.replay is the function)
    text = (ROOT / doc).read_text(encoding="utf-8")
    missing = [f.name for f in dataclasses.fields(cls) if f"| `{f.name}` |" not in text]
    assert missing == [], missing
