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

import mmap
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import msgpack

from xtape.recording.compression import (
    CODECS,
    RAW_LENGTH,
    codec_named,
    codec_of,
)
from xtape.recording.compression import (
    DEFAULT_ZSTD_LEVEL as DEFAULT_ZSTD_LEVEL,
)
from xtape.recording.records import MAX_COUNT, MAX_NS, MAX_STREAM_ID, Malformed

CHUNK_MAGIC = b"XTC2"
SUMMARY_MAGIC = b"XTS2"
TRAILER_MAGIC = b"XTAPEEND"

CHUNK_HEAD = struct.Struct("<4sB3xIIII")
SUMMARY_HEAD = struct.Struct("<4s4xII")
TRAILER = struct.Struct("<QII8s")

#: Compression codes of a chunk (the codecs: :mod:`xtape.recording.compression`).
COMPRESSIONS: dict[str, int] = {name: codec.code for name, codec in CODECS.items()}

#: Limits a damaged length cannot get past (a chunk is about 1 MiB of records; a single
#: batch of very large values may make one larger). The writer never writes a chunk whose
#: records exceed :data:`MAX_CHUNK_BYTES` (it cuts the chunk before a batch that would,
#: and splits a batch larger than that), so a chunk that declares more is damage.
MAX_META_BYTES = 1 << 24
MAX_CHUNK_BYTES = 1 << 30
MAX_SUMMARY_BYTES = 1 << 30
#: The most items an array in a chunk's records may declare: the entries of one batch,
#: the field names and values of one entry. The writer splits a larger batch and refuses
#: an entry with more (:func:`check_batch`), so an array that declares more is damage
#: (checked before it is allocated: a few bytes of zstd cannot make the reader build
#: millions of values).
MAX_CHUNK_ITEMS = 1 << 20
#: A chunk is decompressed (and its records unpacked) this many bytes at a time, so
#: what it declares is never allocated at once.
DECOMPRESS_STEP = 1 << 20


@dataclass(frozen=True, slots=True)
class ChunkMeta:
    """What a chunk holds, readable without decompressing it.

    Times are the capture clock's ns; ``min_ms``/``max_ms`` the entry ids' milliseconds
    (both -1 when the chunk holds no entries); ``streams`` the ``(stream id, name)`` of
    every stream its records use; ``counts`` the entries of each of them, in the same
    order (an addition at the end of the meta: None in files written before it, and
    ignored by readers before it; counts that do not add up are read as None);
    ``events`` how many gaps and markers its records hold (a later addition, after the
    counts: None before it), so that the summary's gaps and markers can be held
    against the few chunks that hold them.
    """

    first_capture_ns: int
    last_capture_ns: int
    min_ms: int
    max_ms: int
    entries: int
    streams: tuple[tuple[int, bytes], ...]
    counts: tuple[int, ...] | None = None
    events: int | None = None

    def encode(self) -> list[Any]:
        meta = [
            self.first_capture_ns,
            self.last_capture_ns,
            self.min_ms,
            self.max_ms,
            self.entries,
            [list(s) for s in self.streams],
        ]
        if self.counts is not None or self.events is not None:
            meta.append(None if self.counts is None else list(self.counts))
        if self.events is not None:
            meta.append(self.events)
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
        events = obj[7] if len(obj) > 7 else None
        if type(events) is not int or not 0 <= events <= MAX_COUNT:
            events = None  # (an addition that is wrong is ignored, as the counts are)
        return cls(first, last, lo, hi, n, pairs, _counts(obj[6:7], pairs, n), events)


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
        codec = codec_named(compression)
        self.code = codec.code
        self._compress = codec.compressor(level)

    def frame(self, raw: bytes | bytearray, meta: ChunkMeta) -> bytes:
        meta_bytes: bytes = msgpack.packb(meta.encode(), use_bin_type=True)
        data = self._compress(raw)
        head = CHUNK_HEAD.pack(CHUNK_MAGIC, self.code, len(meta_bytes), len(data), len(raw), 0)
        crc = zlib.crc32(data, zlib.crc32(meta_bytes, zlib.crc32(head[:20])))
        return head[:20] + struct.pack("<I", crc) + meta_bytes + data


def check_chunk(head: bytes, meta: bytes, data: bytes) -> None:
    """Raises :class:`Malformed` unless the chunk's checksum matches."""
    (crc,) = struct.unpack_from("<I", head, 20)
    if zlib.crc32(data, zlib.crc32(meta, zlib.crc32(head[:20]))) != crc:
        raise Malformed("chunk checksum mismatch (the chunk's bytes changed)")


def raw_pieces(code: int, data: bytes, raw_len: int) -> Iterator[bytes]:
    """A chunk's records (its ``data`` decompressed by the codec of ``code``),
    :data:`DECOMPRESS_STEP` bytes at a time: never more than ``raw_len`` (what the
    chunk's head declares) is produced, and a frame that declares another length is
    refused before any of it is. Raises :class:`Malformed` as soon as the data goes
    wrong, :class:`~xtape.errors.CodecUnavailable` when the codec's package is missing."""
    total = 0
    for piece in codec_of(code).pieces(data, raw_len, DECOMPRESS_STEP):
        total += len(piece)
        if total > raw_len:
            raise Malformed(RAW_LENGTH)
        yield piece
    if total != raw_len:
        raise Malformed(RAW_LENGTH)


def check_batch(entries: Sequence[Sequence[Any]], packed: int) -> None:
    """Raises :class:`Malformed` for a batch holding an entry with more field names and
    values than a reader takes (:data:`MAX_CHUNK_ITEMS`); ``packed`` is the batch's
    packed size (an entry that many items needs at least two bytes an item, so below
    that nothing is counted)."""
    if packed < 2 * MAX_CHUNK_ITEMS:
        return
    most = max(map(len, map(itemgetter(1), entries)))
    if most > MAX_CHUNK_ITEMS:
        raise Malformed(
            f"an entry of {most:,} field names and values (a recording holds at most "
            f"{MAX_CHUNK_ITEMS:,} an entry)"
        )


def frame_after(buf: bytes | mmap.mmap, pos: int) -> int | None:
    """Where the first sound frame of ``buf`` at or after ``pos`` starts (a chunk or a
    summary whose checksum matches: not bytes that happen to look like a magic), or None."""
    while True:
        found = [at for at in (buf.find(CHUNK_MAGIC, pos), buf.find(SUMMARY_MAGIC, pos)) if at >= 0]
        if not found:
            return None
        at = min(found)
        if _sound_frame(buf, at):
            return at
        pos = at + 1


def _sound_frame(buf: bytes | mmap.mmap, at: int) -> bool:
    if buf[at : at + 4] == SUMMARY_MAGIC:
        head = buf[at : at + SUMMARY_HEAD.size]
        if len(head) < SUMMARY_HEAD.size:
            return False
        _, length, crc = SUMMARY_HEAD.unpack(head)
        body = buf[at + SUMMARY_HEAD.size : at + SUMMARY_HEAD.size + length]
        return len(body) == length and zlib.crc32(body) == int(crc)
    head = buf[at : at + CHUNK_HEAD.size]
    if len(head) < CHUNK_HEAD.size:
        return False
    _, _, meta_len, data_len, _, _ = CHUNK_HEAD.unpack(head)
    body_at = at + CHUNK_HEAD.size
    if body_at + meta_len + data_len > len(buf):
        return False
    try:
        check_chunk(head, buf[body_at : body_at + meta_len], buf[body_at + meta_len : body_at + meta_len + data_len])
    except Malformed:
        return False
    return True


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
        from xtape.recording.records import Gap, Marker, checked_id

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
                        checked_id(value, "a summary's stream id")
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
