"""``xtape validate``: every file is reported, valid ones as ``ok``, invalid ones by
``file:line``; the exit code is 2 if any is invalid."""

from __future__ import annotations

import re
from pathlib import Path

from support.e2e import invoke, ok
from support.paths import ROOT

from xtape.scenario import ScenarioSource

SCENARIOS = ROOT / "scenarios"

GOOD = "events:\n  - stream: a\n    payload: {f: v}\n  - stream: a\n    delay: 250\n    repeat: 4\n    interval: 100\n    payload: {f: w}\n"
NEEDS_USER = 'events:\n  - stream: a\n    payload: {user: "{{userId}}"}\n'
BAD_KEY = "events:\n  - stream: a\n    payload: {f: v}\n    delya: 5\n"


def test_all_valid_files_are_reported_ok_with_their_size_and_exit_0(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    files = [*sorted(SCENARIOS.glob("*.yaml")), good]

    result = ok(invoke("validate", *files))

    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == len(files)
    catalog = SCENARIOS / "streams.yaml"  # the examples' stream catalog: checked, and used
    for line, file in zip(lines, files, strict=True):
        if file == catalog:
            assert line == f"ok  {file}: stream catalog, 14 streams"
            continue
        source = ScenarioSource(file)
        assert line == (
            f"ok  {file}: {len(source.scenario.events)} events, {source.count} entries, "
            f"{source.duration_ms / 1000:.3f} s"
            + (f" (catalog {catalog})" if file.parent == SCENARIOS else "")
        )
    assert lines[-1] == f"ok  {good}: 2 events, 5 entries, 0.550 s"


def test_one_invalid_file_fails_the_run_by_name_and_the_others_are_still_reported(
    tmp_path: Path,
) -> None:
    first, bad, last = tmp_path / "first.yaml", tmp_path / "bad.yaml", tmp_path / "last.yml"
    first.write_text(GOOD)
    bad.write_text(BAD_KEY)
    last.write_text(GOOD)

    result = invoke("validate", first, bad, last)

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stdout.splitlines() == [
        f"ok  {first}: 2 events, 5 entries, 0.550 s",
        f"ok  {last}: 2 events, 5 entries, 0.550 s",
    ]
    assert result.stderr.splitlines() == [
        f"xtape: error: {bad}:4: events[0]: unknown key 'delya' (did you mean 'delay'?)"
    ]


def test_every_invalid_file_gets_its_own_line(tmp_path: Path) -> None:
    bad1, bad2 = tmp_path / "bad1.yaml", tmp_path / "bad2.json"
    bad1.write_text(BAD_KEY)
    bad2.write_text('{"events": [{"stream": "a"}]}')

    result = invoke("validate", bad1, bad2)

    assert result.exit_code == 2
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"xtape: error: {bad1}:4: ")
    assert errors[1].startswith(f"xtape: error: {bad2}:1: ")


def test_a_missing_file_is_reported_and_fails_the_run(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)

    result = invoke("validate", tmp_path / "missing.yaml", good)

    assert result.exit_code == 2
    assert result.stdout.startswith(f"ok  {good}: ")
    assert result.stderr.startswith(f"xtape: error: {tmp_path / 'missing.yaml'}: ")


def test_variable_option_satisfies_an_undefined_variable(tmp_path: Path) -> None:
    path = tmp_path / "user.yaml"
    path.write_text(NEEDS_USER)

    missing = invoke("validate", path)
    given = invoke("validate", path, "--variable", "userId=bob")

    assert missing.exit_code == 2
    assert "undefined variable 'userId'" in missing.stderr
    assert ok(given).stdout == f"ok  {path}: 1 event, 1 entry, 0.000 s\n"
    assert given.stderr == ""


BROKEN_EVERYWHERE = """\
variables:
  userId: u1
events:
  - stream: a
    payload: {f: v}
    delya: 5
  - stream: b
    payload: {user: "{{usrId}}"}
  - stream: c
    payload: {f: v}
    delay: -1
  - stream: d
    generator: nope
"""


def test_every_error_of_a_file_is_reported_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_EVERYWHERE)

    result = invoke("validate", path)

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        f"xtape: error: {path}:6: events[0]: unknown key 'delya' (did you mean 'delay'?)",
        f"xtape: error: {path}:11: events[2].delay: must be >= 0 (got -1)",
        f"xtape: error: {path}:8: events[1]: undefined variable 'usrId' "
        "(define it under variables: or pass --variable usrId=...)",
    ]
    assert lines[3].startswith(f"xtape: error: {path}:13: events[3].generator: no generator named 'nope'")
    assert len(lines) == 4
    assert "more error" not in result.stderr


def test_replay_names_the_first_error_and_how_many_more(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_EVERYWHERE)

    result = invoke("replay", path, "--dry-run")

    assert result.exit_code == 2
    assert result.stderr == (
        f"xtape: error: {path}:6: events[0]: unknown key 'delya' (did you mean 'delay'?) "
        "(and 1 more error; xtape validate lists them all)\n"
    )


def test_an_unknown_variable_name_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "user.yaml"
    path.write_text(NEEDS_USER)

    validated = invoke("validate", path, "--variable", "userid=bob")
    replayed = invoke("replay", path, "--dry-run", "--variable", "userid=bob")

    expected = (
        f"xtape: error: {path}: unknown --variable 'userid': the scenario neither uses nor "
        "defines it (did you mean 'userId'?)"
    )
    assert validated.exit_code == 2
    assert validated.stderr.splitlines()[0] == expected
    assert replayed.exit_code == 2
    assert replayed.stderr.splitlines() == [expected + " (and 1 more error; xtape validate lists them all)"]


def test_a_variable_the_scenario_defines_but_does_not_use_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "defined.yaml"
    path.write_text("variables:\n  env: dev\nevents:\n  - stream: a\n    payload: {f: v}\n")
    assert ok(invoke("validate", path, "--variable", "env=prod")).stderr == ""
    unknown = invoke("validate", path, "--variable", "zzz=1")
    assert unknown.stderr == (
        f"xtape: error: {path}: unknown --variable 'zzz': the scenario neither uses nor defines "
        "it (its variables: env)\n"
    )


def _big_scenario(path: Path, events: int) -> None:
    with path.open("w") as out:
        out.write("name: big\nevents:\n")
        for i in range(events):
            out.write(
                f"  - stream: orders\n    delay: 1\n    payload:\n      orderId: ord_{i}\n"
                f"      note: '{'x' * 60}'\n    id: 1700000000000-{i}\n"
            )


def _stderr_on_a_terminal(*args: object) -> tuple[int, str]:
    """Run ``xtape ARGS`` with stderr on a pseudo-terminal; its exit code and what it drew."""
    import os
    import pty
    import subprocess

    from support.e2e import XTAPE

    main, child = pty.openpty()
    try:
        proc = subprocess.Popen(
            [XTAPE, *map(str, args)], stdout=subprocess.DEVNULL, stderr=child, stdin=subprocess.DEVNULL
        )
        os.close(child)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=120)
    finally:
        os.close(main)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_validating_a_big_file_on_a_terminal_shows_progress(tmp_path: Path) -> None:
    big, small = tmp_path / "big.yaml", tmp_path / "small.yaml"
    _big_scenario(big, 40_000)
    small.write_text(GOOD)
    assert big.stat().st_size > 5_000_000

    big_code, big_drawn = _stderr_on_a_terminal("validate", big)
    small_code, small_drawn = _stderr_on_a_terminal("validate", small)

    assert big_code == 0 and small_code == 0
    assert f"validating {big}: " in big_drawn
    percents = [int(p) for p in re.findall(r"MB read \((\d+)%\)", big_drawn)]
    assert len(percents) >= 2 and percents == sorted(percents) and percents[-1] >= 50
    assert small_drawn == ""


def test_a_variable_used_only_by_a_broken_event_is_not_called_unknown(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text('events:\n  - stream: a\n    payload: {user: "{{userId}}"}\n    delya: 1\n')

    result = invoke("validate", path, "--variable", "userId=bob")

    assert result.stderr.splitlines() == [
        f"xtape: error: {path}:4: events[0]: unknown key 'delya' (did you mean 'delay'?)"
    ]


def test_with_several_files_a_variable_is_unknown_only_if_no_file_knows_it(tmp_path: Path) -> None:
    user, plain = tmp_path / "user.yaml", tmp_path / "plain.yaml"
    user.write_text(NEEDS_USER)
    plain.write_text(GOOD)

    known = invoke("validate", user, plain, "--variable", "userId=bob")
    typo = invoke("validate", user, plain, "--variable", "userId=bob", "--variable", "usrId=x")

    assert ok(known).stderr == ""
    assert typo.exit_code == 2
    assert typo.stdout.splitlines() == [
        f"ok  {user}: 1 event, 1 entry, 0.000 s",
        f"ok  {plain}: 2 events, 5 entries, 0.550 s",
    ]
    assert typo.stderr == (
        "xtape: error: unknown --variable 'usrId': none of the scenarios uses or defines it "
        "(did you mean 'userId'?)\n"
    )
