"""The reader of format version 2: compressed chunks, then a summary and a trailer a
clean close writes (see ``docs/format.md``).

A pass walks the frames in steps, each a function of its own: a chunk (:meth:`_Scan.chunk`:
its head, lengths and checksum, then its records as they are decompressed), the summary
(:meth:`_Scan.summary`: held against what the pass read), and the tail (a cut frame is a
truncated tail, a frame whose length lies is damage). A file that can seek reads its
stored summary from the trailer first (:meth:`V2Reader.trailer_summary`) and, for a
seek, jumps to the first chunk that may hold the window.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from collections.abc import Generator, Iterator
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import msgpack

from xtape.errors import DamagedRecording
from xtape.recording.audit import Tally, event_problems, index_problems
from xtape.recording.chunks import (
    CHUNK_HEAD,
    CHUNK_MAGIC,
    MAX_CHUNK_BYTES,
    MAX_CHUNK_ITEMS,
    MAX_SUMMARY_BYTES,
    SUMMARY_HEAD,
    SUMMARY_MAGIC,
    TRAILER,
    ChunkMeta,
    IndexEntry,
    Summary,
    check_chunk,
    chunk_lengths,
    frame_after,
    raw_pieces,
    read_trailer,
    unpackb,
)
from xtape.recording.opening import (
    MAX_MAP_KEYS,
    Bounds,
    FileReader,
    Opened,
    Pass,
    ReadSummary,
    decode_record,
    why,
)
from xtape.recording.records import End, Gap, Malformed, Marker, Record, StreamDef, Tag
from xtape.timeline import NS_PER_MS

#: The most bytes of records (decompressed) read to hold a stored summary's gaps and
#: markers against the chunks that hold them: a few milliseconds (beyond, their number
#: alone is held, from the metas).
EVENT_BYTES = 16 << 20

#: What a summary that contradicts its chunks says besides (see :mod:`.audit`).
REPAIR = " (the summary does not match the chunks: xtape check --repair -o OUT writes a sound copy)"


def may_hold(meta: ChunkMeta, bounds: Bounds) -> bool:
    """Whether a chunk may hold an entry inside ``bounds`` (gaps and markers only: no)."""
    if meta.entries == 0:
        return True  # gaps, markers: cheap, and what they say is kept
    lo, hi, by_ids = bounds
    if by_ids:
        first, last = meta.min_ms * NS_PER_MS, meta.max_ms * NS_PER_MS
    else:
        first, last = meta.first_capture_ns, meta.last_capture_ns
    return not ((lo is not None and last < lo) or (hi is not None and first >= hi))


def summary_from(frame: bytes) -> Summary:
    """A summary frame (head and body) checked and decoded; :class:`Malformed` if not."""
    if len(frame) < SUMMARY_HEAD.size:
        raise Malformed("the summary is cut short")
    magic, length, crc = SUMMARY_HEAD.unpack_from(frame)
    body = frame[SUMMARY_HEAD.size :]
    if magic != SUMMARY_MAGIC or length != len(body):
        raise Malformed("the summary's frame is not what the trailer says")
    if zlib.crc32(body) != crc:
        raise Malformed("summary checksum mismatch (the summary's bytes changed)")
    try:
        return Summary.decode(unpackb(body))
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise Malformed(f"the summary does not read: {why(exc)}") from None


def read_trailer_summary(fh: BinaryIO, size: int) -> tuple[Summary, int] | None:
    """``(summary, offset of its frame)`` when a file of ``size`` bytes ends with an
    intact trailer and summary (not yet held against the chunks), else None."""
    if size < TRAILER.size:
        return None
    fh.seek(size - TRAILER.size)
    where = read_trailer(fh.read(TRAILER.size))
    if where is None:
        return None
    offset, length = where
    if offset + length != size - TRAILER.size or length > MAX_SUMMARY_BYTES:
        return None
    fh.seek(offset)
    frame = fh.read(length)
    try:
        return summary_from(frame), offset
    except Malformed:
        return None


def _refuse_map(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    raise Malformed("a map inside a record")


def chunk_records(name: str, pieces: Iterator[bytes], at: int, defined: dict[int, bytes]) -> Iterator[Record]:
    """The records of the chunk at byte ``at`` of recording ``name``, unpacked as its
    data is decompressed (a step at a time: a chunk is never whole in memory), each
    array limited to :data:`~xtape.recording.chunks.MAX_CHUNK_ITEMS` items."""
    unpacker = msgpack.Unpacker(
        None,
        raw=False,
        use_list=False,
        strict_map_key=False,
        object_pairs_hook=_refuse_map,
        max_buffer_size=MAX_CHUNK_BYTES,
        max_array_len=MAX_CHUNK_ITEMS,
        max_map_len=MAX_MAP_KEYS,
    )
    where = "in the chunk: "
    fed = 0
    try:
        for piece in pieces:
            unpacker.feed(piece)
            fed += len(piece)
            for obj in unpacker:
                record = decode_record(name, obj, at, defined, where)
                if record is not None:
                    yield record
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        text = why(exc)
        if "exceeds max_array_len" in text:  # msgpack's words for the items limit
            text = f"an array of more than {MAX_CHUNK_ITEMS:,} items (more than a recording holds)"
        raise DamagedRecording(name, at, where + text) from None
    if unpacker.tell() != fed:
        raise DamagedRecording(name, at, where + "it ends inside a record")


def events_of(name: str, fd: int, budget: list[int], chunk: IndexEntry) -> list[Gap | Marker] | None:
    """The gaps and markers of the chunk an index entry points at, its entries skipped
    unread (C-level); None once the chunks read so far hold more than ``budget[0]``
    bytes of records (what ``info`` may spend on them)."""
    frame = os.pread(fd, chunk.length, chunk.offset)
    head, body = frame[: CHUNK_HEAD.size], frame[CHUNK_HEAD.size :]
    try:
        code, meta_len, data_len, raw_len = chunk_lengths(head)
        check_chunk(head, body[:meta_len], body[meta_len:])
    except (Malformed, struct.error) as exc:
        raise DamagedRecording(name, chunk.offset, why(exc)) from None
    budget[0] -= raw_len
    if budget[0] < 0:
        return None
    unpacker = msgpack.Unpacker(
        None, raw=False, use_list=False, max_buffer_size=MAX_CHUNK_BYTES, max_array_len=MAX_CHUNK_ITEMS
    )
    found: list[Gap | Marker] = []
    try:
        for piece in raw_pieces(code, body[meta_len : meta_len + data_len], raw_len):
            unpacker.feed(piece)
        while unpacker.tell() < raw_len:
            n = unpacker.read_array_header()
            tag = unpacker.unpack() if n else None
            if tag in (Tag.GAP, Tag.MARKER):
                decode = Gap.decode if tag == Tag.GAP else Marker.decode
                found.append(decode((tag, *(unpacker.unpack() for _ in range(n - 1)))))
            else:
                for _ in range(n - 1):
                    unpacker.skip()
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise DamagedRecording(name, chunk.offset, "in the chunk: " + why(exc)) from None
    return found


class _Frames:
    """Frames of a version-2 pass: read from the file (which can seek), or from a
    stream through the unpacker that read the header (which may hold bytes after it)."""

    def __init__(self, reading: Opened, seekable: bool) -> None:
        self.pos = reading.unpacker.tell()
        self.reading = reading
        self.seekable = seekable
        if seekable:
            reading.fh.seek(self.pos)

    def read(self, n: int) -> bytes:
        """``n`` bytes, fewer only at the end."""
        if self.seekable:
            data = self.reading.fh.read(n)
            while len(data) < n:
                more = self.reading.fh.read(n - len(data))
                if not more:
                    break
                data += more
        else:
            data = self.reading.unpacker.read_bytes(n)
            while len(data) < n:
                more = self.reading.counted.read(n - len(data))
                if not more:
                    break
                data += more
        self.pos += len(data)
        return data

    def seek(self, pos: int) -> None:
        self.reading.fh.seek(pos)
        self.pos = pos

    def skip(self, n: int) -> None:
        if self.seekable:
            self.seek(self.pos + n)
        else:
            self.read(n)


class _Scan:
    """One pass over the frames of a version-2 file: its position and what it found."""

    def __init__(self, name: str, src: _Frames, size: int | None, limit: int | None, tally: bool) -> None:
        self.name = name
        self.src = src
        #: The file's size (None: a stream) and where its summary starts (when known).
        self.size = size
        self.limit = limit
        self.names: dict[int, bytes] = {}
        self.gaps: list[tuple[bytes, Gap]] = []
        self.end: End | None = None
        self.truncated = 0
        self.rebuilt = True
        #: What the chunks hold, to hold the summary against (None: chunks were skipped).
        self.tally: Tally | None = Tally() if tally else None

    def frames(self, bounds: Bounds | None) -> Iterator[Record]:
        """Every record of every frame, up to the summary or the end."""
        src = self.src
        while True:
            start = src.pos
            magic = src.read(4)
            if not magic:
                return
            if magic == CHUNK_MAGIC:
                stop = yield from self.chunk(start, magic, bounds)
            elif magic == SUMMARY_MAGIC:
                yield from self.summary(start, magic)
                return
            else:
                stop = self.tail(start, magic)
            if stop:
                return

    def tail(self, start: int, magic: bytes) -> bool:
        """Neither a chunk nor the summary at ``start``: the last bytes of a cut file
        (stop), else damage."""
        if len(magic) < 4 and (self.size is None or start + len(magic) == self.size):
            self.truncated = len(magic)
            return True
        raise DamagedRecording(self.name, start, "not the start of a chunk or of the summary")

    def _past_the_end(self, start: int, following: int | None) -> None:
        """A chunk at ``start`` whose lengths run past the end is a truncated tail,
        unless a sound frame starts inside it (``following``): then a length lies."""
        if following is not None:
            raise DamagedRecording(
                self.name,
                start,
                f"a chunk's length runs past the end of the file, but a sound chunk or "
                f"summary follows at byte {following} (the length is wrong)",
            )

    def _cut(self, start: int, at: int | None = None) -> bool:
        """The frame at ``start`` is cut short by the end (at ``at``: where it is)."""
        self.truncated = (self.src.pos if at is None else at) - start
        return True

    def _frame(self, start: int, magic: bytes, bounds: Bounds | None) -> tuple[int, bytes, bytes, bytes, int] | bool:
        """The chunk at ``start`` read whole: ``(code, head, meta, data, raw length)``;
        True when the file ends inside it, False when a seek skips it."""
        src = self.src
        head = magic + src.read(CHUNK_HEAD.size - 4)
        if len(head) < CHUNK_HEAD.size:
            return self._cut(start)
        try:
            code, meta_len, data_len, raw_len = chunk_lengths(head)
        except Malformed as exc:
            raise DamagedRecording(self.name, start, str(exc)) from None
        frame_end = start + CHUNK_HEAD.size + meta_len + data_len
        if self.limit is not None and frame_end > self.limit:
            raise DamagedRecording(self.name, start, "a chunk runs into the summary (a length is wrong)")
        if self.size is not None and frame_end > self.size:
            with mmap.mmap(src.reading.fh.fileno(), self.size, access=mmap.ACCESS_READ) as whole:
                self._past_the_end(start, frame_after(whole, start + 4))
            return self._cut(start, self.size)
        meta_bytes = src.read(meta_len)
        if bounds is not None and src.seekable:
            try:
                meta: ChunkMeta | None = ChunkMeta.decode(unpackb(meta_bytes))
            except (Malformed, ValueError, TypeError, msgpack.UnpackException):
                meta = None  # found out below, with the checksum
            if meta is not None and not may_hold(meta, bounds):
                src.skip(data_len)
                self.tally = None
                return False
        data = src.read(data_len)
        if len(meta_bytes) < meta_len or len(data) < data_len:
            following = frame_after(head + meta_bytes + data, 4)
            self._past_the_end(start, None if following is None else start + following)
            return self._cut(start)
        return code, head, meta_bytes, data, raw_len

    def chunk(self, start: int, magic: bytes, bounds: Bounds | None) -> Generator[Record, None, bool]:
        """The chunk at ``start``: its streams, then its records, checked as they are
        decompressed. Returns whether the pass stops (the file ends inside it)."""
        frame = self._frame(start, magic, bounds)
        if isinstance(frame, bool):
            return frame
        code, head, meta_bytes, data, raw_len = frame
        try:
            check_chunk(head, meta_bytes, data)
            meta = ChunkMeta.decode(unpackb(meta_bytes))
        except (Malformed, ValueError, TypeError, msgpack.UnpackException) as exc:
            raise DamagedRecording(self.name, start, why(exc)) from None
        names = self.names
        defined: dict[int, bytes] = {}
        for sid, name in meta.streams:
            defined[sid] = name
            if names.get(sid) != name:
                names[sid] = name
                yield StreamDef(sid, name)
        tally = self.tally
        if tally is not None:
            tally.streams_of(meta)
        for record in chunk_records(self.name, raw_pieces(code, data, raw_len), start, defined):
            if isinstance(record, End):
                self.end = record
            elif isinstance(record, Gap):
                self.gaps.append((defined[record.stream_id], record))
            if tally is not None:
                tally.add(record)
            yield record
        return False

    def summary(self, start: int, magic: bytes) -> Generator[Record, None, bool]:
        """The summary at ``start``, held against what the pass read: its END, or
        nothing when the end of the file cut it (not a clean close)."""
        src = self.src
        head = magic + src.read(SUMMARY_HEAD.size - 4)
        if len(head) < SUMMARY_HEAD.size:
            return self._cut(start)
        _, length, _ = SUMMARY_HEAD.unpack(head)
        if length > MAX_SUMMARY_BYTES or (self.size is not None and start + SUMMARY_HEAD.size + length > self.size):
            return self._cut(start, self.size)
        body = src.read(length)
        if len(body) < length:
            return self._cut(start)
        try:
            summary = summary_from(head + body)
        except Malformed as exc:
            raise DamagedRecording(self.name, start, str(exc)) from None
        if read_trailer(src.read(TRAILER.size)) is None:  # the end was cut: not a clean close
            return self._cut(start)
        problems = [] if self.tally is None else self.tally.problems(summary, start)
        if problems:
            at, what = problems[0]
            raise DamagedRecording(self.name, at, what + REPAIR)
        self.end = End(summary.end_ns, summary.entries)
        self.rebuilt = False
        yield self.end
        return True


class V2Reader(FileReader):
    """A version-2 file or stream."""

    def __init__(self, name: str, path: Path | None, first: Opened) -> None:
        super().__init__(name, path, first)
        #: The stored summary found and checked, for the file's ``(size, mtime)``.
        self._stored: tuple[tuple[int, int], tuple[Summary, int] | None] | None = None

    def stored_summary(self) -> Summary | None:
        """The summary a clean close wrote at the end of the file, read from its
        trailer without reading the chunks; None for a stream or a file without an
        intact one."""
        if self.one_pass:
            return None
        found = self.trailer_summary()
        return None if found is None else found[0]

    def trailer_summary(self) -> tuple[Summary, int] | None:
        """``(summary, offset of its frame)`` when the file ends with an intact trailer
        and summary, held against the chunks' heads and metas first
        (:func:`~xtape.recording.audit.index_problems`): a summary that contradicts
        them is damage, never used."""
        fh = self.open()
        try:
            st = os.fstat(fh.fileno())
            key = (st.st_size, st.st_mtime_ns)
            if self._stored is not None and self._stored[0] == key:
                return self._stored[1]
            found = read_trailer_summary(fh, st.st_size)
            if found is not None:
                self._check_stored(fh.fileno(), *found)
            self._stored = (key, found)
            return found
        except OSError:
            return None
        finally:
            fh.close()

    def _check_stored(self, fd: int, summary: Summary, offset: int) -> None:
        problems = index_problems(lambda at, n: os.pread(fd, n, at), summary, self.records_at, offset)
        if not problems:
            budget = [EVENT_BYTES]
            problems, self.events_checked = event_problems(summary, offset, partial(events_of, self.name, fd, budget))
        if problems:
            at, what = problems[0]
            raise DamagedRecording(self.name, at, what + REPAIR)

    def records(self, bounds: Bounds | None = None) -> Pass:
        """Every record, chunk by chunk; a file that can seek skips the chunks that
        cannot hold an entry within ``bounds``."""
        reading = self.start()
        try:
            src = _Frames(reading, seekable=not self.one_pass)
            limit: int | None = None  # where the summary starts, when the trailer says
            size: int | None = None
            if not self.one_pass:
                size = os.fstat(reading.fh.fileno()).st_size
                found = self.trailer_summary()
                if found is not None:
                    summary, limit = found
                    if bounds is not None:
                        _jump(src, summary, bounds)
            scan = _Scan(self.name, src, size, limit, src.pos == self.records_at or self.one_pass)
            yield from scan.frames(bounds)
            total = size if size is not None else reading.counted.total
            return ReadSummary(total, scan.truncated, scan.end, tuple(scan.gaps), rebuilt=scan.rebuilt)
        finally:
            reading.close()


def _jump(src: _Frames, summary: Summary, bounds: Bounds) -> None:
    """Move to the first chunk that may hold the window (the index was checked: see
    :mod:`.audit`)."""
    for chunk in summary.chunks:
        if chunk.meta.entries and may_hold(chunk.meta, bounds):
            if chunk.offset > src.pos:
                src.seek(chunk.offset)
            break


__all__ = [
    "V2Reader",
    "chunk_records",
    "events_of",
    "may_hold",
    "read_trailer_summary",
    "summary_from",
]
