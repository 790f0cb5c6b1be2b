"""Format v2 (issue 12): v1 and v2 read the same, chunks survive a SIGKILL, a summary
makes info instant and --since seek, split sets read as one, --keep-last keeps its promise.
"""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from support.e2e import XTAPE, invoke, ok, wait_for, xadd
from support.paths import ROOT
from support.recording import rewrite

from xtape.recording import Recording, RecordingWriter, summarize
from xtape.recording.chunks import CHUNK_MAGIC
from xtape.recording.split import SplitWriter, numbered_files

SAMPLE = ROOT / "recordings" / "sample.xtape"
T0 = 1_700_000_000_000


def _many(path: Path | SplitWriter, n: int = 3000, streams: int = 3, per_batch: int = 10, **options: object) -> list[bytes]:
    """``n`` entries in rounds of one batch per stream; the ids written, in order."""
    writer = path if isinstance(path, SplitWriter) else RecordingWriter(path, **options)  # type: ignore[arg-type]
    ids = []
    with writer:
        for start in range(0, n, per_batch * streams):
            capture = (T0 + start) * 1_000_000
            for s in range(streams):
                batch = []
                for i in range(start + s * per_batch, min(start + (s + 1) * per_batch, n)):
                    batch.append([b"%d-0" % (T0 + i), [b"n", b"%d" % i, b"payload", b"x%d" % (i % 7)]])
                    ids.append(b"%d-0" % (T0 + i))
                if batch:
                    writer.write_entries(b"s:%d" % s, batch, capture)
    return ids


def test_the_shipped_v1_sample_reads_as_before() -> None:
    rec = Recording(SAMPLE)
    assert rec.header.version == 1
    info = summarize(SAMPLE)
    assert info.version == 1 and info.complete and info.summary is None and info.entries > 0


@pytest.mark.parametrize("compression", ["zstd", "lz4", "none"])
@pytest.mark.parametrize("flush", [0.0, 3600.0])
def test_v1_and_v2_read_the_same(tmp_path: Path, compression: str, flush: float) -> None:
    v2 = tmp_path / "v2.xtape"
    rewrite(SAMPLE, v2, compression=compression, flush_interval=flush)
    assert Recording(v2).header.version == 2
    for time_base in ("id", "capture"):
        for interleave in (True, False):
            a = list(Recording(SAMPLE, time_base=time_base, interleave=interleave).events())  # type: ignore[arg-type]
            b = list(Recording(v2, time_base=time_base, interleave=interleave).events())  # type: ignore[arg-type]
            assert a == b and a
    assert list(Recording(SAMPLE).entries()) == list(Recording(v2).entries())
    assert Recording(SAMPLE).gaps() == Recording(v2).gaps()
    assert Recording(SAMPLE).markers() == Recording(v2).markers()
    one, two = summarize(SAMPLE).to_dict(), summarize(v2).to_dict()
    assert two["summary"] == "stored" and two["complete"]
    for key in ("entries", "streams", "gaps", "markers", "start", "end", "duration_s"):
        assert one[key] == two[key], key
    # the same from a stream (no seeking, no trailer read first)
    assert list(Recording(io.BytesIO(v2.read_bytes())).entries()) == list(Recording(SAMPLE).entries())
    assert ok(invoke("cat", SAMPLE)).stdout == ok(invoke("cat", v2)).stdout


def test_v2_with_zstd_is_smaller_than_v1(tmp_path: Path) -> None:
    v1, v2 = tmp_path / "v1.xtape", tmp_path / "v2.xtape"
    _many(v1, version=1)
    _many(v2)
    assert v2.stat().st_size < v1.stat().st_size / 2


def _last_data_byte(data: bytes | bytearray, chunk: int) -> int:
    """The last byte of the (compressed) data of the chunk at ``chunk``: not its head or
    meta, which info holds against the summary's index."""
    meta_len, data_len = struct.unpack_from("<II", data, chunk + 8)
    return chunk + 24 + meta_len + data_len - 1


def test_info_of_a_v2_file_reads_only_its_summary(tmp_path: Path) -> None:
    path = tmp_path / "big.xtape"
    _many(path, n=3000, flush_interval=0.0)  # a chunk per batch
    data = bytearray(path.read_bytes())
    # damage the data of a chunk in the middle: info does not read chunks, cat does
    middle = [i for i in range(len(data)) if data.startswith(CHUNK_MAGIC, i)][150]
    data[_last_data_byte(data, middle)] ^= 0xFF
    path.write_bytes(bytes(data))
    info = summarize(path)
    assert info.summary == "stored" and info.entries == 3000 and info.complete
    assert invoke("cat", path).exit_code == 2


def test_sigkill_during_a_chunked_write_leaves_every_complete_chunk_readable(tmp_path: Path) -> None:
    path = tmp_path / "killed.xtape"
    script = (
        "import sys, itertools\n"
        "from xtape.recording import RecordingWriter\n"
        "w = RecordingWriter(sys.argv[1], flush_interval=0.0)\n"
        "for i in itertools.count():\n"
        "    w.write_entries(b's', [[b'%d-0' % (i + 1), [b'n', b'%d' % i, b'pad', b'y' * (i % 500)]]], i)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)])
    try:
        wait_for(lambda: path.exists() and path.stat().st_size > 200_000, what="chunks written")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    data = path.read_bytes()
    chunks = data.count(CHUNK_MAGIC)
    rec = Recording(path)
    ids = [e.id for e in rec.entries()]
    # a chunk per entry: every complete chunk read back, in order, nothing invented
    assert ids == [b"%d-0" % (i + 1) for i in range(len(ids))]
    assert chunks - 1 <= len(ids) <= chunks
    assert rec.summary is not None and rec.summary.rebuilt and not rec.summary.complete
    text = ok(invoke("info", path)).stdout
    assert "summary:   rebuilt by scanning" in text and f"entries:   {len(ids)}" in text


def test_a_window_reads_only_the_chunks_that_may_hold_it(tmp_path: Path) -> None:
    path = tmp_path / "seek.xtape"
    _many(path, n=6000, flush_interval=0.0)  # 6 s of ids, a chunk per batch
    since, until = 4_000_000_000, 4_500_000_000
    everything = [e for e in Recording(path).events() if since <= e.offset_ns < until]
    rec = Recording(path)
    rec.window(since, until)
    seen = list(rec.events())
    assert [e for e in seen if since <= e.offset_ns < until] == everything and everything
    assert len(seen) < 1000  # not the 6000 a full pass reads
    # and the CLI: cat --since/--until, replay --since, the same entries
    out = ok(invoke("cat", path, "--since", "4s", "--until", "4500ms")).stdout.splitlines()
    assert [json.loads(line)["id"] for line in out] == [e.id.decode() for e in everything]
    dry = ok(invoke("replay", path, "--dry-run", "--since", "4s", "--until", "4500ms", "-v"))
    assert dry.stdout.count("XADD") == len(everything) or str(len(everything)) in dry.stderr


def test_split_sets_read_as_one(tmp_path: Path) -> None:
    folder = tmp_path / "day"
    writer = SplitWriter(folder, split_size=20_000, flush_interval=0.0)
    ids = _many(writer, n=6000)
    files = numbered_files(folder)
    assert len(files) > 3 and files[0][1].name == "000001.xtape"
    whole = tmp_path / "whole.xtape"
    assert _many(whole, n=6000) == ids
    for source in (folder, str(folder / "*.xtape")):
        rec = Recording(source)
        assert [e.id for e in rec.entries()] == ids
        assert list(rec.events()) == list(Recording(whole).events())
        info = summarize(source)
        assert info.entries == 6000 and info.complete and info.files == len(files)
        assert {s.name: s.entries for s in info.streams.values()} == {
            s.name: s.entries for s in summarize(whole).streams.values()
        }
    assert ok(invoke("cat", folder)).stdout == ok(invoke("cat", whole)).stdout
    assert "files:     " in ok(invoke("info", folder)).stdout
    rec = Recording(folder)
    rec.window(5_000_000_000, None)
    assert [e.id for e in rec.events() if e.offset_ns >= 5_000_000_000] == ids[5000:]


def test_keep_last_keeps_at_least_the_last_d(tmp_path: Path) -> None:
    now = [0.0]
    writer = SplitWriter(
        tmp_path / "roll", split_duration=10, keep_last=25, now=lambda: now[0], flush_interval=0.0
    )
    for step in range(12):  # a file per 10 s, 120 s in all
        now[0] = step * 10.0 + 0.5
        writer.write_entries(b"s", [[b"%d-0" % (step + 1), [b"k", b"v"]]], step)
        left = writer.files
        # what stays still covers the last 25 s: the oldest file left started by then
        starts = [int(p.stem) * 10.0 - 10.0 for p in left]
        assert starts[0] <= max(now[0] - 25, 0)
        assert len(left) <= 4  # and not more than that needs
    writer.close()
    left = writer.files
    assert [p.name for p in left] == ["000009.xtape", "000010.xtape", "000011.xtape", "000012.xtape"]
    assert [e.id for e in Recording(tmp_path / "roll").entries()] == [b"9-0", b"10-0", b"11-0", b"12-0"]


def test_record_split_size_and_keep_last_in_the_cli(tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    out = tmp_path / "rec"
    proc = subprocess.Popen(
        [XTAPE, "record", "ev:*", "--count", "300", "-q", "-o", f"{out}/", "--url", redis_url,
         "--split-size", "1KiB"],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: bool(out.exists() and numbered_files(out)), what="the recorder started")
        time.sleep(0.5)  # (it reads from now: let its first XREAD start)
        # a trickle over > 2 s: files rotate after each flush (every 1 s) past 1 KiB
        for i in range(300):
            xadd(r, b"ev:%d" % (i % 3), [b"n", b"%d" % i, b"payload", os.urandom(40).hex().encode()])
            time.sleep(0.008)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    files = numbered_files(out)
    assert len(files) >= 2
    info = json.loads(ok(invoke("info", out, "--json")).stdout)
    assert info["entries"] == 300 and info["complete"] and info["files"] == len(files)
    lines = [json.loads(line) for line in ok(invoke("cat", str(out / "*.xtape"))).stdout.splitlines()]
    # every entry once, each stream's in order (across streams only a round's entries are
    # in id order: docs/format.md; a loaded recorder may read the streams in other rounds)
    assert sorted(int(line["fields"][0][1]) for line in lines) == list(range(300))
    for k in range(3):
        mine = [int(line["fields"][0][1]) for line in lines if line["stream"] == f"ev:{k}"]
        assert mine == list(range(k, 300, 3))
    bad = invoke("record", "ev:*", "-o", out, "--keep-last", "1h", "--url", redis_url)
    assert bad.exit_code == 2 and "--keep-last needs" in bad.stderr


def test_the_idle_writer_flushes_within_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "idle.xtape"
    writer = RecordingWriter(path, background=True, flush_interval=0.05)
    try:
        writer.write_entries(b"s", [[b"1-0", [b"k", b"v"]]], 1)
        deadline = time.monotonic() + 10
        while [e.id for e in Recording(path).entries()] != [b"1-0"]:
            assert time.monotonic() < deadline, "the entry never reached the file"
            time.sleep(0.02)
    finally:
        writer.close()


def test_info_of_a_split_set_being_written_reads_only_the_open_file(tmp_path: Path) -> None:
    folder = tmp_path / "live"
    writer = SplitWriter(folder, split_size=20_000, flush_interval=0.0)
    ids = _many(writer, n=6000)
    files = [p for _, p in numbered_files(folder)]
    # the last file as a killed recorder leaves it: no summary; damage in a closed file's
    # chunk data is not read (its summary is used)
    last = files[-1].read_bytes()
    files[-1].write_bytes(last[: last.rindex(b"XTS2")])
    first = bytearray(files[0].read_bytes())
    first[_last_data_byte(first, first.index(CHUNK_MAGIC))] ^= 0xFF
    files[0].write_bytes(bytes(first))
    info = summarize(folder)
    assert info.entries == len(ids) and info.summary == "rebuilt" and not info.complete
    assert info.files == len(files)
