"""Format v2 files that lie: a chunk length in an unclosed file, a CRC-valid summary that
contradicts its chunks, chunks that decompress to far more than a file's size. Each is
damage (one line, exit 2), found before it costs memory, never a silent loss."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import msgpack
import pytest
import zstandard
from support.e2e import XTAPE, invoke
from support.recording import chunk_starts, ghost, resummarize, thousand

from xtape.errors import DamagedRecording
from xtape.recording import Recording, RecordingWriter, summarize
from xtape.recording.chunks import (
    CHUNK_HEAD,
    CHUNK_MAGIC,
    MAX_CHUNK_ITEMS,
    SUMMARY_MAGIC,
    ChunkMeta,
    IndexEntry,
    Summary,
    summary_frame,
    trailer,
)

#: Commands that read a recording whole (merge too, below).
READERS: list[list[str]] = [
    ["cat"],
    ["info"],
    ["convert", "-o", "-"],
    ["replay", "--dry-run"],
]


# ------------------------------------------------------------------ 16.7: a lying length


def test_a_lying_length_in_an_unclosed_file_is_damage_not_a_tail(tmp_path: Path) -> None:
    data = bytearray(thousand(tmp_path / "full.xtape").read_bytes())
    del data[data.rindex(SUMMARY_MAGIC) :]  # what a killed recorder leaves: no summary
    second = chunk_starts(bytes(data))[1]
    struct.pack_into("<I", data, second + 12, 10_000_000)  # chunk #2's data length
    path = tmp_path / "lying.xtape"
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedRecording, match=f"damaged at byte {second}: .*past the end"):
        list(Recording(path).entries())
    for command in READERS:
        result = invoke(command[0], path, *command[1:])
        assert result.exit_code == 2, (command, result.output)
        assert f"damaged at byte {second}" in result.stderr and "incomplete record" not in result.output
    merged = invoke("merge", path, "-o", tmp_path / "merged.xtape")
    assert merged.exit_code == 2 and not (tmp_path / "merged.xtape").exists()
    # from a pipe too: the bytes that follow hold a sound chunk
    with pytest.raises(DamagedRecording, match="past the end"):
        list(Recording(io.BytesIO(bytes(data))).entries())


def test_a_tail_cut_inside_the_last_chunk_is_still_a_reported_skip(tmp_path: Path) -> None:
    data = thousand(tmp_path / "full.xtape").read_bytes()
    last = chunk_starts(data)[-1]
    path = tmp_path / "cut.xtape"
    path.write_bytes(data[: last + 40])
    rec = Recording(path)
    assert sum(1 for _ in rec.entries()) == 900 and rec.truncated_bytes == 40


# --------------------------------------------------------- 16.8: a summary that lies


def _fake_marker(summary: Summary) -> None:
    summary.markers.append([1_000_000_001, "restart", "the server restarted"])


def _index_offset(summary: Summary) -> None:
    c = summary.chunks
    c[0], c[5] = type(c[0])(c[5].offset, c[0].length, c[0].meta), type(c[5])(c[0].offset, c[5].length, c[5].meta)


@pytest.mark.parametrize("lie", [_index_offset, ghost])
def test_a_summary_that_contradicts_its_chunks_is_damage_everywhere(tmp_path: Path, lie: object) -> None:
    path = tmp_path / "lie.xtape"
    path.write_bytes(resummarize(thousand(tmp_path / "ok.xtape").read_bytes(), lie))
    for command in [*READERS, ["info", "--json"], ["cat", "--since", "0s"], ["replay", "--dry-run", "--since", "0s"]]:
        result = invoke(command[0], path, *command[1:])
        assert result.exit_code == 2, (command, result.output)
        assert "the summary does not match the chunks" in result.stderr, (command, result.stderr)
        assert "ghost" not in result.stdout and "100000504" not in result.stdout.replace(",", "")


def _other_kind(summary: Summary) -> None:
    summary.markers[3][1] = "restart"  # a note said to be a server restart


@pytest.mark.parametrize("lie", [_fake_marker, _other_kind])
def test_a_fake_marker_in_the_summary_is_damage_for_info_too(tmp_path: Path, lie: object) -> None:
    path = tmp_path / "marker.xtape"
    path.write_bytes(resummarize(thousand(tmp_path / "ok.xtape", markers=True).read_bytes(), lie))
    with pytest.raises(DamagedRecording, match="the summary does not match the chunks"):
        list(Recording(path).records())
    for command in (["cat"], ["info"], ["info", "--json"]):
        result = invoke(command[0], path, *command[1:])
        assert result.exit_code == 2 and "markers" in result.stderr and "restart" not in result.stdout
        assert "the summary does not match the chunks" in result.stderr


def test_a_pass_holds_the_markers_of_an_older_file_against_its_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # written before the metas counted gaps and markers: info cannot tell, a pass can
    encode = ChunkMeta.encode
    monkeypatch.setattr(ChunkMeta, "encode", lambda self: encode(self)[:7])
    ok = thousand(tmp_path / "ok.xtape", markers=True)
    monkeypatch.undo()
    path = tmp_path / "marker.xtape"
    path.write_bytes(resummarize(ok.read_bytes(), _fake_marker))
    info = invoke("info", path)
    assert info.exit_code == 0 and "checked:   summary read, held against the chunks' index; chunks not verified" in info.stdout
    result = invoke("cat", path)
    assert result.exit_code == 2 and "markers are not those of its chunks" in result.stderr
    assert invoke("check", path).exit_code == 1


def test_info_of_a_sound_file_says_it_held_the_markers(tmp_path: Path) -> None:
    text = invoke("info", thousand(tmp_path / "ok.xtape", markers=True)).stdout
    assert "checked:   summary read, held against the chunks' index and the chunks holding its gaps and markers" in text


def test_plot_shows_no_marker_its_chunks_do_not_hold(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "marker.xtape"
    path.write_bytes(resummarize(thousand(tmp_path / "ok.xtape", markers=True).read_bytes(), _fake_marker))
    result = invoke("plot", path, "-o", tmp_path / "p.svg")
    assert result.exit_code == 2 and "the summary does not match the chunks" in result.stderr


def test_a_sound_summary_is_used_and_a_window_still_skips(tmp_path: Path) -> None:
    path = thousand(tmp_path / "ok.xtape")
    info = summarize(path)
    assert info.summary == "stored" and info.entries == 1000
    rec = Recording(path)
    rec.window(900_000_000, None)  # ids span 1 s: the last 100 ms
    assert [e.id for e in rec.events()][:1] == [b"1700000000900-0"]


# ------------------------------------------------------------ 16.9: decompression bombs


def _file(meta: ChunkMeta, raw_len: int, data: bytes, *, closed: bool) -> bytes:
    header = msgpack.packb(
        {"magic": "xtape", "version": 2, "created_ns": 1, "tool": "t", "source": {}, "options": {}},
        use_bin_type=True,
    )
    meta_bytes = msgpack.packb(meta.encode(), use_bin_type=True)
    head = CHUNK_HEAD.pack(CHUNK_MAGIC, 1, len(meta_bytes), len(data), raw_len, 0)
    crc = zlib.crc32(data, zlib.crc32(meta_bytes, zlib.crc32(head[:20])))
    chunk = head[:20] + struct.pack("<I", crc) + meta_bytes + data
    out = header + chunk
    if closed:
        summary = Summary(2, meta.entries, [[0, b"s", meta.entries, b"1-1", b"1-4"]], [], [], [])
        summary.chunks = [IndexEntry(len(header), len(chunk), meta)]
        frame = summary_frame(summary.encode())
        out += frame + trailer(len(out), len(frame))
    return out


def _bomb_of_zeros(closed: bool) -> bytes:
    """A chunk that declares 1 GiB and decompresses to 1 GiB of zeros (about 32 KiB)."""
    squeeze = zstandard.ZstdCompressor(level=3).compressobj(size=1 << 30)
    zeros = bytes(1 << 20)
    data = b"".join(squeeze.compress(zeros) for _ in range(1024)) + squeeze.flush()
    return _file(ChunkMeta(1, 1, 1, 1, 1, ((0, b"s"),)), 1 << 30, data, closed=closed)


def _many_values(closed: bool) -> bytes:
    """A sound chunk of 4 entries of 16M two-byte values each (a few dozen KiB)."""
    squeeze = zstandard.ZstdCompressor(level=3).compressobj()
    parts = [b"\x94\x02\x00\x01\xdc\x00\x04"]  # [2, 0, 1, [4 entries]]
    values = b"\xc4\x02ab" * (1 << 20)
    raw = len(parts[0])
    out = [squeeze.compress(parts[0])]
    for i in range(4):
        entry = b"\x92" + msgpack.packb(f"1-{i + 1}".encode()) + b"\xdd" + struct.pack(">I", 1 << 24)
        out.append(squeeze.compress(entry))
        raw += len(entry)
        for _ in range(16):
            out.append(squeeze.compress(values))
            raw += len(values)
    out.append(squeeze.flush())
    return _file(ChunkMeta(1, 1, 1, 1, 4, ((0, b"s"),)), raw, b"".join(out), closed=closed)


#: Runs a command as its only child and prints the child's peak RSS (KiB) last.
_MEASURE = (
    "import resource, subprocess, sys; "
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "sys.stderr.write(r.stderr); sys.stdout.write(r.stdout); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
)


def _peak_rss_mib(args: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run a command as a child; its result, seconds taken and peak RSS (MiB)."""
    t0 = time.monotonic()
    result = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, timeout=120)
    took = time.monotonic() - t0
    out, _, peak = result.stdout.rstrip("\n").rpartition("\n")
    result.stdout = out
    return result, took, int(peak) / 1024


@pytest.mark.parametrize("make", [_bomb_of_zeros, _many_values])
@pytest.mark.parametrize("closed", [True, False])
def test_decompression_bombs_fail_quickly_in_bounded_memory(tmp_path: Path, make: object, closed: bool) -> None:
    path = tmp_path / "bomb.xtape"
    path.write_bytes(make(closed))  # type: ignore[operator]
    assert path.stat().st_size < 64 * 1024
    commands = [["cat"], ["replay", "--dry-run"]] + ([] if closed else [["info"]])
    for command in commands:
        result, took, rss = _peak_rss_mib([XTAPE, command[0], str(path), *command[1:]])
        assert result.returncode == 2, (command, result.stderr)
        lines = [line for line in result.stderr.splitlines() if not line.startswith("scheduled ")]
        assert len(lines) == 1 and lines[0].startswith("xtape: error: ") and "damaged at byte" in lines[0], lines
        assert took < 10 and rss < 300, (command, took, rss)


def test_info_of_a_closed_bomb_reads_its_summary_only(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xtape"
    path.write_bytes(_many_values(True))
    result, took, rss = _peak_rss_mib([XTAPE, "info", str(path)])
    assert result.returncode == 0 and "chunks not verified" in result.stdout
    assert took < 10 and rss < 300


def test_the_writer_splits_a_batch_beyond_the_array_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xtape.recording import read_v2, writer

    # The limit as 70,000 for writer and reader alike (the real one, 1 Mi, takes 15 s to
    # write and read back): past 65,535, so the arrays are 32-bit ones, as at 1 Mi.
    for module in (writer, read_v2):
        monkeypatch.setattr(module, "MAX_CHUNK_ITEMS", 70_000)
    path = tmp_path / "big.xtape"
    n = 70_000 + 5
    with RecordingWriter(path) as writer:
        writer.write_entries(b"s", [[f"1-{i}".encode(), [b"k", b""]] for i in range(1, n + 1)], 7)
    assert sum(1 for _ in Recording(path).entries()) == n


def test_the_writer_refuses_an_entry_beyond_the_array_limit(tmp_path: Path) -> None:
    from xtape.errors import RuntimeFailure

    path = tmp_path / "wide.xtape"
    writer = RecordingWriter(path)
    with pytest.raises(RuntimeFailure, match="field names and values"):
        writer.write_entries(b"s", [[b"1-1", [b""] * (MAX_CHUNK_ITEMS + 2)]], 7)
    writer.close()
    assert sum(1 for _ in Recording(path).entries()) == 0


def test_the_writer_keeps_every_chunk_within_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xtape.errors import RuntimeFailure
    from xtape.recording import writer as writing

    monkeypatch.setattr(writing, "MAX_CHUNK_BYTES", 10_000)  # as if 1 GiB were 10 kB
    path = tmp_path / "cut.xtape"
    batch = [[f"1-{i}".encode(), [b"k", bytes([65 + i % 26]) * 500]] for i in range(1, 101)]
    with RecordingWriter(path, flush_interval=3600) as writer:
        writer.write_entries(b"s", batch[:5], 7)  # 2.5 kB wait; the next batch would pass 10 kB
        writer.write_entries(b"s", batch[5:], 8)
        with pytest.raises(RuntimeFailure, match="an entry of 20,0"):
            writer.write_entries(b"s", [[b"2-1", [b"k", b"x" * 20_000]]], 9)
    data = path.read_bytes()
    raw = [struct.unpack_from("<I", data, at + 16)[0] for at in chunk_starts(data)]
    assert len(raw) > 5 and max(raw) <= 10_000
    assert [e.id for e in Recording(path).entries()] == [e[0] for e in batch]
