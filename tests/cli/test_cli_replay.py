"""``xtape replay`` of scenarios from the command line: the dry-run schedule, ``-v``,
the JSON report, ``-f``, ``--variable``, ``--seed``, and every example scenario."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import redis
from support.e2e import UNREACHABLE_URL, fields_of, invoke, ok, streams, write_recording
from support.paths import ROOT

from xtape.scenario import ScenarioSource

SCENARIOS = ROOT / "scenarios"
EXAMPLES = sorted(p for p in SCENARIOS.glob("*.yaml") if p.name != "streams.yaml")

SCHEDULED = """\
events:
  - stream: a
    payload: {f: v}
  - stream: b
    delay: 100
    repeat: 3
    interval: 50
    payload: {i: "{{index}}", n: 5}
  - stream: c
    delay: 25
    payload: [[k, x], [k, y], [!!binary /w==, !!binary AP8=]]
"""

GENERATED = """\
generators:
  g:
    n: {int: [1, 1000000000]}
    pick: {choice: [a, b, c, d, e, f, g, h]}
    x: {float: [0, 1], decimals: 9}
events:
  - stream: gen
    generator: g
    repeat: 20
  - stream: order.request
    generator: true
    repeat: 5
"""


@pytest.fixture()
def scheduled(tmp_path: Path) -> Path:
    path = tmp_path / "scheduled.yaml"
    path.write_text(SCHEDULED)
    return path


def test_dry_run_prints_one_line_per_event_at_its_offset_without_redis(scheduled: Path) -> None:
    result = ok(invoke("replay", scheduled, "--dry-run", "--url", UNREACHABLE_URL))

    assert result.stdout.splitlines() == [
        "+0.000s  a  1 field",
        "+0.100s  b  2 fields",
        "+0.150s  b  2 fields",
        "+0.200s  b  2 fields",
        "+0.225s  c  3 fields",
    ]
    assert result.stderr.startswith("scheduled 5 events to 3 streams in 0.225 s ")
    assert "secret" not in result.output


def test_dry_run_verbose_shows_fields_in_order_with_duplicates_and_base64(scheduled: Path) -> None:
    result = ok(invoke("replay", scheduled, "--dry-run", "-v", "--url", UNREACHABLE_URL))

    assert result.stdout.splitlines() == [
        '+0.000s  a  [["f", "v"]]',
        '+0.100s  b  [["i", "0"], ["n", "5"]]',
        '+0.150s  b  [["i", "1"], ["n", "5"]]',
        '+0.200s  b  [["i", "2"], ["n", "5"]]',
        '+0.225s  c  [["k", "x"], ["k", "y"], [{"base64": "/w=="}, {"base64": "AP8="}]]',
    ]


def test_dry_run_of_the_seed_scenario_lists_every_entry(tmp_path: Path) -> None:
    path = SCENARIOS / "trade-and-liquidate.yaml"
    result = ok(invoke("replay", "-f", path, "--dry-run", "--url", UNREACHABLE_URL))

    offsets = [line.split()[0] for line in result.stdout.splitlines()]
    assert offsets == [
        "+0.000s",
        "+0.200s",
        "+0.300s",
        "+0.400s",
        "+0.900s",
        "+1.400s",
        "+1.900s",
        "+2.100s",
        "+2.400s",
    ]


def test_verbose_replay_echoes_each_published_event(scheduled: Path, redis_url: str) -> None:
    result = ok(invoke("replay", scheduled, "-v", "--max-speed", "--url", redis_url))

    lines = result.stdout.splitlines()
    assert lines[:5] == [
        '+0.000s  a  [["f", "v"]]',
        '+0.100s  b  [["i", "0"], ["n", "5"]]',
        '+0.150s  b  [["i", "1"], ["n", "5"]]',
        '+0.200s  b  [["i", "2"], ["n", "5"]]',
        '+0.225s  c  [["k", "x"], ["k", "y"], [{"base64": "/w=="}, {"base64": "AP8="}]]',
    ]
    assert lines[5].startswith("published 5 events to 3 streams in ")


def test_json_report_is_one_parseable_object_with_counts_duration_and_lateness(
    scheduled: Path, redis_url: str, r: redis.Redis
) -> None:
    result = ok(invoke("replay", scheduled, "--json", "--url", redis_url))

    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["published"] == 5
    assert report["errors"] == 0
    assert report["streams"] == {"a": 1, "b": 3, "c": 1}
    assert report["iterations"] == 1
    assert report["interrupted"] is False
    assert 0.2 <= report["duration_s"] < 2.0
    assert set(report["lateness"]) == {"p50_ms", "p99_ms", "max_ms"}
    assert (
        0
        <= report["lateness"]["p50_ms"]
        <= report["lateness"]["p99_ms"]
        <= report["lateness"]["max_ms"]
    )
    assert [r.xlen(s) for s in (b"a", b"b", b"c")] == [1, 3, 1]


def test_text_report_names_counts_and_lateness(scheduled: Path, redis_url: str) -> None:
    result = ok(invoke("replay", scheduled, "--speed", "4", "--url", redis_url))

    lines = result.stdout.splitlines()
    assert lines[0].startswith("published 5 events to 3 streams in ")
    assert lines[0].endswith(", 4x)")
    assert lines[1].startswith("lateness vs schedule: p50 ")


def test_file_option_replays_like_the_seed_producer(redis_url: str, r: redis.Redis) -> None:
    path = SCENARIOS / "trade-and-liquidate.yaml"
    result = ok(invoke("replay", "-f", path, "--max-speed", "--url", redis_url))

    assert result.stdout.startswith("published 9 events to 6 streams")
    assert {s: r.xlen(s) for s in streams(r)} == {
        b"price.update": 4,
        b"order.request": 1,
        b"order.accepted": 1,
        b"position.opened": 1,
        b"liquidation.signal": 1,
        b"position.liquidated": 1,
    }


@pytest.mark.parametrize("option", ["--variable", "--var"])
def test_variable_from_the_command_line_lands_in_published_fields(
    option: str, redis_url: str, r: redis.Redis
) -> None:
    path = SCENARIOS / "trade-and-liquidate.yaml"
    ok(invoke("replay", path, option, "userId=test_user_123", "--max-speed", "--url", redis_url))

    users = [
        dict(zip(flat[::2], flat[1::2], strict=True))[b"user"]
        for stream in (
            b"order.request",
            b"position.opened",
            b"liquidation.signal",
            b"position.liquidated",
        )
        for flat in fields_of(r, stream)
    ]
    assert users == [b"test_user_123"] * 4


def test_variable_value_may_contain_equals_and_spaces(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    path = tmp_path / "v.yaml"
    path.write_text('events:\n  - stream: s\n    payload: {q: "{{query}}"}\n')

    ok(invoke("replay", path, "--variable", "query=a=1 & b = 2", "--url", redis_url))

    assert fields_of(r, b"s") == [[b"q", b"a=1 & b = 2"]]


def _generated(
    path: Path, seed: str, url: str, client: redis.Redis
) -> dict[bytes, list[list[bytes]]]:
    client.flushall()
    result = ok(invoke("replay", path, "--seed", seed, "--max-speed", "--json", "--url", url))
    assert json.loads(result.stdout)["seed"] == int(seed)
    out = {}
    for stream in streams(client):
        # The built-in fixture's timestamp is the wall-clock schedule, not a random value.
        out[stream] = [
            [
                part
                for pair in zip(flat[::2], flat[1::2], strict=True)
                if pair[0] != b"timestamp"
                for part in pair
            ]
            for flat in fields_of(client, stream)
        ]
    return out


def test_same_seed_generates_identical_fields_and_another_seed_differs(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    path = tmp_path / "gen.yaml"
    path.write_text(GENERATED)

    first = _generated(path, "42", redis_url, r)
    again = _generated(path, "42", redis_url, r)
    other = _generated(path, "43", redis_url, r)

    assert sorted(first) == [b"gen", b"order.request"]
    assert len(first[b"gen"]) == 20
    assert len(set(map(tuple, first[b"gen"]))) > 1
    assert first == again
    assert other[b"gen"] != first[b"gen"]
    assert other[b"order.request"] != first[b"order.request"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_scenario_replays_at_max_speed_with_the_expected_counts(
    example: Path, redis_url: str, r: redis.Redis
) -> None:
    source = ScenarioSource(example, seed=1)
    expected = Counter(event.stream for event in source.timeline(0, lambda seq, offset: 0))
    validated = ok(invoke("validate", example)).stdout
    assert f", {source.count} entries, " in validated

    result = ok(invoke("replay", example, "--max-speed", "--json", "--url", redis_url))

    report = json.loads(result.stdout)
    assert report["published"] == source.count == sum(expected.values())
    assert report["errors"] == 0
    assert {s: r.xlen(s) for s in streams(r)} == dict(expected)
    assert report["streams"] == {s.decode(): n for s, n in expected.items()}


def test_command_line_variable_wins_over_event_and_scenario_variables(tmp_path: Path) -> None:
    path = tmp_path / "prec.yaml"
    path.write_text(
        "variables: {u: file}\n"
        "events:\n"
        '  - stream: a\n    payload: {u: "{{u}}"}\n'
        '  - stream: b\n    variables: {u: event}\n    payload: {u: "{{u}}"}\n'
    )

    plain = ok(invoke("replay", path, "--dry-run", "-v", "--url", UNREACHABLE_URL))
    given = ok(invoke("replay", path, "--dry-run", "-v", "--variable", "u=cli"))

    assert plain.stdout.splitlines() == [
        '+0.000s  a  [["u", "file"]]',
        '+0.000s  b  [["u", "event"]]',
    ]
    assert given.stdout.splitlines() == ['+0.000s  a  [["u", "cli"]]', '+0.000s  b  [["u", "cli"]]']


def test_report_has_no_seed_when_nothing_is_generated(scheduled: Path, redis_url: str) -> None:
    report = json.loads(
        ok(invoke("replay", scheduled, "--max-speed", "--json", "--url", redis_url)).stdout
    )
    text = ok(invoke("replay", scheduled, "--max-speed", "--seed", "5", "--url", redis_url)).stdout

    assert "seed" not in report
    assert "seed" not in text


def test_url_option_wins_over_the_environment(
    scheduled: Path, redis_url: str, r: redis.Redis
) -> None:
    result = invoke(
        "replay", scheduled, "--max-speed", "--url", redis_url, env={"REDIS_URL": UNREACHABLE_URL}
    )

    assert ok(result).stdout.startswith("published 5 events")
    assert r.xlen(b"b") == 3


def test_url_comes_from_the_environment_without_the_option(
    scheduled: Path, redis_url: str, r: redis.Redis
) -> None:
    ok(invoke("replay", scheduled, "--max-speed", env={"REDIS_URL": redis_url}))

    assert r.xlen(b"b") == 3


def test_dry_run_of_a_recording_needs_no_redis_and_shows_offsets_and_ids(tmp_path: Path) -> None:
    rec = write_recording(
        tmp_path / "r.xtape",
        [
            (b"s", 1_700_000_000_000, 0, [b"f", b"1"]),
            (b"t", 1_700_000_000_250, 0, [b"f", b"\xff"]),
            (b"s", 1_700_000_001_000, 7, [b"f", b"2"]),
        ],
    )

    result = ok(invoke("replay", rec, "--dry-run", "-v", "--keep-ids", "--url", UNREACHABLE_URL))

    assert result.stdout.splitlines() == [
        '+0.000s  s  1700000000000-0  [["f", "1"]]',
        '+0.250s  t  1700000000250-0  [["f", {"base64": "/w=="}]]',
        '+1.000s  s  1700000001000-7  [["f", "2"]]',
    ]


def test_entries_redis_refuses_are_counted_reported_and_fail_the_run(
    scheduled: Path, redis_url: str, r: redis.Redis
) -> None:
    r.set(b"b", b"not a stream")

    result = invoke("replay", scheduled, "--max-speed", "--json", "--url", redis_url)

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)
    assert report["published"] == 2
    assert report["errors"] == 3
    assert report["error_messages"] == [
        "b: WRONGTYPE Operation against a key holding the wrong kind of value"
    ]
    assert r.xlen(b"a") == r.xlen(b"c") == 1
    assert r.get(b"b") == b"not a stream"


def test_report_names_only_streams_that_accepted_entries(
    scheduled: Path, redis_url: str, r: redis.Redis
) -> None:
    r.set(b"b", b"not a stream")

    text = invoke("replay", scheduled, "--max-speed", "--url", redis_url)
    report = json.loads(
        invoke("replay", scheduled, "--max-speed", "--json", "--url", redis_url).stdout
    )

    assert text.stdout.startswith("published 2 events to 2 streams ")
    assert report["streams"] == {"a": 1, "c": 1}


@pytest.mark.parametrize("suffix", [".json", ".yml", ".YAML"])
def test_json_and_other_scenario_suffixes_replay_the_same(
    suffix: str, tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    path = tmp_path / f"s{suffix}"
    path.write_text(
        json.dumps(
            {
                "events": [
                    {"stream": "j", "payload": {"n": 5, "t": True, "s": "5.0", "o": {"a": [1]}}},
                    {"stream": "j", "delay": 10, "repeat": 2, "payload": {"i": "{{index}}"}},
                ]
            }
        )
    )

    ok(invoke("replay", path, "--max-speed", "--url", redis_url))

    assert fields_of(r, b"j") == [
        [b"n", b"5", b"t", b"true", b"s", b"5.0", b"o", b'{"a":[1]}'],
        [b"i", b"0"],
        [b"i", b"1"],
    ]


SMOKE = SCENARIOS / "smoke-test.yaml"


def test_dry_run_json_with_verbose_keeps_stdout_pure_json() -> None:
    result = ok(invoke("replay", SMOKE, "--dry-run", "-v", "--json", "--url", UNREACHABLE_URL))
    report = json.loads(result.stdout)  # the event lines went to stderr
    assert report["published"] == 5
    assert result.stderr.count("+0.") == 5


def test_a_stream_filter_that_matches_nothing_is_an_error_as_in_convert() -> None:
    result = invoke("replay", SMOKE, "--dry-run", "--stream", "nomatch", "--url", UNREACHABLE_URL)
    assert result.exit_code == 2, result.output
    assert "xtape: error: nothing matched --stream" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "1e-300"], "--rate 1e-300 is out of range"),
        (["--speed", "1e9"], "(or --max-speed)"),
        (["--clock", "capture"], "--clock applies to recordings"),
        (["--rate-ramp", "1000:20000"], "invalid --rate-ramp '1000:20000': use START:END:DURATION"),
        (["--rate-ramp", "1000:20000:5m", "--rate", "5"], "choose one of --speed, --max-speed, --rate and --rate-ramp"),
    ],
)
def test_pacing_and_clock_values_that_make_no_sense_are_refused(
    args: list[str], message: str
) -> None:
    result = invoke("replay", SMOKE, "--dry-run", *args, "--url", UNREACHABLE_URL)
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


def test_a_recording_whose_ids_span_decades_warns_and_points_to_capture_clock(
    tmp_path: Path,
) -> None:
    from xtape.recording import RecordingWriter

    path = tmp_path / "small-ids.xtape"
    with RecordingWriter(path) as writer:  # recorded within 1 ms; ids 1-1 and 2026
        writer.write_entries(b"s", [[b"1-1", [b"a", b"1"]], [b"1795600000000-0", [b"a", b"2"]]], 5)

    warned = ok(invoke("replay", path, "--dry-run", "--speed", "1000000", "--url", UNREACHABLE_URL))
    assert "--clock capture replays with the recorder's timing" in warned.stderr
    quiet = ok(invoke("replay", path, "--dry-run", "--clock", "capture", "--url", UNREACHABLE_URL))
    assert "warning" not in quiet.stderr


def test_dry_run_jumps_over_decades_between_ids_and_ten_day_delays(tmp_path: Path) -> None:
    # Before: ids 1-1, 2-1, then a current id ran > 10 min at 99% CPU (the fake clock woke
    # every 100 ms of the gap); a 10-day delay took 5 s. Now each wait is one jump.
    rec = write_recording(
        tmp_path / "ancient.xtape",
        [
            (b"s", 1, 1, [b"a", b"1"]),
            (b"s", 2, 1, [b"a", b"2"]),
            (b"s", 1_764_000_000_000, 0, [b"a", b"3"]),
        ],
    )
    scenario = tmp_path / "slow.yaml"
    scenario.write_text(
        "events:\n  - {stream: s, payload: {a: 1}}\n  - {stream: s, delay: 864000000, payload: {a: 2}}\n"
    )

    lines = ok(invoke("replay", rec, "--dry-run", "--url", UNREACHABLE_URL)).stdout.splitlines()
    assert lines == ["+0.000s  s  1 field", "+0.001s  s  1 field", "+1763999999.999s  s  1 field"]
    lines = ok(
        invoke("replay", scenario, "--dry-run", "--url", UNREACHABLE_URL)
    ).stdout.splitlines()
    assert lines == ["+0.000s  s  1 field", "+864000.000s  s  1 field"]


def test_the_seed_drawn_is_printed_in_text_output_of_a_dry_run_too(tmp_path: Path) -> None:
    path = tmp_path / "gen.yaml"
    path.write_text(
        "generators:\n  g: {n: {int: [1, 1000000]}}\nevents:\n  - stream: g\n    generator: true\n"
    )
    first = ok(invoke("replay", path, "--dry-run", "-v"))
    seed = int(first.stderr.split("seed: ", 1)[1].split()[0])
    again = ok(invoke("replay", path, "--dry-run", "-v", "--seed", str(seed)))
    assert again.stdout == first.stdout
    assert f"seed: {seed} (pass --seed {seed} to repeat these events)" in again.stderr
