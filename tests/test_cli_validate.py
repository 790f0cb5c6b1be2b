"""``xtape validate``: every file is reported, valid ones as ``ok``, invalid ones by
``file:line``; the exit code is 2 if any is invalid."""

from __future__ import annotations

from pathlib import Path

from e2e_support import invoke, ok

from xtape.scenario import ScenarioSource

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

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
    for line, file in zip(lines, files, strict=True):
        source = ScenarioSource(file)
        assert line == (
            f"ok  {file}: {len(source.scenario.events)} events, {source.count} entries, "
            f"{source.duration_ms / 1000:.3f} s"
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
    assert ok(given).stdout == f"ok  {path}: 1 events, 1 entries, 0.000 s\n"
    assert given.stderr == ""
