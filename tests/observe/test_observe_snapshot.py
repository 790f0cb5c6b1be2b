"""``xtape record --snapshot``: the last minutes held in memory and written on request
(SIGUSR1, ``POST /snapshot``, a key appearing in the source), within the byte bound,
each snapshot a normal recording that reads back byte-exact with its gaps (issue 20,
item 5)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import redis
from support.capture import record_through_a_trim
from support.e2e import AWKWARD, XTAPE, invoke, ok, wait_for, xadd
from support.observe import Watched, snapshot_files
from support.streams import xrange_raw

from xtape.capture.snapshot import Snapshots
from xtape.recording import Recording


def read_back(path: Path) -> list[tuple[bytes, bytes, list[bytes]]]:
    """``(stream, id, flat fields)`` of each entry of a recording, in file order."""
    return [
        (e.stream, e.id, [part for pair in e.fields for part in pair])
        for e in Recording(path).entries()
    ]


def server_entries(r: redis.Redis, stream: bytes) -> list[tuple[bytes, bytes, list[bytes]]]:
    return [(stream, entry_id, flat) for entry_id, flat in xrange_raw(r, stream)]


def test_sigusr1_writes_a_snapshot_that_reads_back_byte_exact(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    folder, log = tmp_path / "incidents", tmp_path / "stderr.txt"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [XTAPE, "record", "odd", "-o", f"{folder}/", "--url", redis_url, "--snapshot", "5m"],
            stderr=err,
        )
    try:
        # (said once connected: SIGUSR1 is handled from then on)
        wait_for(lambda: "does not exist yet" in log.read_text(), timeout=60, what="the recorder")
        for flat in AWKWARD:
            xadd(r, "odd", flat)
        wait_for(lambda: _held(proc, log, folder, len(AWKWARD)), timeout=60, what="a snapshot of every entry")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    files = snapshot_files(folder)
    assert read_back(files[-1]) == server_entries(r, b"odd")
    info = ok(invoke("info", files[-1], "--json")).stdout
    assert '"complete": true' in info
    text = log.read_text()
    assert f"xtape: snapshot written: {files[-1]} ({len(AWKWARD)} entries)" in text
    assert f"{len(files)} snapshot" in text.splitlines()[-1]


def _held(proc: subprocess.Popen[bytes], log: Path, folder: Path, n: int) -> bool:
    """Ask for a snapshot (SIGUSR1); whether the one written holds ``n`` entries."""
    assert proc.poll() is None

    def written() -> int:
        return log.read_text().count("snapshot written: ")

    before = written()
    proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: written() > before, timeout=30, what="a snapshot written")
    return len(read_back(snapshot_files(folder)[-1])) == n


def test_post_snapshot_and_the_key_each_write_one(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    folder = tmp_path / "incidents"
    with Watched("record", "s", "-o", f"{folder}/", "--url", redis_url, "-q", "--snapshot", "1m",
                 "--snapshot-key", "xtape:snapshot") as rec:  # fmt: skip
        rec.wait_health(200, "ok: connected")
        xadd(r, "s", [b"a", b"1"])
        rec.wait_value('xtape_record_entries_total{stream="s"}', 1)
        assert rec.value("xtape_record_snapshot_buffer_bytes") == len(b"a1") + len(server_entries(r, b"s")[0][1])
        status, body = rec.http("/snapshot", method="POST")
        assert status == 200, body
        first = Path(body.strip())
        assert first.parent == folder and read_back(first) == server_entries(r, b"s")
        assert rec.value("xtape_record_snapshots_total") == 1
        assert rec.http("/snapshot")[0] == 405  # (GET does nothing)
        xadd(r, "s", [b"b", b"2"])
        rec.wait_value('xtape_record_entries_total{stream="s"}', 2)
        r.set("xtape:snapshot", "1")
        rec.wait_value("xtape_record_snapshots_total", 2)
        second = [p for p in snapshot_files(folder) if p != first]
        assert len(second) == 1 and read_back(second[0]) == server_entries(r, b"s")
        assert r.get("xtape:snapshot") == b"1"  # the recorder never writes to the source
        code, err = rec.stop()
    assert code in (0, 143), err


def test_the_byte_bound_drops_the_oldest_and_says_so(tmp_path: Path) -> None:
    snaps = Snapshots(tmp_path / "snap", 3600, max_bytes=1000).open({"source": {"url": "x"}})
    now = time.time_ns()
    value = b"v" * 90  # an entry: id (5-7 bytes) + n + value ~ 100 bytes
    for i in range(50):
        snaps.write_entries(b"s", [[b"%d-0" % (i + 1), [b"n", value]]], now + i)
    path = snaps.snapshot()
    snaps.close()
    kept = read_back(path)
    assert 5 <= len(kept) <= 10  # ~1000 bytes of entries
    assert sum(len(i) + sum(map(len, f)) for _, i, f in kept) <= 1000
    assert kept[-1][1] == b"50-0" and [int(i.split(b"-")[0]) for _, i, _ in kept] == list(
        range(51 - len(kept), 51)
    )  # the newest, in order
    notes = [m for m in Recording(path).markers() if m.kind == "note"]
    assert len(notes) == 1 and "--snapshot-max-bytes" in notes[0].text


def test_entries_older_than_the_window_are_not_in_a_snapshot(tmp_path: Path) -> None:
    snaps = Snapshots(tmp_path / "snap", 60).open({})
    now = time.time_ns()
    snaps.write_entries(b"s", [[b"1-0", [b"old", b"x"]]], now - 120 * 10**9)
    snaps.write_entries(b"s", [[b"2-0", [b"new", b"y"]]], now)
    path = snaps.snapshot()
    snaps.close()
    assert read_back(path) == [(b"s", b"2-0", [b"new", b"y"])]


def test_a_snapshot_marks_the_gaps_of_its_window(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    ids: list[bytes] = [xadd(r, "g", [b"n", b"%d" % i]) for i in range(5)]
    snaps = Snapshots(tmp_path / "snap", 600)
    stats, _ = record_through_a_trim(redis_url, tmp_path / "snap", ids, snapshots=snaps)
    assert stats.gaps == 1
    path = snaps.snapshot()
    recording = Recording(path)
    gaps = recording.gaps()
    assert len(gaps) == 1 and gaps[0].lost == 16
    assert [e.id for e in recording.entries()] == ids[:4] + ids[-5:]
    assert recording.header.options["snapshot"]["window_s"] == 600
