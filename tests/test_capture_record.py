"""The recorder against a real server: fidelity under live traffic, start positions,
stop rules, gaps and redaction."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
from capture_support import by_stream, record_through_a_trim, start_recorder
from conftest import xrange_raw
from e2e_support import wait_for, xadd

from xtape.capture import Progress, RecordOptions, parse_start
from xtape.connection import connect
from xtape.recording import Recording, summarize

UNICODE = "ström:😀".encode()
AWKWARD: list[list[bytes]] = [
    [b"a", b"1", b"a", b"2", b"b", b""],  # duplicate names, empty value
    [b"", b"empty name"],
    [b"bin\xff\x00", b"\x80\x81\xfe not utf-8"],
    ["ключ".encode(), "значение 😀".encode()],
]




def test_live_traffic_is_recorded_byte_identical(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    """Threads, redis-benchmark, awkward bytes, a 1 MiB value and a stream created after
    the start: every stream's recording equals its XRANGE."""
    for flat in AWKWARD:
        xadd(r, b"old", flat)
    path = tmp_path / "live.xtape"
    options = RecordOptions(
        patterns=["old", "bench", "t:*", "ström:😀"],
        start=parse_start("start"),
        scan_interval_s=0.05,
        batch=500,
    )
    per_thread, n_bench = 400, 20000
    total = len(AWKWARD) + 3 * per_thread + n_bench + 2
    options.count = total
    reports: list[Progress] = []
    bg = start_recorder(redis_url, path, options, progress=reports.append)

    def produce(stream: bytes, n: int) -> None:
        client = connect(redis_url)
        for i in range(n):
            xadd(client, stream, [*AWKWARD[i % len(AWKWARD)], b"i", str(i).encode()])
        client.close()

    port = r.connection_pool.connection_kwargs["port"]
    bench = subprocess.Popen(
        [
            shutil.which("redis-benchmark") or "redis-benchmark",
            "-p",
            str(port),
            "-n",
            str(n_bench),
            "-P",
            "16",
            "-q",
            "XADD",
            "bench",
            "*",
            "f",
            "v",
        ],
        stdout=subprocess.DEVNULL,
    )
    threads = [
        threading.Thread(target=produce, args=(name, per_thread))
        for name in (b"t:1", UNICODE, b"t:created-later")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bench.wait(60) == 0
    xadd(r, b"t:1", [b"big", b"\xab" * (1 << 20)])
    xadd(r, b"t:late2", [b"x", b"y"])

    stats = bg.join()
    assert stats.stop_reason == "count"
    assert stats.entries == total
    recorded = by_stream(path)
    streams = [b"old", b"bench", b"t:1", UNICODE, b"t:created-later", b"t:late2"]
    assert set(recorded) == set(streams)
    for stream in streams:
        assert recorded[stream] == xrange_raw(r, stream), stream
        assert stats.streams[stream] == len(recorded[stream])
    info = summarize(path)
    assert info.complete and info.truncated_bytes == 0 and not info.gaps
    assert info.source["patterns"] == options.patterns
    assert info.options["from"] == "start"
    for a, b in itertools.pairwise(reports):
        assert b.elapsed_s - a.elapsed_s >= 0.2


def _record_count(url: str, path: Path, start: str, count: int, streams: list[str]) -> None:
    options = RecordOptions(patterns=streams, start=parse_start(start), count=count)
    start_recorder(url, path, options).join()


def _ids(path: Path) -> list[bytes]:
    return [e.id for e in Recording(path).entries()]


def test_from_now_records_only_new_entries(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    old = [xadd(r, "s", [b"k", b"old"]) for _ in range(5)]
    path = tmp_path / "now.xtape"
    bg = start_recorder(redis_url, path, RecordOptions(["s", "late"], count=4, scan_interval_s=0.1))
    new = [xadd(r, "s", [b"k", b"new"]) for _ in range(3)]
    # A stream that did not exist at the start: all of it is new, even a small explicit id.
    new.append(xadd(r, "late", [b"k", b"v"], "1-1"))
    stats = bg.join()
    ids = _ids(path)
    assert sorted(ids) == sorted(new)
    assert not set(ids) & set(old)
    assert stats.streams == {b"s": 3, b"late": 1}


def test_from_start_records_everything(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    ids = [xadd(r, "s", [b"n", str(i).encode()]) for i in range(50)]
    path = tmp_path / "start.xtape"
    _record_count(redis_url, path, "start", 50, ["s"])
    assert _ids(path) == ids


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("1970-01-01T00:00:01Z", [b"1000-0", b"1000-1", b"1001-0"]),
        ("1000", [b"1000-0", b"1000-1", b"1001-0"]),
        ("1000-0", [b"1000-1", b"1001-0"]),
    ],
)
def test_from_time_includes_ms_zero_and_id_is_exclusive(
    redis_url: str, r: redis.Redis, tmp_path: Path, start: str, expected: list[bytes]
) -> None:
    for entry_id in ("998-0", "999-7", "1000-0", "1000-1", "1001-0"):
        xadd(r, "s", [b"f", b"v"], entry_id)
    path = tmp_path / "time.xtape"
    _record_count(redis_url, path, start, len(expected), ["s"])
    assert _ids(path) == expected


def test_from_negative_duration(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    now_ms = int(time.time() * 1000)
    ids = [f"{now_ms - ago}-0".encode() for ago in (1_200_000, 300_000, 60_000)]
    for entry_id in ids:
        xadd(r, "s", [b"f", b"v"], entry_id.decode())
    path = tmp_path / "ago.xtape"
    _record_count(redis_url, path, "-10m", 2, ["s"])
    assert _ids(path) == ids[1:]


def test_count_keeps_exactly_the_oldest_entries_across_streams(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    for ms in range(1, 11):
        xadd(r, "a", [b"f", b"v"], f"{ms}-0")
        xadd(r, "b", [b"f", b"v"], f"{ms}-1")
    path = tmp_path / "count.xtape"
    _record_count(redis_url, path, "start", 15, ["a", "b"])
    ids = _ids(path)
    assert len(ids) == 15
    assert sorted(ids, key=lambda i: tuple(map(int, i.split(b"-")))) == ids
    assert ids[-1] == b"8-0"
    assert summarize(path).complete


def test_until_idle_and_stop_event_stop_cleanly(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    xadd(r, "s", [b"f", b"v"])
    idle = start_recorder(
        redis_url,
        tmp_path / "idle.xtape",
        RecordOptions(["s"], start=parse_start("start"), until_idle_s=0.3),
    ).join()
    assert (idle.stop_reason, idle.entries) == ("idle", 1)

    stop = threading.Event()
    bg = start_recorder(redis_url, tmp_path / "stop.xtape", RecordOptions(["s"]), stop_event=stop)
    stop.set()
    assert bg.join().stop_reason == "stopped"
    assert summarize(tmp_path / "stop.xtape").complete


def test_a_literal_name_of_another_type_is_refused(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    from xtape.capture import record
    from xtape.errors import UsageError

    r.set("plain", "x")
    with pytest.raises(UsageError, match="'plain' is a string, not a stream"):
        record(redis_url, tmp_path / "x.xtape", RecordOptions(["plain"]))
    assert not (tmp_path / "x.xtape").exists()


def test_entries_trimmed_before_reading_are_a_gap(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    ids = [xadd(r, "g", [b"n", str(i).encode()]) for i in range(10)]
    path = tmp_path / "gap.xtape"
    stats, warnings = record_through_a_trim(redis_url, path, ids)
    assert _ids(path) == ids[:4] + ids[25:]
    [gap] = Recording(path).gaps()
    assert (gap.after_id, gap.before_id, gap.lost) == (ids[3], ids[25], 21)
    assert (stats.gaps, stats.lost) == (1, 21)
    assert any("gap in 'g': 21 entries" in w for w in warnings)


def test_history_trimmed_before_the_start_is_not_a_gap(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    for i in range(30):
        r.execute_command("XADD", "h", "MAXLEN", "5", "*", "n", str(i))
    path = tmp_path / "history.xtape"
    _record_count(redis_url, path, "start", 5, ["h"])
    assert _ids(path) == [e[0] for e in xrange_raw(r, "h")]
    assert Recording(path).gaps() == []


def test_redacted_values_are_stable_digests_and_absent_from_the_file(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    secrets = [b"hunter2-secret", b"s3cr3t-token-\xff", b"hunter2-secret"]
    for secret in secrets:
        xadd(r, "u", [b"user", b"ann", b"password", secret, b"token", secret, b"tok", b"keep"])
    path = tmp_path / "redacted.xtape"
    options = RecordOptions(["u"], start=parse_start("start"), count=3, redact=["pass*", "tok?n"])
    start_recorder(redis_url, path, options).join()
    data = path.read_bytes()
    assert b"hunter2" not in data and b"s3cr3t" not in data
    fields = [dict(e.fields) for e in Recording(path).entries()]
    digests = [f[b"password"] for f in fields]
    assert all(d.startswith(b"redacted:") for d in digests)
    assert digests[0] == digests[2] != digests[1]
    assert [f[b"token"] for f in fields] == digests
    assert [(f[b"user"], f[b"tok"]) for f in fields] == [(b"ann", b"keep")] * 3
    assert Recording(path).header.options["redact"] == ["pass*", "tok?n"]


def test_a_stream_replaced_by_another_type_is_dropped_with_a_warning(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    xadd(r, "keep", [b"f", b"1"])
    xadd(r, "gone", [b"f", b"1"])
    path = tmp_path / "dropped.xtape"
    warnings: list[str] = []
    options = RecordOptions(["keep", "gone"], start=parse_start("start"), count=3)
    bg = start_recorder(redis_url, path, options, warnings=warnings)
    wait_for(lambda: bg.recorder.stats.entries == 2, what="the backlog")
    r.delete("gone")
    r.set("gone", "now a string")
    xadd(r, "keep", [b"f", b"2"])
    stats = bg.join()
    assert stats.streams == {b"keep": 2, b"gone": 1}
    assert any("'gone' is no longer a stream (string)" in w for w in warnings)
    assert [e.stream for e in Recording(path).entries()] == [b"keep", b"gone", b"keep"]
