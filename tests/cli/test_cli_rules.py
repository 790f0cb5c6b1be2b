"""docs/cli.md's rules, held over every command by tables: files xtape writes (checked
before any work, never over an input, one --force rule, mode 0600, never through a
symlink), exit codes, -q, units, ``-`` and a closed standard output."""

from __future__ import annotations

import os
import pty
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from support.e2e import UNREACHABLE_URL, XTAPE, error_line, invoke, ok, write_recording
from support.paths import ROOT

from xtape.cli import app

SAMPLE = ROOT / "recordings" / "sample.xtape"
SMOKE = ROOT / "scenarios" / "smoke-test.yaml"
MATCHER_CASE = ROOT / "examples" / "matcher" / "case.yaml"

ALL_COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]

#: Stand-ins in the argument tables: the input recording, a case file, the output.
REC, CASE, OUT = "{rec}", "{case}", "{out}"
#: The JSON lines `xtape cat` writes, the input of `import`.
JSONL = "{jsonl}"

#: Every file a command writes: the command line with OUT for it (in a row's own
#: words), the output's suffix, and whether it reads an input it must not overwrite.
WRITERS: dict[str, tuple[list[str], str]] = {
    "record -o": (["record", "s", "-o", OUT, "--url", UNREACHABLE_URL, "--count", "1"], ".xtape"),
    "convert -o": (["convert", REC, "-o", OUT], ".yaml"),
    "merge -o": (["merge", REC, "-o", OUT], ".xtape"),
    "infer -o": (["infer", REC, "-o", OUT], ".yaml"),
    "plot -o": (["plot", REC, "-o", OUT], ".svg"),
    "diff --html": (["diff", REC, REC, "--html", OUT], ".html"),
    "diff --save-actual": (["diff", REC, "--url", UNREACHABLE_URL, "--save-actual", OUT], ".xtape"),
    "test --junit": (["test", CASE, "--junit", OUT], ".xml"),
    "replay --capture -o": (["replay", REC, "--capture", "out:*", "-o", OUT, "--url", UNREACHABLE_URL], ".xtape"),
    "check --repair -o": (["check", REC, "--repair", "-o", OUT], ".xtape"),
    "cut -o": (["cut", REC, "-o", OUT], ".xtape"),
    "export -o": (["export", REC, "-o", OUT], ".parquet"),
    "import -o": (["import", JSONL, "-o", OUT], ".xtape"),
}  # fmt: skip

#: The writers whose input is named by REC or CASE (record reads no file).
WITH_INPUTS = [name for name, (args, _) in WRITERS.items() if {REC, CASE, JSONL} & set(args)]

#: Writers that succeed without Redis, to check what they create.
OFFLINE = ["convert -o", "merge -o", "infer -o", "plot -o", "diff --html", "check --repair -o", "cut -o", "export -o", "import -o"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rec = tmp_path / "in.xtape"
    shutil.copyfile(SAMPLE, rec)
    case = tmp_path / "case.yaml"
    case.write_text("name: c\n", encoding="utf-8")  # (run, it would be reported invalid)
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_bytes(ok(invoke("cat", rec)).stdout_bytes)
    return {"rec": rec, "case": case, "jsonl": jsonl}


def _args(row: str, files: dict[str, Path], out: Path | str, *extra: str) -> list[str]:
    args, _ = WRITERS[row]
    mapping = {REC: str(files["rec"]), CASE: str(files["case"]), JSONL: str(files["jsonl"]), OUT: str(out)}
    return [mapping.get(a, a) for a in args] + list(extra)


def _suffix(row: str) -> str:
    return WRITERS[row][1]


# -- files xtape writes ------------------------------------------------------------------


@pytest.mark.parametrize("row", WRITERS)
def test_an_output_in_a_missing_folder_is_refused_before_any_work(
    row: str, files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "no" / "such" / f"out{_suffix(row)}"
    # exit 2, not 1: Redis (unreachable) was not even tried; no case ran (stdout empty)
    line = error_line(invoke(*_args(row, files, out)), 2)
    assert f"no such folder {tmp_path / 'no' / 'such'}" in line, line


@pytest.mark.parametrize("row", WRITERS)
def test_a_folder_given_as_the_output_file_is_refused(
    row: str, files: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / f"folder{_suffix(row)}"
    folder.mkdir()
    line = error_line(invoke(*_args(row, files, folder, "--force")), 2)
    assert "is a folder; give a file name" in line, line


@pytest.mark.parametrize("row", WRITERS)
def test_an_existing_output_is_kept_without_force(
    row: str, files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / f"precious{_suffix(row)}"
    out.write_text("precious")
    line = error_line(invoke(*_args(row, files, out)), 2)
    assert line == f"xtape: error: {out} exists; pass --force to overwrite it"
    assert out.read_text() == "precious"


@pytest.mark.parametrize("row", WITH_INPUTS)
def test_an_output_that_is_an_input_is_refused_even_with_force(
    row: str, files: dict[str, Path]
) -> None:
    args = _args(row, files, "{same}", "--force")
    args_of_row = WRITERS[row][0]
    if row == "export -o":  # (its output's suffix names the format: a recording named so)
        files = {**files, "rec": files["rec"].rename(files["rec"].with_suffix(".parquet"))}
        args = _args(row, files, "{same}", "--force")
    target = files["case"] if CASE in args_of_row else files["jsonl"] if JSONL in args_of_row else files["rec"]
    before = target.read_bytes()
    line = error_line(invoke(*[str(target) if a == "{same}" else a for a in args]), 2)
    assert "is also an input of this command" in line, line
    assert target.read_bytes() == before


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_a_link_to_an_input_is_the_input(link: str, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "alias.yaml"
    (os.symlink if link == "symlink" else os.link)(files["rec"], out)
    before = files["rec"].read_bytes()
    line = error_line(invoke("convert", files["rec"], "-o", out, "--force"), 2)
    assert "is also an input" in line
    assert files["rec"].read_bytes() == before


def test_two_outputs_of_one_command_may_not_be_the_same_file(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "both"
    line = error_line(
        invoke("diff", files["rec"], "--url", UNREACHABLE_URL, "--html", out, "--save-actual", out), 2
    )
    assert "--html and --save-actual name the same file" in line


@pytest.mark.parametrize("row", OFFLINE)
def test_outputs_are_private_and_replace_a_symlink_instead_of_following_it(
    row: str, files: dict[str, Path], tmp_path: Path
) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / f"new{_suffix(row)}"
        ok(invoke(*_args(row, files, out)))
        assert stat.S_IMODE(out.stat().st_mode) == 0o600

        victim = tmp_path / "elsewhere" / "victim"
        victim.parent.mkdir()
        link = tmp_path / f"link{_suffix(row)}"
        link.symlink_to(victim)  # dangling: following it would create the victim
        ok(invoke(*_args(row, files, link, "--force")))
        assert not victim.exists()
        assert not link.is_symlink() and stat.S_IMODE(link.stat().st_mode) == 0o600
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp left
    finally:
        os.umask(old)


OUTPUT_OPTIONS = {"--output", "--html", "--save-actual", "--junit"}


def test_every_command_that_writes_a_file_has_force_and_a_row_in_the_table() -> None:
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        opts = {o for p in command.params for o in p.opts}
        for option in opts & OUTPUT_OPTIONS:
            assert "--force" in opts, name
            shown = "-o" if option == "--output" else option
            assert any(row.split()[0] == name and row.endswith(shown) for row in WRITERS), (name, option)


def test_a_split_recording_needs_a_folder_not_a_file_name(tmp_path: Path) -> None:
    out = tmp_path / "notadir.xtape"
    line = error_line(
        invoke("record", "s", "-o", out, "--split-size", "1MiB", "--url", UNREACHABLE_URL), 2
    )
    assert "numbered files go into a folder" in line
    assert not out.exists()


# -- -q ----------------------------------------------------------------------------------

#: Commands without -q: nothing to hide (their output is what was asked for).
NO_QUIET = {"info": "prints the summary asked for", "cat": "prints the entries asked for", "demo": "a walkthrough", "check": "prints the verdict asked for"}


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_every_command_has_quiet_or_a_reason_not_to(command: str) -> None:
    params = typer.main.get_command(app).commands[command].params  # type: ignore[attr-defined]
    opts = {o for p in params for o in p.opts}
    assert ("-q" in opts and "--quiet" in opts) != (command in NO_QUIET), command


#: A successful run per command: its summary shows without -q and is gone with it.
QUIET_RUNS: dict[str, list[str]] = {
    "convert": ["convert", REC, "-o", "{tmp}/q.yaml"],
    "merge": ["merge", REC, "-o", "{tmp}/q.xtape"],
    "cut": ["cut", REC, "-o", "{tmp}/q.xtape"],
    "infer": ["infer", REC, "-o", "{tmp}/q.yaml"],
    "plot": ["plot", REC, "-o", "{tmp}/q.svg"],
    "diff": ["diff", REC, REC, "--html", "{tmp}/q.html"],
    "validate": ["validate", str(SMOKE)],
    "test": ["test", str(MATCHER_CASE), "--junit", "{tmp}/j.xml"],
    "replay": ["replay", str(SMOKE), "--url", UNREACHABLE_URL, "--dry-run"],
    "replay --json": ["replay", str(SMOKE), "--url", UNREACHABLE_URL, "--dry-run", "--json", "--seed", "1"],
}


@pytest.mark.parametrize("command", QUIET_RUNS)
def test_quiet_hides_summaries_never_what_was_asked_for(
    command: str, files: dict[str, Path], tmp_path: Path
) -> None:
    def run(*extra: str, where: str) -> tuple[str, str]:
        (tmp_path / where).mkdir()
        args = [a.replace("{tmp}", str(tmp_path / where)).replace(REC, str(files["rec"])) for a in QUIET_RUNS[command]]
        result = ok(invoke(*args, *extra))
        return result.stdout, result.stderr

    out, err = run(where="loud")
    quiet_out, quiet_err = run("-q", where="quiet")
    assert (out + err).strip(), command  # it says something...
    if command == "replay --json":  # (the events are on stderr then)
        assert quiet_out == out != ""  # --json was asked for: still printed
        return
    assert quiet_err == "", quiet_err  # ...which -q hides
    if command == "replay":
        assert quiet_out == out != ""  # --dry-run's events were asked for: still printed
    else:
        assert quiet_out == "", quiet_out


def test_quiet_still_prints_errors(files: dict[str, Path], tmp_path: Path) -> None:
    line = error_line(invoke("convert", files["rec"], "-o", tmp_path / "x.yaml", "-q", "--since", "9h"), 2)
    assert "no entries match" in line


# -- units ---------------------------------------------------------------------------------

#: Every duration option: a command line with it (VALUE for its value).
DURATIONS: dict[str, list[str]] = {
    "record --duration": ["record", "s", "-o", "{tmp}/r.xtape", "--url", UNREACHABLE_URL, "--duration", "{v}"],
    "record --until-idle": ["record", "s", "-o", "{tmp}/r.xtape", "--url", UNREACHABLE_URL, "--until-idle", "{v}"],
    "record --scan-interval": ["record", "s", "-o", "{tmp}/r.xtape", "--url", UNREACHABLE_URL, "--scan-interval", "{v}"],
    "record --split-duration": ["record", "s", "-o", "{tmp}/", "--url", UNREACHABLE_URL, "--split-duration", "{v}"],
    "record --keep-last": ["record", "s", "-o", "{tmp}/", "--url", UNREACHABLE_URL, "--split-size", "1MiB", "--keep-last", "{v}"],
    "convert --since": ["convert", REC, "-o", "{tmp}/c.yaml", "--since", "{v}"],
    "convert --until": ["convert", REC, "-o", "{tmp}/c.yaml", "--until", "{v}"],
    "convert --jitter": ["convert", REC, "-o", "{tmp}/c.yaml", "--collapse-repeats", "--jitter", "{v}"],
    "cat --since": ["cat", REC, "--since", "{v}"],
    "cat --until": ["cat", REC, "--until", "{v}"],
    "record --snapshot": ["record", "s", "-o", "{tmp}/snaps/", "--url", UNREACHABLE_URL, "--snapshot", "{v}"],
    "record --unhealthy-after": ["record", "s", "-o", "{tmp}/r.xtape", "--url", UNREACHABLE_URL, "--metrics", "127.0.0.1:0", "--unhealthy-after", "{v}"],
    "record --metrics-linger": ["record", "s", "-o", "{tmp}/r.xtape", "--url", UNREACHABLE_URL, "--metrics", "127.0.0.1:0", "--metrics-linger", "{v}"],
    "replay --unhealthy-after": ["replay", REC, "--url", UNREACHABLE_URL, "--metrics", "127.0.0.1:0", "--unhealthy-after", "{v}"],
    "replay --metrics-linger": ["replay", REC, "--url", UNREACHABLE_URL, "--metrics", "127.0.0.1:0", "--metrics-linger", "{v}"],
    "cut --since": ["cut", REC, "-o", "{tmp}/c.xtape", "--since", "{v}"],
    "cut --until": ["cut", REC, "-o", "{tmp}/c.xtape", "--until", "{v}"],
    "cut --split-duration": ["cut", REC, "-o", "{tmp}/", "--split-duration", "{v}"],
    "plot --bucket": ["plot", REC, "-o", "{tmp}/p.svg", "--bucket", "{v}"],
    "replay --since": ["replay", REC, "--dry-run", "--since", "{v}"],
    "replay --until": ["replay", REC, "--dry-run", "--until", "{v}"],
    "replay --settle": ["replay", REC, "--url", UNREACHABLE_URL, "--capture", "o", "-o", "{tmp}/o.xtape", "--settle", "{v}"],
    "replay --timeout": ["replay", REC, "--url", UNREACHABLE_URL, "--capture", "o", "-o", "{tmp}/o.xtape", "--timeout", "{v}"],
    "diff --idle": ["diff", REC, "--url", UNREACHABLE_URL, "--idle", "{v}"],
    "diff --time-tolerance": ["diff", REC, REC, "--compare-times", "--time-tolerance", "{v}"],
}  # fmt: skip

#: Where a bare number has always meant milliseconds (the seed's command line).
BARE_MS: dict[str, list[str]] = {
    "replay --loop-interval": ["replay", str(SMOKE), "--url", UNREACHABLE_URL, "--loop", "--loop-interval", "{v}"],
    "convert --max-delay": ["convert", REC, "-o", "{tmp}/c.yaml", "--max-delay", "{v}"],
}  # fmt: skip


#: Durations inside a larger value: the command line ({v}: the duration) and the one line
#: a bare number gets.
INSIDE: dict[str, tuple[list[str], str]] = {
    "replay --rate-ramp": (["replay", str(SMOKE), "--dry-run", "--rate-ramp", "1000:2000:{v}"],
                           "invalid --rate-ramp duration '20': use a number with a unit: ms, s, m, h or d (e.g. 20ms or 20s)"),
    "record --from": (["record", "s", "-o", "{tmp}/r.xtape", "--url", UNREACHABLE_URL, "--from", "-{v}"],
                      "invalid --from '-20': use -DURATION with a unit: ms, s, m, h or d (e.g. -5m)"),
}  # fmt: skip


def test_every_duration_option_of_every_command_has_a_row() -> None:
    """An option whose value is a duration (metavar D, or a D inside it) is in a table."""
    rows = {*DURATIONS, *BARE_MS, *INSIDE}
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            metavar = param.metavar or ""
            if metavar == "D" or ":D" in metavar or metavar == "WHEN":
                assert f"{name} {param.opts[0]}" in rows, (name, param.opts[0])


@pytest.mark.parametrize("row", INSIDE)
def test_a_duration_inside_a_value_needs_a_unit_too(row: str, files: dict[str, Path], tmp_path: Path) -> None:
    args, message = INSIDE[row]
    assert error_line(invoke(*_fill(args, "20", files, tmp_path)), 2) == f"xtape: error: {message}"
    said = invoke(*_fill(args, "1500ms", files, tmp_path)).stderr.lower()
    assert "invalid" not in said and "unit" not in said, said


def _fill(args: list[str], value: str, files: dict[str, Path], tmp_path: Path) -> list[str]:
    return [a.replace("{v}", value).replace("{tmp}", str(tmp_path)).replace(REC, str(files["rec"])) for a in args]


@pytest.mark.parametrize("row", DURATIONS)
def test_a_bare_number_is_refused_by_every_duration_option_in_xtapes_words(
    row: str, files: dict[str, Path], tmp_path: Path
) -> None:
    option = row.split()[1]
    line = error_line(invoke(*_fill(DURATIONS[row], "20", files, tmp_path)), 2)
    assert line == (
        f"xtape: error: invalid {option} '20': use a number with a unit: ms, s, m, h or d (e.g. 20ms or 20s)"
    )


@pytest.mark.parametrize("row", [*DURATIONS, *BARE_MS])
def test_every_duration_option_takes_a_unit(row: str, files: dict[str, Path], tmp_path: Path) -> None:
    args = _fill({**DURATIONS, **BARE_MS}[row], "1500ms", files, tmp_path)
    result = invoke(*args)
    # whatever else happens (Redis is unreachable: 1 or, for diff, 2), the value is taken
    said = result.stderr.lower()
    assert "invalid" not in said and "unit" not in said and "integer" not in said, result.stderr


@pytest.mark.parametrize("row", BARE_MS)
def test_a_bare_number_keeps_meaning_milliseconds_where_it_always_did(
    row: str, files: dict[str, Path], tmp_path: Path
) -> None:
    result = invoke(*_fill(BARE_MS[row], "2000", files, tmp_path))
    assert "invalid" not in result.stderr.lower(), result.stderr


def test_a_size_needs_a_unit(tmp_path: Path) -> None:
    args = ["record", "s", "-o", f"{tmp_path}/", "--url", UNREACHABLE_URL, "--split-size"]
    line = error_line(invoke(*args, "20"), 2)
    assert "invalid --split-size '20': use a number with a unit: B, KiB, MiB, GiB" in line
    for size in ("20KiB", "1.5MiB", "2GB", "4096B"):
        assert "invalid" not in invoke(*args, size).stderr


# -- exit codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["convert", "replay"])
def test_since_past_the_end_is_the_same_error_in_convert_and_replay(
    command: str, files: dict[str, Path], tmp_path: Path
) -> None:
    args = (
        ["convert", files["rec"], "-o", tmp_path / "c.yaml"]
        if command == "convert"
        else ["replay", files["rec"], "--dry-run"]
    )
    line = error_line(invoke(*args, "--since", "2h"), 2)
    assert "match" in line, line


@pytest.mark.parametrize(
    "args",
    [["replay", str(SAMPLE), "--dry-run"], ["cat", str(SAMPLE)], ["convert", str(SAMPLE), "-o", "-"],
     ["info", str(SAMPLE)], ["info", str(SAMPLE), "--json"]],
    ids=["replay --dry-run", "cat", "convert -o -", "info", "info --json"],
)
def test_a_reader_that_goes_away_ends_the_command_with_0(args: list[str]) -> None:
    proc = subprocess.Popen([XTAPE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `| head` that read nothing: every write fails with EPIPE
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err


@pytest.fixture
def terminal() -> Iterator[int]:
    leader, follower = pty.openpty()
    yield follower
    os.close(leader)
    os.close(follower)


def test_record_to_a_terminal_is_refused_before_connecting(terminal: int) -> None:
    proc = subprocess.run(
        [XTAPE, "record", "s", "-o", "-", "--url", UNREACHABLE_URL],
        stdout=terminal, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60, text=True,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr  # (1: it tried the unreachable server first)
    assert "will not write a recording to a terminal" in proc.stderr


def test_reading_a_recording_from_a_terminal_is_refused_not_waited_on(terminal: int) -> None:
    proc = subprocess.run(
        [XTAPE, "info", "-"], stdin=terminal, capture_output=True, timeout=60, text=True
    )
    assert proc.returncode == 2, proc.stderr
    assert "standard input, which is a terminal" in proc.stderr


def test_an_unquoted_glob_gets_a_hint_to_quote_it(tmp_path: Path) -> None:
    for name in ("000001.xtape", "000002.xtape"):
        write_recording(tmp_path / name, [(b"s", 1_700_000_000_000, 0, [b"f", b"v"])])
    proc = subprocess.run(
        [XTAPE, "info", str(tmp_path / "000001.xtape"), str(tmp_path / "000002.xtape")],
        capture_output=True, timeout=60, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "a glob the shell expanded? quote it: 'split/*.xtape'" in proc.stderr


def test_a_scenarios_delay_and_interval_take_a_unit_and_a_bare_number_stays_ms(tmp_path: Path) -> None:
    scenario = tmp_path / "d.yaml"
    scenario.write_text(
        "events:\n"
        "  - {stream: a, payload: {x: '1'}}\n"
        "  - {stream: a, delay: 2s, payload: {x: '2'}}\n"
        "  - {stream: a, delay: 1500, repeat: 2, interval: 250ms, payload: {x: '3'}}\n",
        encoding="utf-8",
    )
    result = ok(invoke("replay", scenario, "--dry-run"))
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["+0.000s", "+2.000s", "+3.500s", "+3.750s"]
    scenario.write_text("events:\n  - {stream: a, delay: 2 weeks, payload: {x: '1'}}\n", encoding="utf-8")
    line = error_line(invoke("validate", scenario), 2)
    assert "events[0].delay: must be a number of milliseconds or a duration with a unit" in line


def test_record_warns_of_a_shell_expanded_pattern_and_a_glob_that_matched_nothing(
    redis_url: str, r: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    assert isinstance(r, redis.Redis)
    r.xadd("orders:1", {"a": "1"})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prices.csv").write_text("x")  # what the shell made of an unquoted prices.*
    result = ok(invoke("record", "orders:*", "prices.csv", "nope:*", "-o", "out.xtape",
                       "--url", redis_url, "--from", "start", "--count", "1"))  # fmt: skip
    assert "xtape: warning: 'prices.csv' is also a file here" in result.stderr
    assert "quote the glob" in result.stderr
    assert "xtape: warning: 'nope:*' matched no stream; nothing was recorded from it" in result.stderr
    assert "'orders:*' matched" not in result.stderr


def test_a_recording_is_created_private_and_never_through_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "elsewhere.xtape"
    link = tmp_path / "rec.xtape"
    link.symlink_to(victim)  # dangling, as an attacker may leave in a shared folder
    old = os.umask(0o022)
    try:
        write_recording(link, [(b"s", 1_700_000_000_000, 0, [b"f", b"v"])])
    finally:
        os.umask(old)
    assert not victim.exists()
    assert not link.is_symlink() and stat.S_IMODE(link.stat().st_mode) == 0o600
    assert ok(invoke("cat", link)).stdout.count("\n") == 1


#: Every command given an input that is not there: (command line, where its one line goes).
MISSING_INPUT: dict[str, list[str]] = {
    "info": ["info", "{missing}"],
    "check": ["check", "{missing}"],
    "cat": ["cat", "{missing}"],
    "plot": ["plot", "{missing}", "-o", "{tmp}/p.svg"],
    "merge": ["merge", "{missing}", "-o", "{tmp}/m.xtape"],
    "cut": ["cut", "{missing}", "-o", "{tmp}/c.xtape"],
    "export": ["export", "{missing}", "-o", "{tmp}/e.parquet"],
    "import": ["import", "{missing}", "-o", "{tmp}/i.xtape"],
    "convert": ["convert", "{missing}", "-o", "{tmp}/c.yaml"],
    "replay": ["replay", "{missing}", "--dry-run"],
    "validate": ["validate", "{missing}.yaml"],
    "infer": ["infer", "{missing}", "-o", "{tmp}/i.yaml"],
    "diff": ["diff", "{missing}", "{missing}"],
    "demo": ["demo", "--scenarios", "{missing}"],
    "test": ["test", "{missing}.yaml"],
    "record": ["record", "s", "-o", "{tmp}/r.xtape", "--url", "rediss://127.0.0.1:1/0", "--tls-ca-cert", "{missing}"],
}


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_a_missing_input_is_invalid_input_for_every_command(command: str, tmp_path: Path) -> None:
    args = [a.replace("{missing}", str(tmp_path / "nofile")).replace("{tmp}", str(tmp_path))
            for a in MISSING_INPUT[command]]  # fmt: skip
    result = invoke(*args)
    if command == "test":  # a case file that cannot be read is a case reported invalid
        assert result.exit_code == 2 and "INVALID" in result.stdout and "nofile" in result.stdout
        return
    assert "nofile" in error_line(result, 2)


def test_a_recording_written_into_an_input_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "split"
    folder.mkdir()
    write_recording(folder / "000001.xtape", [(b"s", 1_700_000_000_000, 0, [b"f", b"v"])])
    line = error_line(invoke("merge", folder, "-o", folder / "000002.xtape"), 2)
    assert "would join it" in line
    assert [p.name for p in folder.iterdir()] == ["000001.xtape"]
    ok(invoke("convert", folder / "000001.xtape", "-o", folder / "s.yaml"))  # (a scenario there joins nothing)
