"""The issue's "done when", byte for byte: awkward traffic recorded with ``xtape record``
comes back identical through ``xtape replay`` of the recording, through ``xtape convert``
and a replay of the scenario (with or without ``--collapse-repeats``/``--max-delay``),
and with ``--keep-ids`` even the ids are the same."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from support.e2e import (
    AWKWARD,
    MIB_VALUE,
    TRICKY_TEXT,
    all_entries,
    error_line,
    fields_of,
    invoke,
    ok,
    streams,
    xadd,
)
from support.streams import xrange_raw

from xtape.connection import connect
from xtape.scenario import load_scenario
from xtape.server import RedisServer

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

UNICODE_STREAM = "src:ström😀".encode()
BINARY_STREAM = b"src:\xffraw\x00"


def produce(client: redis.Redis, *, binary_name: bool = True) -> int:
    """Write awkward traffic into ``src:*`` streams; return the number of entries."""
    tick = int(time.time() * 1000) - 60_000  # a steady run of equal payloads, 10 ms apart
    for i in range(5):
        xadd(client, b"src:tick", [b"beat", b"1"], f"{tick + 10 * i}-0")
    xadd(client, b"src:tick", [b"beat", b"2"], f"{tick + 50}-0")
    for flat in AWKWARD:
        xadd(client, b"src:plain", flat)
        xadd(client, UNICODE_STREAM, flat)
    for text in TRICKY_TEXT:
        value = text.encode()
        xadd(client, b"src:tricky", [b"v", value, value, b"as a name"])
    xadd(client, b"src:big", [b"big", MIB_VALUE, b"after", b"big"])
    if binary_name:
        xadd(client, BINARY_STREAM, [b"k", b"v", b"k", b"\xff"])
    return sum(client.xlen(s) for s in streams(client, b"src:*"))


def record(url: str, path: Path, count: int) -> Path:
    result = ok(
        invoke("record", "src:*", "--from", "start", "--count", count, "-o", path, "--url", url)
    )
    assert f"recorded {count} entries from " in result.stderr
    return path


def assert_same_fields(
    source: redis.Redis, target: redis.Redis, prefix: bytes = b""
) -> list[bytes]:
    """Every ``src:*`` stream of ``source`` arrived in ``target`` (as ``prefix + name``)
    with the same fields, byte for byte, and nothing else arrived."""
    names = streams(source, b"src:*")
    assert names
    assert streams(target, prefix + b"src:*") == sorted(prefix + name for name in names)
    for name in names:
        assert fields_of(target, prefix + name) == fields_of(source, name), name
    return names


def test_recording_replays_byte_identical_into_other_names(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    count = produce(r)
    path = record(redis_url, tmp_path / "f.xtape", count)

    result = ok(invoke("replay", path, "--max-speed", "--prefix", "dst:", "--url", redis_url))

    assert result.stdout.startswith(f"published {count} events to 6 streams ")
    names = assert_same_fields(r, r, b"dst:")
    assert BINARY_STREAM in names and UNICODE_STREAM in names
    assert [i for i, _ in xrange_raw(r, b"dst:src:plain")] != [
        i for i, _ in xrange_raw(r, b"src:plain")
    ]


def test_recording_replays_byte_identical_into_a_second_server(
    tmp_path: Path, redis_url: str, r: redis.Redis, second: tuple[str, redis.Redis]
) -> None:
    url, target = second
    count = produce(r)
    path = record(redis_url, tmp_path / "f.xtape", count)

    ok(invoke("replay", path, "--max-speed", "--url", url))

    assert_same_fields(r, target)


CONVERT_OPTIONS = {
    "plain": [],
    "collapse": ["--collapse-repeats"],
    "max-delay": ["--max-delay", "5"],
    "both": ["--collapse-repeats", "--max-delay", "20"],
    "collapse-capped": ["--collapse-repeats", "--max-delay", "4"],
}


@pytest.mark.parametrize("variant", sorted(CONVERT_OPTIONS))
def test_converted_scenario_replays_byte_identical(
    variant: str, tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    count = produce(r, binary_name=False)  # a scenario's stream names are text
    path = record(redis_url, tmp_path / "f.xtape", count)
    scenario = tmp_path / "s.yaml"

    converted = ok(invoke("convert", path, "-o", scenario, *CONVERT_OPTIONS[variant]))
    replayed = ok(invoke("replay", scenario, "--max-speed", "--prefix", "dst:", "--url", redis_url))

    assert converted.stderr.startswith(f"wrote {scenario}: ")
    assert replayed.stdout.startswith(f"published {count} events to 5 streams ")
    assert_same_fields(r, r, b"dst:")
    options = CONVERT_OPTIONS[variant]
    cap = float(options[-1]) if "--max-delay" in options else None
    events = load_scenario(scenario).events
    ticks = [e for e in events if e.stream == "src:tick"]
    if "--collapse-repeats" in options:
        # Five equal payloads 10 ms apart fold into one event (the cap shortens the interval).
        assert [(e.repeat, e.interval) for e in ticks] == [(5, min(10, cap or 10)), (1, 0)]
        assert "repeat: 5" in scenario.read_text()
    else:
        assert [e.repeat for e in ticks] == [1] * 6
    if cap is not None:
        assert max(e.delay for e in events) == cap
    else:
        assert max(e.delay for e in events) >= 59_000  # the minute between tick and the rest


def test_converted_scenario_to_stdout_is_the_same_document(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    count = produce(r, binary_name=False)
    path = record(redis_url, tmp_path / "f.xtape", count)
    scenario = tmp_path / "s.yaml"

    ok(invoke("convert", path, "-o", scenario))
    to_stdout = ok(invoke("convert", path, "-o", "-"))

    assert to_stdout.stdout == scenario.read_text(encoding="utf-8")


def test_converting_a_non_utf8_stream_name_says_how_to_go_on(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    count = produce(r)
    path = record(redis_url, tmp_path / "f.xtape", count)

    line = error_line(invoke("convert", path, "-o", tmp_path / "s.yaml"), 2)

    assert "not UTF-8" in line and "--stream" in line
    assert not (tmp_path / "s.yaml").exists()


# --------------------------------------------------------------------------- --keep-ids


@pytest.fixture()
def second(make_server: Callable[..., RedisServer]) -> Iterator[tuple[str, redis.Redis]]:
    """A second, empty server: its URL and a bytes client."""
    server = make_server()
    client = connect(server.url)
    yield server.url, client
    client.close()


def test_keep_ids_restores_a_recording_exactly_into_an_empty_server(
    tmp_path: Path, redis_url: str, r: redis.Redis, second: tuple[str, redis.Redis]
) -> None:
    url, target = second
    count = produce(r)
    path = record(redis_url, tmp_path / "f.xtape", count)

    ok(invoke("replay", path, "--keep-ids", "--max-speed", "--url", url))

    assert all_entries(target) == all_entries(r)


def test_keep_ids_restores_a_converted_scenario_exactly(
    tmp_path: Path, redis_url: str, r: redis.Redis, second: tuple[str, redis.Redis]
) -> None:
    url, target = second
    count = produce(r, binary_name=False)
    path = record(redis_url, tmp_path / "f.xtape", count)
    scenario = tmp_path / "s.yaml"
    ok(invoke("convert", path, "-o", scenario))

    ok(invoke("replay", scenario, "--keep-ids", "--max-speed", "--url", url))

    assert all_entries(target) == all_entries(r)


def test_keep_ids_accepts_a_target_whose_ids_are_all_lower(
    tmp_path: Path, redis_url: str, r: redis.Redis, second: tuple[str, redis.Redis]
) -> None:
    url, target = second
    count = produce(r)
    path = record(redis_url, tmp_path / "f.xtape", count)
    xadd(target, b"src:plain", [b"old", b"entry"], "1-1")

    ok(invoke("replay", path, "--keep-ids", "--max-speed", "--url", url))

    assert xrange_raw(target, b"src:plain") == [
        (b"1-1", [b"old", b"entry"]),
        *xrange_raw(r, b"src:plain"),
    ]


@pytest.mark.parametrize("emptied", [False, True], ids=["holding-entries", "emptied-by-xtrim"])
def test_keep_ids_into_a_stream_with_higher_ids_is_refused_and_publishes_nothing(
    emptied: bool,
    tmp_path: Path,
    redis_url: str,
    r: redis.Redis,
    second: tuple[str, redis.Redis],
) -> None:
    url, target = second
    count = produce(r)
    path = record(redis_url, tmp_path / "f.xtape", count)
    xadd(target, b"src:plain", [b"newer", b"entry"], "99999999999999-0")
    if emptied:  # an empty stream still remembers its last generated id
        target.xtrim(b"src:plain", maxlen=0)
    before = all_entries(target)

    result = invoke("replay", path, "--keep-ids", "--max-speed", "--url", url)

    line = error_line(result, 2)
    assert "stream 'src:plain' already has ids up to 99999999999999-0" in line
    assert "replay into a fresh target" in line and "drop --keep-ids" in line
    assert all_entries(target) == before
    assert target.dbsize() == 1


def test_keep_ids_refusal_names_a_binary_stream_as_displayed_elsewhere(
    tmp_path: Path, redis_url: str, r: redis.Redis, second: tuple[str, redis.Redis]
) -> None:
    url, target = second
    count = produce(r)
    path = record(redis_url, tmp_path / "f.xtape", count)
    xadd(target, BINARY_STREAM, [b"newer", b"entry"], "99999999999999-0")

    line = error_line(invoke("replay", path, "--keep-ids", "--max-speed", "--url", url), 2)

    assert r"stream 'src:\xffraw\x00' already has ids up to 99999999999999-0" in line


def test_converting_the_empty_stream_name_gives_a_replayable_scenario_or_a_clear_error(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    xadd(r, b"", [b"k", b"v"])
    xadd(r, b"s", [b"k", b"w"])
    path = tmp_path / "f.xtape"
    ok(invoke("record", "", "s", "--from", "start", "--count", "2", "-o", path, "--url", redis_url))
    scenario = tmp_path / "s.yaml"

    converted = invoke("convert", path, "-o", scenario)

    if converted.exit_code == 0:
        ok(invoke("validate", scenario))
        ok(invoke("replay", scenario, "--max-speed", "--prefix", "dst:", "--url", redis_url))
        assert fields_of(r, b"dst:") == [[b"k", b"v"]]
    else:
        assert "stream" in error_line(converted, 2)


def test_keep_ids_of_a_collapsed_scenario_restores_it_or_refuses_before_publishing(
    tmp_path: Path, redis_url: str, r: redis.Redis, second: tuple[str, redis.Redis]
) -> None:
    url, target = second
    count = produce(r, binary_name=False)
    path = record(redis_url, tmp_path / "f.xtape", count)
    scenario = tmp_path / "s.yaml"
    ok(invoke("convert", path, "-o", scenario, "--collapse-repeats"))

    result = invoke("replay", scenario, "--keep-ids", "--max-speed", "--url", url)

    if result.exit_code == 2:
        assert "src:tick" in error_line(result, 2)
        assert target.dbsize() == 0
    else:
        assert ok(result).stdout.startswith(f"published {count} events")
        assert_same_fields(r, target)
