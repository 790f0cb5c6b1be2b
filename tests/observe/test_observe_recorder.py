"""A recorder's metrics, read in-process from its registry: gaps and entries lost per
stream, files rotated and deleted by a rolling recording, the current file, bytes
(issue 20, item 1)."""

from __future__ import annotations

from pathlib import Path

import redis
from prometheus_client import CollectorRegistry
from support.capture import record_through_a_trim
from support.e2e import xadd

from xtape.capture import RecordOptions, parse_start, record
from xtape.observe.metrics import RecordMetrics
from xtape.recording import Recording
from xtape.recording.split import numbered_files


def test_a_gap_counts_per_stream_with_the_entries_lost(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    ids = [xadd(r, "g", [b"n", b"%d" % i]) for i in range(5)]
    registry = CollectorRegistry()
    stats, _ = record_through_a_trim(redis_url, tmp_path / "g.xtape", ids, observer=RecordMetrics(registry))
    get = registry.get_sample_value
    assert stats.gaps == 1 and stats.lost == 16
    assert get("xtape_record_gaps_total", {"stream": "g"}) == 1
    assert get("xtape_record_lost_entries_total", {"stream": "g"}) == 16
    assert get("xtape_record_entries_total", {"stream": "g"}) == stats.entries == 9
    assert get("xtape_record_lag_entries", {"stream": "g"}) == 0  # caught up at the end


def test_a_rolling_recording_counts_files_rotated_and_deleted(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    for i in range(40):
        xadd(r, "roll", [b"n", b"%d" % i, b"pad", b"x" * 100])
    registry = CollectorRegistry()
    folder = tmp_path / "roll"
    options = RecordOptions(
        ["roll"], start=parse_start("start"), count=40, batch=8, split_duration=1e-6, keep_last=1e-6
    )  # a new file every round (of 8 or 16 entries), the older ones deleted
    stats = record(redis_url, folder, options, observer=RecordMetrics(registry))
    get = registry.get_sample_value
    left = numbered_files(folder)
    created = left[-1][0]  # numbered from 1, one per file
    assert created >= 3 and stats.entries == 40
    assert get("xtape_record_files_rotated_total") == created - 1
    assert get("xtape_record_files_deleted_total") == created - len(left) > 0
    assert get("xtape_record_file_info", {"path": str(left[-1][1])}) == 1
    assert get("xtape_record_file_bytes") == left[-1][1].stat().st_size
    packed = get("xtape_record_bytes_total", {"stream": "roll"})
    assert packed is not None and packed > 40 * 100
    assert 0 < sum(1 for _ in Recording(left[-1][1]).entries()) < 40
