"""Replay timing on irregular traffic (bursts and idle gaps): entries arrive when the
schedule says, at 1x and 4x, and the report's duration and lateness agree.

Arrival times come from the ids Redis gives the replayed entries (the server's clock,
in ms). Margins are generous so that a loaded two-core machine does not fail the test;
a replayer that drifts, accumulates sleeps or ignores ``--speed`` misses them by far.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis
from support.e2e import XTAPE, write_recording
from support.streams import xrange_raw

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

T0 = 1_700_000_000_000

#: (offset ms, stream, entries at that ms): bursts of 50, lone entries, a steady run,
#: and idle gaps of 100-300 ms, about 1.5 s in all.
LAYOUT: list[tuple[int, bytes, int]] = [
    (0, b"t:a", 50),
    (120, b"t:b", 1),
    (130, b"t:a", 1),
    (400, b"t:a", 25),
    (400, b"t:b", 25),
    *[(410 + 10 * i, b"t:c", 1) for i in range(5)],
    (700, b"t:b", 50),
    (950, b"t:c", 1),
    (1200, b"t:a", 50),
    (1500, b"t:c", 1),
]
LAST_MS = max(ms for ms, _, _ in LAYOUT)

EARLY_MS = 5  # ms resolution of ids on both ends, and the first batch's own lateness
LATE_MS = 50
DURATION_MS = 60


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


def offsets_by_stream() -> dict[bytes, list[int]]:
    out: dict[bytes, list[int]] = {}
    for ms, stream, n in LAYOUT:
        out.setdefault(stream, []).extend([ms] * n)
    return out


@pytest.fixture(scope="module")
def irregular(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("timing") / "irregular.xtape"
    return write_recording(
        path,
        [
            (
                stream,
                T0 + ms,
                seq,
                [b"stream", stream, b"ms", str(ms).encode(), b"seq", str(seq).encode()],
            )
            for ms, stream, n in LAYOUT
            for seq in range(n)
        ],
    )


@pytest.mark.parametrize("speed", [1, 4])
def test_irregular_traffic_arrives_on_schedule(
    speed: int, irregular: Path, redis_url: str, r: redis.Redis
) -> None:
    report = replay_json(str(irregular), "--speed", str(speed), "--url", redis_url)

    expected = offsets_by_stream()
    total = sum(len(v) for v in expected.values())
    assert report["published"] == total
    assert report["errors"] == 0
    assert report["pacing"] == f"{speed}x"
    assert abs(report["duration_s"] * 1000 - LAST_MS / speed) <= DURATION_MS, report
    assert report["lateness"]["p99_ms"] < 20, report

    arrivals = {
        stream: [int(i.split(b"-")[0]) for i, _ in xrange_raw(r, stream)] for stream in expected
    }
    first = min(ms for times in arrivals.values() for ms in times)
    misses = []
    for stream, offsets in expected.items():
        assert len(arrivals[stream]) == len(offsets)
        for arrived, offset in zip(arrivals[stream], offsets, strict=True):
            error = (arrived - first) - offset / speed
            if not -EARLY_MS <= error <= LATE_MS:
                misses.append((stream, offset, round(error, 1)))
    assert misses == [], f"entries off schedule (stream, offset ms, error ms): {misses[:10]}"


def test_max_speed_ignores_the_gaps(irregular: Path, redis_url: str, r: redis.Redis) -> None:
    report = replay_json(str(irregular), "--max-speed", "--url", redis_url)

    assert report["published"] == sum(n for _, _, n in LAYOUT)
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
    assert report["duration_s"] * 1000 <= 12 + DURATION_MS
    arrivals = [int(i.split(b"-")[0]) for i, _ in xrange_raw(r, b"t:c")]
    for index, arrived in enumerate(arrivals):
        assert -EARLY_MS <= (arrived - arrivals[0]) - index * 2 <= LATE_MS


def test_rate_ramp_publishes_ever_faster_on_the_ramp_ignoring_the_original_spacing(
    irregular: Path, redis_url: str, r: redis.Redis
) -> None:
    report = replay_json(str(irregular), "--rate-ramp", "100:1000:1s", "--stream", "t:a", "--url", redis_url)

    # t:a has 126 entries; the rate rises from 100/s by 900/s per second, so entry n is
    # due where 100 t + 450 t^2 = n: the last (n = 125) at 0.4275 s, not at 1.2 s
    # (the original spacing) nor at 1.25 s (a steady 100/s).
    def due_ms(n: int) -> float:
        return 1000 * 2 * n / (100 + (100**2 + 4 * 450 * n) ** 0.5)

    assert report["published"] == 126
    assert report["pacing"] == "ramp 100/s to 1000/s over 1 s"
    assert abs(report["duration_s"] * 1000 - due_ms(125)) <= DURATION_MS, report
    arrivals = [int(i.split(b"-")[0]) for i, _ in xrange_raw(r, b"t:a")]
    misses = [
        (n, round(arrived - arrivals[0] - due_ms(n), 1))
        for n, arrived in enumerate(arrivals)
        if not -EARLY_MS <= (arrived - arrivals[0]) - due_ms(n) <= LATE_MS
    ]
    assert misses == [], f"entries off the ramp (n, error ms): {misses[:10]}"


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
