"""Format v2 framing: compressed chunks of records, a summary with a chunk index, a trailer.

After the header (a msgpack map, as in version 1) a version-2 file is a sequence of
frames::

    CHUNK    b"XTC2" | compression u8 | 3 zero bytes | meta_len u32 | data_len u32
             | raw_len u32 | crc32 u32 | meta (msgpack) | data (records, compressed)
    SUMMARY  b"XTS2" | 4 zero bytes | length u32 | crc32 u32 | summary (msgpack)
    TRAILER  summary offset u64 | summary frame length u32 | crc32 u32 | b"XTAPEEND"

All integers are little-endian. A chunk's crc32 covers its first 20 bytes, its meta and
its stored data, so a flipped bit anywhere in it (a length too) is found before anything
is decompressed. The trailer's crc32 covers its first 12 bytes. See ``docs/format.md``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgpack
import zstandard

from xtape.errors import UsageError
from xtape.recording.records import MAX_COUNT, MAX_NS, MAX_STREAM_ID, Malformed

CHUNK_MAGIC = b"XTC2"
SUMMARY_MAGIC = b"XTS2"
TRAILER_MAGIC = b"XTAPEEND"

CHUNK_HEAD = struct.Struct("<4sB3xIIII")
SUMMARY_HEAD = struct.Struct("<4s4xII")
TRAILER = struct.Struct("<QII8s")

#: Compression codes of a chunk.
COMPRESSIONS: dict[str, int] = {"none": 0, "zstd": 1}


def check_compression(name: str) -> None:
    """Refuse a compression this format does not have, naming those it has."""
    if name not in COMPRESSIONS:
        raise UsageError(f"invalid compression {name!r}: use one of {', '.join(COMPRESSIONS)}")

#: The zstd level chosen by ``bench/format.py`` (size against recording speed).
DEFAULT_ZSTD_LEVEL = 1

#: Limits a damaged length cannot get past (a chunk is about 1 MiB of records; a single
#: batch of very large values may make one larger).
MAX_META_BYTES = 1 << 24
MAX_CHUNK_BYTES = 1 << 30
MAX_SUMMARY_BYTES = 1 << 30


@dataclass(frozen=True, slots=True)
class ChunkMeta:
    """What a chunk holds, readable without decompressing it.

    Times are the capture clock's ns; ``min_ms``/``max_ms`` the entry ids' milliseconds
    (both -1 when the chunk holds no entries); ``streams`` the ``(stream id, name)`` of
    every stream its records use; ``counts`` the entries of each of them, in the same
    order (an addition at the end of the meta: None in files written before it, and
    ignored by readers before it; counts that do not add up are read as None).
    """

    first_capture_ns: int
    last_capture_ns: int
    min_ms: int
    max_ms: int
    entries: int
    streams: tuple[tuple[int, bytes], ...]
    counts: tuple[int, ...] | None = None

    def encode(self) -> list[Any]:
        meta = [
            self.first_capture_ns,
            self.last_capture_ns,
            self.min_ms,
            self.max_ms,
            self.entries,
            [list(s) for s in self.streams],
        ]
        if self.counts is not None:
            meta.append(list(self.counts))
        return meta

    def stream_counts(self) -> tuple[int, ...] | None:
        """The entries of each of :attr:`streams`: :attr:`counts`, or known without them
        when the chunk uses one stream alone (None when they are not known)."""
        if self.counts is not None:
            return self.counts
        if len(self.streams) == 1:
            return (self.entries,)
        return None if self.entries else (0,) * len(self.streams)

    @classmethod
    def decode(cls, obj: Any) -> ChunkMeta:
        try:
            first, last, lo, hi, n, streams = obj[:6]
            pairs = tuple((int(sid), name) for sid, name in streams)
        except (TypeError, ValueError, IndexError):
            raise Malformed("a chunk's meta has the wrong shape") from None
        for value in (first, last):
            _int(value, -1, MAX_NS)
        for value in (lo, hi):
            _int(value, -1, MAX_COUNT)
        _int(n, 0, MAX_COUNT)
        for sid, name in pairs:
            _int(sid, 0, MAX_STREAM_ID)
            if type(name) is not bytes:
                raise Malformed("a chunk's stream name is not bytes")
        return cls(first, last, lo, hi, n, pairs, _counts(obj[6:7], pairs, n))


def _counts(extra: Any, pairs: tuple[tuple[int, bytes], ...], entries: int) -> tuple[int, ...] | None:
    """A meta's per-stream counts (``extra``: the addition, if any), or None where there
    are none or they do not fit its streams and entries: an optional addition that is
    wrong is ignored (the rates then come from the entries), not taken as damage."""
    if len(extra) != 1:
        return None
    counts = extra[0]
    if type(counts) is not tuple or len(counts) != len(pairs):
        return None
    if any(type(c) is not int or not 0 <= c <= MAX_COUNT for c in counts) or sum(counts) != entries:
        return None
    return counts


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """Where a chunk is (offset of its frame, frame length) and what it holds."""

    offset: int
    length: int
    meta: ChunkMeta


def _int(value: Any, lo: int, hi: int) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise Malformed(f"a number in a chunk's meta or the summary is not from {lo} to {hi}")
    return value


def unpackb(data: bytes) -> Any:
    return msgpack.unpackb(
        data,
        raw=False,
        use_list=False,
        strict_map_key=False,
        max_array_len=1 << 24,
        max_map_len=1 << 16,
    )


class Compressor:
    """Packs records into chunk frames."""

    def __init__(self, compression: str = "zstd", level: int = DEFAULT_ZSTD_LEVEL) -> None:
        self.code = COMPRESSIONS[compression]
        self._zstd = zstandard.ZstdCompressor(level=level) if self.code == 1 else None

    def frame(self, raw: bytes | bytearray, meta: ChunkMeta) -> bytes:
        meta_bytes: bytes = msgpack.packb(meta.encode(), use_bin_type=True)
        data = self._zstd.compress(raw) if self._zstd is not None else bytes(raw)
        head = CHUNK_HEAD.pack(CHUNK_MAGIC, self.code, len(meta_bytes), len(data), len(raw), 0)
        crc = zlib.crc32(data, zlib.crc32(meta_bytes, zlib.crc32(head[:20])))
        return head[:20] + struct.pack("<I", crc) + meta_bytes + data


def check_chunk(head: bytes, meta: bytes, data: bytes) -> None:
    """Raises :class:`Malformed` unless the chunk's checksum matches."""
    (crc,) = struct.unpack_from("<I", head, 20)
    if zlib.crc32(data, zlib.crc32(meta, zlib.crc32(head[:20]))) != crc:
        raise Malformed("chunk checksum mismatch (the chunk's bytes changed)")


_DECOMPRESSOR = zstandard.ZstdDecompressor()


def decompress(code: int, data: bytes, raw_len: int) -> bytes:
    if code == 0:
        raw = data
    elif code == 1:
        try:
            raw = _DECOMPRESSOR.decompress(data, max_output_size=raw_len)
        except zstandard.ZstdError as exc:
            raise Malformed(f"a chunk does not decompress: {exc}") from None
    else:
        raise Malformed(f"a chunk with unknown compression {code}")
    if len(raw) != raw_len:
        raise Malformed("a chunk's length after decompression is not the one it declares")
    return raw


def chunk_lengths(head: bytes) -> tuple[int, int, int, int]:
    """``(compression, meta_len, data_len, raw_len)`` of a chunk head (magic checked)."""
    _, code, meta_len, data_len, raw_len, _ = CHUNK_HEAD.unpack(head)
    if meta_len > MAX_META_BYTES or data_len > MAX_CHUNK_BYTES or raw_len > MAX_CHUNK_BYTES:
        raise Malformed("a chunk declares a length beyond the limits")
    return code, meta_len, data_len, raw_len


def summary_frame(summary: list[Any]) -> bytes:
    body: bytes = msgpack.packb(summary, use_bin_type=True)
    return SUMMARY_HEAD.pack(SUMMARY_MAGIC, len(body), zlib.crc32(body)) + body


def trailer(summary_offset: int, summary_length: int) -> bytes:
    first = struct.pack("<QI", summary_offset, summary_length)
    return first + struct.pack("<I", zlib.crc32(first)) + TRAILER_MAGIC


def read_trailer(data: bytes) -> tuple[int, int] | None:
    """``(summary offset, summary frame length)`` from the last bytes of a file, if they
    are an intact trailer."""
    if len(data) != TRAILER.size:
        return None
    offset, length, crc, magic = TRAILER.unpack(data)
    if magic != TRAILER_MAGIC or zlib.crc32(data[:12]) != crc:
        return None
    return offset, length


@dataclass
class Summary:
    """What a clean close writes at the end: totals per stream, gaps, markers, the index.

    ``streams`` rows are ``[stream id, name, entries, first id, last id]``; ``gaps``
    ``[stream id, capture_ns, after, before, lost]``; ``markers`` ``[capture_ns, kind,
    text]``.
    """

    end_ns: int
    entries: int
    streams: list[list[Any]]
    gaps: list[list[Any]]
    markers: list[list[Any]]
    chunks: list[IndexEntry]

    def encode(self) -> list[Any]:
        return [
            self.end_ns,
            self.entries,
            self.streams,
            self.gaps,
            self.markers,
            [[c.offset, c.length, c.meta.encode()] for c in self.chunks],
        ]

    @classmethod
    def decode(cls, obj: Any) -> Summary:
        from xtape.recording.records import Gap, Marker, _id

        try:
            end_ns, entries, streams, gaps, markers, chunks = obj[:6]
            rows = [list(s[:5]) for s in streams]
            for sid, name, n, first, last in rows:
                _int(sid, 0, MAX_STREAM_ID)
                _int(n, 0, MAX_COUNT)
                if type(name) is not bytes:
                    raise Malformed("a summary stream row has the wrong types")
                for value in (first, last):
                    if value is not None:
                        _id(value, "a summary's stream id")
            gap_rows = [list(g[:5]) for g in gaps]
            for g in gap_rows:
                Gap.decode((3, *g))
            marker_rows = [list(m[:3]) for m in markers]
            for m in marker_rows:
                Marker.decode((4, *m))
            index = [
                IndexEntry(_int(c[0], 0, MAX_COUNT), _int(c[1], 0, MAX_COUNT), ChunkMeta.decode(c[2]))
                for c in chunks
            ]
        except (TypeError, ValueError, IndexError):
            raise Malformed("the summary has the wrong shape") from None
        return cls(
            _int(end_ns, 0, MAX_NS), _int(entries, 0, MAX_COUNT), rows, gap_rows, marker_rows, index
        )


def stream_rows(rows: Sequence[Sequence[Any]]) -> dict[int, bytes]:
    return {row[0]: row[1] for row in rows}
