"""One real replay per timing mode (original 1x, scaled 4x, max speed, a fixed rate, a
rate ramp), as a process into Redis, with wide bounds: the schedule logic itself is
checked exactly on the fake clock (tests/replay/test_replay_timing_modes.py); these
check that the real clock, the process and Redis keep to it.

Arrival times come from the ids Redis gives the replayed entries (the server's clock,
in ms). An entry is never early; it may be up to half a second late (a loaded two-core
machine), which still tells a replayer that ignores ``--speed``, ``--rate`` or
``--rate-ramp`` (it would be late by 0.8 s or more on the last entries) from one that
keeps to them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis
from support.e2e import XTAPE
from support.streams import xrange_raw
from support.timing import LAST_MS, RAMP, TOTAL, offsets_by_stream, ramp_due_ms, write_irregular

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

EARLY_MS = 5  # ms resolution of ids on both ends
LATE_MS = 500
DURATION_MS = 1000


def off_schedule(arrivals: list[int], due_ms: list[float]) -> list[tuple[int, float]]:
    """The entries (index, ms) later than ``LATE_MS`` behind the most punctual one: each
    entry's lag (arrival minus due time) against the smallest lag, as the replay's own
    start is not seen in Redis (nor is the first batch always on time)."""
    lags = [arrived - due for arrived, due in zip(arrivals, due_ms, strict=True)]
    least = min(lags)
    return [(n, round(lag - least, 1)) for n, lag in enumerate(lags) if lag - least > LATE_MS]


def replay_json(*args: str) -> dict[str, Any]:
    """Run ``xtape replay ARGS --json`` as a process (the pacing of a real run, away from
    the test process's own heap) and return its report."""
    done = subprocess.run(
        [XTAPE, "replay", *args, "--json"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture(scope="module")
def irregular(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_irregular(tmp_path_factory.mktemp("timing") / "irregular.xtape")


@pytest.mark.parametrize("speed", [1, 4])
def test_irregular_traffic_arrives_on_schedule(
    speed: int, irregular: Path, redis_url: str, r: redis.Redis
) -> None:
    report = replay_json(str(irregular), "--speed", str(speed), "--url", redis_url)

    expected = offsets_by_stream()
    assert report["published"] == TOTAL
    assert report["errors"] == 0
    assert report["pacing"] == f"{speed}x"
    assert LAST_MS / speed - EARLY_MS <= report["duration_s"] * 1000 <= LAST_MS / speed + DURATION_MS, report
    assert report["lateness"]["p99_ms"] < LATE_MS, report

    arrivals, due = [], []
    for stream, offsets in expected.items():
        arrived = [int(i.split(b"-")[0]) for i, _ in xrange_raw(r, stream)]
        assert len(arrived) == len(offsets)
        arrivals += arrived
        due += [offset / speed for offset in offsets]
    assert off_schedule(arrivals, due) == [], "entries off schedule (n, ms late)"


def test_max_speed_ignores_the_gaps(irregular: Path, redis_url: str, r: redis.Redis) -> None:
    report = replay_json(str(irregular), "--max-speed", "--url", redis_url)

    assert report["published"] == TOTAL
    assert report["duration_s"] < LAST_MS / 1000 / 2
    assert report["lateness"] is None
    assert r.xlen(b"t:a") == 126


def test_rate_publishes_at_a_fixed_pace_ignoring_the_original_spacing(
    irregular: Path, redis_url: str, r: redis.Redis
) -> None:
    report = replay_json(str(irregular), "--rate", "500", "--stream", "t:c", "--url", redis_url)

    # t:c has 7 entries; event i is due at i / 500 s: the last at 12 ms, not at 1500 ms.
    assert report["published"] == 7
    assert report["pacing"] == "500/s"
    assert report["duration_s"] * 1000 <= 12 + DURATION_MS  # not the original 1090 ms
    arrivals = [int(i.split(b"-")[0]) for i, _ in xrange_raw(r, b"t:c")]
    assert off_schedule(arrivals, [index * 2 for index in range(7)]) == []


def test_rate_ramp_publishes_ever_faster_on_the_ramp_ignoring_the_original_spacing(
    irregular: Path, redis_url: str, r: redis.Redis
) -> None:
    report = replay_json(str(irregular), "--rate-ramp", RAMP, "--stream", "t:a", "--url", redis_url)

    assert report["published"] == 126
    assert report["pacing"] == "ramp 100/s to 1000/s over 1 s"
    assert ramp_due_ms(125) - EARLY_MS <= report["duration_s"] * 1000 <= ramp_due_ms(125) + DURATION_MS, report
    arrivals = [int(i.split(b"-")[0]) for i, _ in xrange_raw(r, b"t:a")]
    assert off_schedule(arrivals, [ramp_due_ms(n) for n in range(126)]) == [], "entries off the ramp"


def test_timestamp_variable_is_the_time_the_entry_is_published(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    path = tmp_path / "stamped.yaml"
    path.write_text(
        "events:\n"
        '  - {stream: s, payload: {t: "{{timestamp}}"}}\n'
        '  - {stream: s, delay: 200, repeat: 3, interval: 100, payload: {t: "{{timestamp}}"}}\n'
    )

    assert replay_json(str(path), "--speed", "2", "--url", redis_url)["published"] == 4

    entries = xrange_raw(r, b"s")
    stamps = [int(flat[1]) for _, flat in entries]
    arrivals = [int(entry_id.split(b"-")[0]) for entry_id, _ in entries]
    assert [s - stamps[0] for s in stamps] == [0, 100, 150, 200]  # offsets / speed
    for stamp, arrived in zip(stamps, arrivals, strict=True):
        assert -EARLY_MS <= arrived - stamp <= LATE_MS
