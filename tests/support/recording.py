"""Support for the recording tests: a recording written again with other writer options,
a v2 recording of known chunks, where its chunks start, and its summary rewritten
(checksums right) to lie."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import msgpack

from xtape.recording import Recording, RecordingWriter
from xtape.recording.chunks import CHUNK_HEAD, CHUNK_MAGIC, Summary, summary_frame, trailer
from xtape.recording.records import Entries, Gap, Marker, StreamDef


def rewrite(src: Path | io.BytesIO, dst: Path | io.BytesIO, **options: object) -> None:
    """``src`` (any version) written again with the given writer options."""
    names: dict[int, bytes] = {}
    with RecordingWriter(dst, **options) as writer:  # type: ignore[arg-type]
        for record in Recording(src).records():
            if isinstance(record, StreamDef):
                names[record.stream_id] = record.name
            elif isinstance(record, Entries):
                writer.write_entries(
                    names[record.stream_id], [list(e) for e in record.entries], record.capture_ns
                )
            elif isinstance(record, Gap):
                writer.write_gap(
                    names[record.stream_id], record.after_id, record.before_id, record.lost, record.capture_ns
                )
            elif isinstance(record, Marker):
                writer.write_marker(record.kind, record.text, record.capture_ns)


def thousand(path: Path, *, markers: bool = False) -> Path:
    """1,000 entries of one stream in 10 chunks of 100 (a marker chunk after each
    batch with ``markers``)."""
    with RecordingWriter(path, flush_interval=3600) as writer:
        for b in range(10):
            entries = [[f"{1700000000000 + b * 100 + i}-0".encode(), [b"n", str(b * 100 + i).encode()]] for i in range(100)]
            writer.write_entries(b"s", entries, 1_000_000_000 + b)
            writer.flush()
            if markers:
                writer.write_marker("note", f"after batch {b}", 1_000_000_000 + b)
    return path


def chunk_starts(data: bytes) -> list[int]:
    """Where the chunk frames start (their magic, where their head is sound)."""
    starts, at = [], data.find(CHUNK_MAGIC)
    while at >= 0:
        starts.append(at)
        meta_len, data_len = struct.unpack_from("<II", data, at + 8)
        at = data.find(CHUNK_MAGIC, at + CHUNK_HEAD.size + meta_len + data_len)
    return starts


def resummarize(data: bytes, change: object) -> bytes:
    """``data`` with its summary replaced by ``change(summary)`` (checksums right)."""
    offset, length = struct.unpack_from("<QI", data, len(data) - 24)
    frame = data[offset : offset + length]
    summary = Summary.decode(msgpack.unpackb(frame[16:], raw=False, use_list=False, strict_map_key=False))
    change(summary)  # type: ignore[operator]
    new = summary_frame(summary.encode())
    return data[:offset] + new + trailer(offset, len(new))


def ghost(summary: Summary) -> None:
    summary.entries = 100_000_504
    summary.streams.append([7, b"ghost", 100_000_000, b"1-1", b"9-9"])
    summary.markers.append([1_000_000_000, "restart", "the server restarted"])
