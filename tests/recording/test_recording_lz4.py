"""lz4 chunks (the optional ``lz4`` extra): recorded with ``--compression lz4``, read
back by every command, bounded as zstd is, and one line when the package is missing."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import lz4.frame
import msgpack
import pytest
import redis
from support.e2e import AWKWARD, UNREACHABLE_URL, XTAPE, fields_of, invoke, ok, xadd

from xtape.errors import DamagedRecording
from xtape.recording import Recording, RecordingWriter
from xtape.recording.chunks import CHUNK_HEAD, CHUNK_MAGIC, COMPRESSIONS, ChunkMeta

#: Runs the CLI with the lz4 package unimportable (as on a machine without the extra).
_WITHOUT_LZ4 = (
    "import sys; sys.modules['lz4'] = None; sys.modules['lz4.frame'] = None; "
    "from xtape.cli import main; main()"
)


def _codes(path: Path) -> set[int]:
    """The compression codes of a file's chunks."""
    data = path.read_bytes()
    codes, at = set(), data.find(CHUNK_MAGIC)
    while at >= 0:
        codes.add(data[at + 4])
        at = data.find(CHUNK_MAGIC, at + 1)
    return codes


def _record(redis_url: str, path: Path, compression: str, count: int) -> None:
    ok(invoke("record", "s:*", "-o", path, "--url", redis_url, "--from", "start",
              "--count", count, "--compression", compression, "-q"))  # fmt: skip


def test_record_with_lz4_reads_back_in_every_command(tmp_path: Path, r: redis.Redis, redis_url: str) -> None:
    assert COMPRESSIONS["lz4"] == 2
    for i in range(200):
        xadd(r, f"s:{i % 3}", AWKWARD[i % len(AWKWARD)] + [b"i", str(i).encode()])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fast, small = tmp_path / "a" / "rec.xtape", tmp_path / "b" / "rec.xtape"
    _record(redis_url, fast, "lz4", 200)
    _record(redis_url, small, "zstd", 200)
    assert _codes(fast) == {2} and _codes(small) == {1}
    for command in (["cat"], ["info", "--json"], ["convert", "-o", "-"], ["replay", "--dry-run", "--max-speed"]):
        one, two = ok(invoke(*command, fast)).stdout, ok(invoke(*command, small)).stdout
        if command[0] == "info":
            a, b = json.loads(one), json.loads(two)
            assert a["entries"] == b["entries"] == 200 and a["streams"] == b["streams"]
        else:
            assert one.replace(str(fast), str(small)) == two, command
    assert "sound" in ok(invoke("check", fast)).stdout
    ok(invoke("replay", fast, "--url", redis_url, "--max-speed", "--prefix", "copy:", "-q"))
    for n in range(3):
        assert fields_of(r, f"copy:s:{n}".encode()) == fields_of(r, f"s:{n}".encode())


def test_lz4_chunks_without_the_package_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "fast.xtape"
    with RecordingWriter(path, compression="lz4") as writer:
        writer.write_entries(b"s", [[b"1-1", [b"k", b"v" * 1000]]], 5)
    assert _codes(path) == {2} and [list(e.fields) for e in Recording(path).events()] == [[(b"k", b"v" * 1000)]]
    for command in (["cat"], ["convert", "-o", "-"], ["replay", "--dry-run"], ["check"]):
        done = subprocess.run([sys.executable, "-c", _WITHOUT_LZ4, command[0], str(path), *command[1:]],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)  # fmt: skip
        assert done.returncode == 2, (command, done.stderr)
        lines = [line for line in done.stderr.splitlines() if not line.startswith("scheduled ")]
        assert lines == ["xtape: error: this recording's chunks are lz4: pip install 'xtape[lz4]'"], command


def test_record_lz4_without_the_package_says_so_before_connecting(tmp_path: Path) -> None:
    out = tmp_path / "out.xtape"
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_LZ4, "record", "s", "-o", str(out), "--url", UNREACHABLE_URL, "--compression", "lz4"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "xtape: error: --compression lz4 needs the lz4 package: pip install 'xtape[lz4]'\n"
    assert not out.exists()


def test_an_unknown_compression_lists_the_known_ones(tmp_path: Path) -> None:
    result = invoke("record", "s", "-o", tmp_path / "x.xtape", "--url", UNREACHABLE_URL, "--compression", "brotli")
    assert result.exit_code == 2
    assert result.stderr == "xtape: error: --compression must be zstd, lz4 or none, not 'brotli'\n"


def _lz4_file(path: Path, data: bytes, raw_len: int) -> Path:
    """A version-2 file of one lz4 chunk (code 2) holding ``data`` as its stored bytes."""
    header = msgpack.packb(
        {"magic": "xtape", "version": 2, "created_ns": 1, "tool": "t", "source": {}, "options": {}},
        use_bin_type=True,
    )
    meta = msgpack.packb(ChunkMeta(1, 1, 1, 1, 1, ((0, b"s"),)).encode(), use_bin_type=True)
    head = CHUNK_HEAD.pack(CHUNK_MAGIC, 2, len(meta), len(data), raw_len, 0)
    crc = zlib.crc32(data, zlib.crc32(meta, zlib.crc32(head[:20])))
    path.write_bytes(header + head[:20] + struct.pack("<I", crc) + meta + data)
    return path


def test_an_lz4_frame_that_declares_another_length_is_damage(tmp_path: Path) -> None:
    data = lz4.frame.compress(b"\x91\x00" * 1000, store_size=True)  # declares 2,000 bytes
    path = _lz4_file(tmp_path / "liar.xtape", data, 1 << 20)
    with pytest.raises(DamagedRecording, match="lz4 frame declares 2000 bytes, its head 1048576"):
        list(Recording(path).events())


#: Runs a command as its only child and prints the child's peak RSS (KiB) last.
_MEASURE = (
    "import resource, subprocess, sys; "
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "sys.stderr.write(r.stderr); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.exit(r.returncode)"
)


def test_an_lz4_bomb_stops_at_its_first_step_in_bounded_memory(tmp_path: Path) -> None:
    squeeze = lz4.frame.LZ4FrameCompressor()  # (no content size: only the head's 1 GiB bounds it)
    zeros = bytes(1 << 24)
    data = squeeze.begin() + b"".join(squeeze.compress(zeros) for _ in range(64)) + squeeze.flush()
    path = _lz4_file(tmp_path / "bomb.xtape", data, 1 << 30)
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _MEASURE, XTAPE, "cat", str(path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    took, peak_mib = time.monotonic() - t0, int(done.stdout.split()[-1]) / 1024
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    # decompressed, and stopped at the first step's garbage (not refused unread)
    assert "damaged at byte" in done.stderr and "in the chunk: a record that is not" in done.stderr, done.stderr
    assert took < 20 and peak_mib < 300, (took, peak_mib)
