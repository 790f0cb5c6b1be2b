"""The CLI's failure contract: exit code 2 for bad input, 1 for a failing world, and one
line on stderr that says what and where, never a traceback; an invalid scenario
publishes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from support.e2e import UNREACHABLE_URL, error_line, invoke, write_recording
from support.paths import ROOT

SMOKE = ROOT / "scenarios" / "smoke-test.yaml"

#: The first event is valid, so a replay that checked lazily would publish it.
VALID_FIRST = "events:\n  - stream: first\n    payload: {f: v}\n"

INVALID_SCENARIOS = {
    "malformed-yaml": (
        VALID_FIRST + "  - stream: b\n   payload: {f: v}\n",
        ":5: invalid YAML: ",
    ),
    "unknown-key": (
        VALID_FIRST + "  - stream: b\n    paylod: {f: v}\n",
        ":5: events[1]: unknown key 'paylod' (did you mean 'payload'?)",
    ),
    "undefined-variable": (
        VALID_FIRST + '  - stream: b\n    payload: {user: "{{userId}}"}\n',
        ":5: events[1]: undefined variable 'userId' (define it under variables: "
        "or pass --variable userId=...)",
    ),
    "unknown-named-generator": (
        VALID_FIRST + "  - stream: b\n    generator: nosuch\n",
        ":5: events[1].generator: no generator named 'nosuch'",
    ),
    "no-generator-for-stream": (
        VALID_FIRST + "  - stream: no.fixture\n    generator: true\n",
        ":5: events[1].generator: no generator for stream 'no.fixture'",
    ),
}


@pytest.mark.parametrize("kind", sorted(INVALID_SCENARIOS))
def test_invalid_scenario_fails_with_file_line_and_reason_and_publishes_nothing(
    kind: str, tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    text, expected = INVALID_SCENARIOS[kind]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text, encoding="utf-8")

    line = error_line(invoke("replay", path, "--url", redis_url, "--max-speed"), 2)

    assert line.startswith(f"xtape: error: {path}:5: ")
    assert expected in line
    assert r.dbsize() == 0


@pytest.mark.parametrize("kind", sorted(INVALID_SCENARIOS))
def test_invalid_scenario_fails_the_dry_run_with_the_same_line(kind: str, tmp_path: Path) -> None:
    text, expected = INVALID_SCENARIOS[kind]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text, encoding="utf-8")

    line = error_line(invoke("replay", path, "--dry-run", "--url", UNREACHABLE_URL), 2)

    assert expected in line


@pytest.mark.parametrize("bad", ["userId", "=x", " =x"])
@pytest.mark.parametrize("command", ["replay", "validate"])
def test_variable_without_name_and_equals_is_a_usage_error(command: str, bad: str) -> None:
    args = [command, SMOKE, "--variable", bad]
    if command == "replay":
        args += ["--dry-run"]

    line = error_line(invoke(*args), 2)

    assert line == f"xtape: error: invalid --variable {bad!r}: expected NAME=VALUE"


def test_unreachable_redis_exits_1_naming_the_url_with_the_password_hidden() -> None:
    result = invoke("replay", SMOKE, "--url", UNREACHABLE_URL)

    line = error_line(result, 1)
    assert line.startswith("xtape: error: cannot reach Redis at redis://:***@127.0.0.1:1/0: ")
    assert "secret" not in result.output


def test_unreachable_redis_from_the_environment_is_reported_the_same_way() -> None:
    result = invoke("replay", SMOKE, env={"REDIS_URL": UNREACHABLE_URL})

    line = error_line(result, 1)
    assert "redis://:***@127.0.0.1:1/0" in line
    assert "secret" not in result.output


def test_record_from_unreachable_redis_exits_1_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "r.xtape"
    result = invoke("record", "s", "-o", out, "--url", UNREACHABLE_URL, "--count", "1")

    line = error_line(result, 1)
    assert "redis://:***@127.0.0.1:1/0" in line
    assert "secret" not in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--speed", "0"], "--speed must be > 0 (got 0)"),
        (["--speed", "-1"], "--speed must be > 0 (got -1)"),
        (["--rate", "0"], "--rate must be > 0 (got 0)"),
        (["--speed", "2", "--max-speed"], "choose one of --speed, --max-speed, --rate and --rate-ramp"),
        (["--rate", "10", "--max-speed"], "choose one of --speed, --max-speed, --rate and --rate-ramp"),
    ],
)
def test_conflicting_or_invalid_pacing_is_refused_before_connecting(
    options: list[str], message: str
) -> None:
    # The unreachable URL proves the options are checked before Redis is needed.
    line = error_line(invoke("replay", SMOKE, "--url", UNREACHABLE_URL, *options), 2)

    assert message in line


def test_keep_ids_with_loop_is_refused_and_publishes_nothing(
    redis_url: str, r: redis.Redis
) -> None:
    line = error_line(invoke("replay", SMOKE, "--url", redis_url, "--keep-ids", "--loop"), 2)

    assert "--keep-ids cannot be combined with --loop" in line
    assert r.dbsize() == 0


@pytest.mark.parametrize("command", ["info", "cat", "replay", "convert"])
@pytest.mark.parametrize(
    "content", [b"", b"hello\n", b"events:\n  - stream: a\n", b"\x93\x01\x02\x03"]
)
def test_a_file_that_is_not_a_recording_is_refused_by_name(
    command: str, content: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "junk.xtape"
    path.write_bytes(content)
    args: list[object] = [command, path]
    if command == "replay":
        args += ["--dry-run"]
    if command == "convert":
        args += ["-o", tmp_path / "out.yaml"]

    line = error_line(invoke(*args), 2)

    assert line == f"xtape: error: {path}: not an xtape recording (no xtape header)"
    assert not (tmp_path / "out.yaml").exists()


def test_a_recording_of_an_unknown_format_version_is_refused_with_what_to_do(
    tmp_path: Path,
) -> None:
    import msgpack

    path = tmp_path / "future.xtape"
    path.write_bytes(msgpack.packb({"magic": "xtape", "version": 99, "tool": "xtape 9"}))

    line = error_line(invoke("info", path), 2)

    assert f"{path}: recording format version 99 is not supported" in line
    assert "upgrade xtape" in line


def test_missing_files_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert f"{missing}.xtape" in error_line(invoke("info", f"{missing}.xtape"), 2)
    assert f"{missing}.yaml" in error_line(invoke("replay", f"{missing}.yaml", "--dry-run"), 2)


@pytest.mark.parametrize("name", ["scenario.txt", "recording", "data.yaml.bak"])
def test_replay_reads_what_is_not_a_recording_as_a_scenario_whatever_its_name(
    name: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_text(SMOKE.read_text())

    line = error_line(invoke("replay", path, "--dry-run"), 2)

    assert line == (
        f"xtape: error: {path}: not a scenario file (expected one of .yaml, .yml, .json)"
    )


def test_replay_needs_exactly_one_source() -> None:
    assert "give a scenario or recording" in error_line(invoke("replay", "--dry-run"), 2)
    assert "give the source once" in error_line(
        invoke("replay", SMOKE, "-f", SMOKE, "--dry-run"), 2
    )


def test_scenario_options_are_refused_for_a_recording(tmp_path: Path) -> None:
    rec = write_recording(tmp_path / "r.xtape", [(b"s", 1_700_000_000_000, 0, [b"f", b"v"])])

    for extra in (["--variable", "a=b"], ["--seed", "1"]):
        line = error_line(invoke("replay", rec, "--dry-run", *extra), 2)
        assert "--variable and --seed apply to scenarios, not to recordings" in line


@pytest.mark.parametrize("command", ["record", "convert"])
def test_an_existing_output_is_not_overwritten_without_force(
    command: str, tmp_path: Path, redis_url: str
) -> None:
    rec = write_recording(tmp_path / "r.xtape", [(b"s", 1_700_000_000_000, 0, [b"f", b"v"])])
    out = tmp_path / ("out.xtape" if command == "record" else "out.yaml")
    out.write_text("precious")
    args: list[object] = (
        ["record", "s", "-o", out, "--url", redis_url, "--count", "1"]
        if command == "record"
        else ["convert", rec, "-o", out]
    )

    line = error_line(invoke(*args), 2)

    assert line == f"xtape: error: {out} exists; pass --force to overwrite it"
    assert out.read_text() == "precious"


def test_bad_durations_name_the_option(tmp_path: Path) -> None:
    rec = write_recording(tmp_path / "r.xtape", [(b"s", 1_700_000_000_000, 0, [b"f", b"v"])])

    line = error_line(invoke("convert", rec, "-o", tmp_path / "s.yaml", "--since", "soon"), 2)

    assert "invalid --since 'soon'" in line
    assert not (tmp_path / "s.yaml").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ":1: empty scenario: expected a mapping with an events: list"),
        ("just a string\n", ":1: a scenario must be a mapping with an events: list"),
        ("- a\n- b\n", ":1: a scenario must be a mapping with an events: list (got a list of 2)"),
        ("a: 1\n---\nb: 2\n", ":2: invalid YAML: expected a single document"),
        (
            "events:\n  - {stream: a, payload: !!python/object:os.system {}}\n",
            ":2: invalid YAML: unsupported tag",
        ),
        ("events:\n\t- stream: a\n", ":2: invalid YAML: "),
    ],
    ids=["empty", "scalar", "list", "two-documents", "python-tag", "tab"],
)
def test_documents_that_are_not_scenarios_fail_validation_with_their_line(
    text: str, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)

    line = error_line(invoke("validate", path), 2)

    assert line.startswith(f"xtape: error: {path}{expected}")


def test_scenario_file_that_is_not_utf8_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("events:\n  - stream: é\n    payload: {f: v}\n".encode("latin-1"))

    line = error_line(invoke("replay", path, "--dry-run"), 2)

    assert line.startswith(f"xtape: error: {path}:")
    assert "not UTF-8" in line


def test_validate_refuses_a_file_that_is_not_a_scenario_by_its_suffix(tmp_path: Path) -> None:
    path = tmp_path / "smoke.txt"
    path.write_text(SMOKE.read_text())

    line = error_line(invoke("validate", path), 2)

    assert line == f"xtape: error: {path}: not a scenario file (expected one of .yaml, .yml, .json)"


def test_recorder_refused_commands_by_acl_is_one_line_naming_what_it_needs(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    r.execute_command("ACL", "SETUSER", "ro", "on", ">ropw", "~*", "+@read", "+@connection")
    try:
        url = redis_url.replace("redis://", "redis://ro:ropw@")
        result = invoke("record", "s", "-o", tmp_path / "ro.xtape", "--url", url, "--duration", "1s")
    finally:
        r.execute_command("ACL", "DELUSER", "ro")
    line = error_line(result, 1)
    assert "refused a command" in line and "MULTI/EXEC" in line
    assert "ropw" not in result.output and "ro:***@" in line
