"""Streaming reading of ``.xtape`` files in constant memory.

:class:`Recording` is also a timeline source: the replayer plays it like a scenario.

Every record's shape is checked here, once, as it is read (see
:mod:`xtape.recording.records`): a damaged file stops with one
:class:`~xtape.errors.DamagedRecording` ("damaged at byte N"), and no caller ever
sees a value of the wrong type.
"""

from __future__ import annotations

import contextlib
import glob as globbing
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import chain, repeat
from pathlib import Path
from typing import Any, BinaryIO, Literal

import msgpack

from xtape.errors import DamagedRecording, RecordingError, UsageError
from xtape.ids import id_ms
from xtape.recording.chunks import (
    CHUNK_HEAD,
    CHUNK_MAGIC,
    MAX_SUMMARY_BYTES,
    SUMMARY_HEAD,
    SUMMARY_MAGIC,
    TRAILER,
    ChunkMeta,
    Summary,
    check_chunk,
    chunk_lengths,
    decompress,
    read_trailer,
    unpackb,
)
from xtape.recording.records import (
    DECODERS,
    HEAD_BYTES,
    MAGIC,
    SUPPORTED_VERSIONS,
    End,
    Entries,
    Gap,
    Header,
    Malformed,
    Marker,
    RawEntry,
    Record,
    StreamDef,
    Tag,
    by_id,
    is_recording_head,
)
from xtape.timeline import NS_PER_MS, STDIN_NAME, Event, Fields, ScheduleFn, Timeline, pair_fields

#: Which clock a recording's timeline follows: the entry ids' milliseconds (the producer's
#: clock) or the recorder's capture clock (``--clock``). Not :class:`xtape.replay.Clock`,
#: the clock a replay is paced against.
TimeBase = Literal["id", "capture"]
TIME_BASES: tuple[str, ...] = ("id", "capture")

#: The largest single record accepted (a batch of entries with large values).
MAX_RECORD_BYTES = 1 << 30
#: The most elements an array may declare (an array is allocated before its elements
#: are read, so a damaged length must not ask for gigabytes).
MAX_ARRAY_ITEMS = 1 << 24
#: The most keys a map (only in the header) may declare.
MAX_MAP_KEYS = 1 << 16
_READ_SIZE = 1 << 20

#: The name of standard input in messages.


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded stream entry."""

    stream: bytes
    id: bytes
    fields: Fields = field(repr=False)
    capture_ns: int


@dataclass(frozen=True, slots=True)
class ReadSummary:
    """What a full pass over a recording found besides its records.

    ``size`` is the bytes read; ``truncated_bytes`` of them, at the end, were an
    incomplete record (a recorder killed mid-write) and were skipped; ``end`` is the
    END record a clean close writes, if there was one; ``gaps`` are the pass's gap
    records with their streams' names.
    """

    size: int
    truncated_bytes: int
    end: End | None
    gaps: tuple[tuple[bytes, Gap], ...] = ()
    #: Format v2: the file had no intact summary at its end (a recorder killed, a lost
    #: tail), so what is known about it came from reading every chunk.
    rebuilt: bool = False

    @property
    def complete(self) -> bool:
        return self.end is not None


#: Absolute bounds of a seek: ``(lo, hi, by_ids)``, times in ns on the clock the
#: timeline follows (entry ids' ms as ns, or capture ns); either bound may be None.
Bounds = tuple[int | None, int | None, bool]


def _may_hold(meta: ChunkMeta, bounds: Bounds) -> bool:
    """Whether a chunk may hold an entry inside ``bounds`` (gaps and markers only: no)."""
    if meta.entries == 0:
        return True  # gaps, markers: cheap, and what they say is kept
    lo, hi, by_ids = bounds
    if by_ids:
        first, last = meta.min_ms * NS_PER_MS, meta.max_ms * NS_PER_MS
    else:
        first, last = meta.first_capture_ns, meta.last_capture_ns
    return not ((lo is not None and last < lo) or (hi is not None and first >= hi))


_GLOB_CHARS = frozenset("*?[")


def set_parts(source: str | Path) -> list[Path] | None:
    """The files of a split recording named by a directory or a glob, in name order;
    None when ``source`` names one file."""
    path = Path(source)
    if path.is_dir():
        parts = sorted(p for p in path.iterdir() if p.suffix == ".xtape" and p.is_file())
        if not parts:
            raise RecordingError(str(source), "a directory without recordings (*.xtape)")
        return parts
    text = str(source)
    if not path.exists() and _GLOB_CHARS & set(text):
        parts = sorted(Path(p) for p in globbing.glob(text) if Path(p).is_file())
        if not parts:
            raise RecordingError(text, "no file matches this pattern")
        return parts
    return None


class _Bytes:
    """Frames of a version-2 pass: read from the file (which can seek), or from a
    stream through the unpacker that read the header (which may hold bytes after it)."""

    def __init__(self, reading: _Pass, seekable: bool) -> None:
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


class _Counted:
    """A reader that counts the bytes it hands out, and returns what a pipe has
    (``read1``) rather than waiting for a full buffer, so a live stream reads live."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.total = 0
        self._read: Callable[[int], bytes] = getattr(fh, "read1", fh.read)

    def read(self, n: int) -> bytes:
        data = self._read(n)
        self.total += len(data)
        return data


class _Pass:
    """One open reading: the stream, its unpacker, where the header ended."""

    def __init__(self, rec: Recording, fh: BinaryIO, owned: bool) -> None:
        self.fh = fh
        self.owned = owned
        self.counted = _Counted(fh)
        self.in_records = False
        self.unpacker = msgpack.Unpacker(
            self.counted,
            raw=False,
            use_list=False,  # tuples: an entry's fields become an Event's ``flat`` as they are
            strict_map_key=False,
            object_pairs_hook=self._map,
            max_buffer_size=MAX_RECORD_BYTES,
            max_array_len=MAX_ARRAY_ITEMS,
            max_map_len=MAX_MAP_KEYS,
            read_size=_READ_SIZE,
        )
        try:
            obj = next(self.unpacker)
        except (StopIteration, ValueError, TypeError, msgpack.UnpackException):
            obj = None
        try:
            self.header = rec._check_header(obj)
        except BaseException:
            self.close()
            raise
        self.in_records = True

    def _map(self, pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
        # Maps belong to the header only; in a record one is damage (and refusing it
        # here saves the entry checks a type test per entry).
        if self.in_records:
            raise Malformed("a map inside a record")
        for key, _ in pairs:
            if type(key) is not str:
                raise Malformed("a header key that is not text")
        return dict(pairs)

    def close(self) -> None:
        if self.owned:
            self.fh.close()


class Recording:
    """A recording opened for reading: a file, ``"-"`` (standard input) or a binary stream.

    Opening reads only the header (and refuses what is not a recording). A regular file
    is read front to back on each iteration; standard input, a pipe or a stream is read
    once, header and records in one pass, and a second iteration is refused. After a
    full pass, :attr:`summary` tells how many bytes were read, whether the recording was
    closed cleanly and how much of an incomplete tail was skipped.

    ``interleave`` merges the streams read in one recorder round into id order, so they
    interleave as they happened; without it each stream's batch comes whole (per-stream
    order is the same either way). Replaying at full speed does without: the order
    across streams within a round carries no timing then, and merging costs about a
    third of the reading.
    """

    def __init__(
        self,
        source: str | Path | BinaryIO,
        *,
        clock: TimeBase = "id",
        interleave: bool = True,
    ) -> None:
        self.clock: TimeBase = clock
        self.interleave = interleave
        #: What the last full pass found (None before one ends).
        self.summary: ReadSummary | None = None
        self._pending: _Pass | None = None
        self.path: Path | None
        self.header: Header
        #: The window :meth:`seek` set: ``(since_ns, until_ns)`` offsets, or None.
        self.window: tuple[int | None, int | None] | None = None
        #: Whether :meth:`events` gives each event its offset; without (a replay at full
        #: speed over the whole recording, where nothing is timed), every offset is 0.
        self.timed = True
        #: The files of a split recording (a directory or a glob), read as one.
        self.parts: list[Recording] | None = None
        #: Standard input, a pipe or a stream: it can be read only once.
        self.one_pass = True
        if isinstance(source, (str, Path)) and str(source) != "-":
            self.path = Path(source)
            self.name = str(source)
            paths = set_parts(source)
            if paths is not None:
                self.parts = [Recording(p, clock=clock, interleave=interleave) for p in paths]
                self.one_pass = False
                self.header = self.parts[0].header
                return
            first = _Pass(self, self._open(), owned=True)
            if self._seekable(first.fh):
                first.close()
                self.one_pass = False
            else:  # a pipe or device: this one open is the only pass
                self._pending = first
        else:
            stream = sys.stdin.buffer if isinstance(source, (str, Path)) else source
            if getattr(stream, "isatty", bool)():  # (it would wait for a recording typed in)
                raise UsageError(
                    "- reads a recording from standard input, which is a terminal here: "
                    "pipe or redirect one in (xtape info - < rec.xtape)"
                )
            self.path = None
            self.name = STDIN_NAME if isinstance(source, (str, Path)) else _stream_name(stream)
            first = _Pass(self, stream, owned=False)
            self._pending = first
        self.header = first.header

    def seek(self, since_ns: int | None = None, until_ns: int | None = None) -> None:
        """Read only the chunks that may hold entries with ``since_ns <= offset <
        until_ns`` (offsets of :meth:`events`): a version-2 file jumps to the first such
        chunk. The entries outside the window that come with them are still yielded (a
        caller filters exactly); gaps and markers are all kept."""
        self.window = None if since_ns is None and until_ns is None else (since_ns, until_ns)

    def close(self) -> None:
        """Close a stream opened for the one pass that was never read (a FIFO path)."""
        if self._pending is not None:
            self._pending.close()
            self._pending = None

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def truncated_bytes(self) -> int:
        """Bytes of an incomplete record skipped at the end of the last full pass."""
        return self.summary.truncated_bytes if self.summary is not None else 0

    # -- low level -----------------------------------------------------------------

    def _open(self) -> BinaryIO:
        assert self.path is not None
        try:
            return open(self.path, "rb", buffering=0)
        except OSError as exc:
            raise RecordingError(self.name, f"cannot open: {exc.strerror or exc}") from None

    @staticmethod
    def _seekable(fh: BinaryIO) -> bool:
        try:
            return stat.S_ISREG(os.fstat(fh.fileno()).st_mode)
        except (OSError, ValueError):
            return False

    def _check_header(self, obj: Any) -> Header:
        if not isinstance(obj, dict) or obj.get("magic") != MAGIC:
            raise RecordingError(self.name, "not an xtape recording (no xtape header)")
        version = obj.get("version")
        if type(version) is not int or version not in SUPPORTED_VERSIONS:
            known = ", ".join(str(v) for v in sorted(SUPPORTED_VERSIONS))
            raise RecordingError(
                self.name,
                f"recording format version {version!r} is not supported by this xtape "
                f"(it reads version {known}); upgrade xtape to read it",
            )
        try:
            return Header.decode(obj)
        except Malformed as exc:
            raise DamagedRecording(self.name, 0, str(exc)) from None

    def _start(self) -> _Pass:
        if self._pending is not None:
            reading, self._pending = self._pending, None
            return reading
        if self.one_pass:
            raise RecordingError(
                self.name, "a recording read from a stream can be read only once"
            )
        return _Pass(self, self._open(), owned=True)

    def records(self, *, bounds: Bounds | None = None) -> Iterator[Record]:
        """Every record after the header, in file order, each checked for its shape.
        Unknown tags are skipped. Sets :attr:`summary` at the end. A version-2 file
        that can seek skips the chunks that cannot hold an entry within ``bounds``."""
        if self.parts is not None:
            yield from self._set_records(bounds)
            return
        reading = self._start()
        try:
            if reading.header.version == 1:
                yield from self._records(reading)
            else:
                yield from self._records_v2(reading, bounds)
        finally:
            reading.close()

    def _decode(
        self, obj: Any, at: int, defined: dict[int, bytes], where: str = ""
    ) -> Record | None:
        """A checked record from an unpacked object (None for an unknown tag)."""
        if type(obj) is not tuple or not obj or type(obj[0]) is not int:
            raise DamagedRecording(self.name, at, f"{where}a record that is not a tagged array")
        decode = DECODERS.get(obj[0])
        if decode is None:
            return None
        try:
            record: Record = decode(obj)
        except Malformed as exc:
            raise DamagedRecording(self.name, at, f"{where}{Tag(obj[0]).name} record: {exc}") from None
        if isinstance(record, StreamDef):
            defined[record.stream_id] = record.name
        elif isinstance(record, (Entries, Gap)) and record.stream_id not in defined:
            raise DamagedRecording(
                self.name,
                at,
                f"{where}{Tag(obj[0]).name} record of stream {record.stream_id}, never defined",
            )
        return record

    def _records(self, reading: _Pass) -> Iterator[Record]:
        unpacker = reading.unpacker
        defined: dict[int, bytes] = {}
        gaps: list[tuple[bytes, Gap]] = []
        end: End | None = None
        consumed = unpacker.tell()
        while True:
            try:
                obj = next(unpacker)
            except StopIteration:
                break
            except (ValueError, TypeError, msgpack.UnpackException) as exc:
                raise DamagedRecording(self.name, consumed, _why(exc)) from None
            record = self._decode(obj, consumed, defined)
            if record is not None:
                if isinstance(record, End):
                    end = record
                if isinstance(record, Gap):
                    gaps.append((defined[record.stream_id], record))
                yield record
            consumed = unpacker.tell()
        self.summary = ReadSummary(
            reading.counted.total, reading.counted.total - consumed, end, tuple(gaps)
        )

    # -- version 2 -------------------------------------------------------------------

    def stored_summary(self) -> Summary | None:
        """The summary a clean close wrote at the end of a version-2 file, read from
        its trailer without reading the chunks; None for version 1, a stream, or a file
        without an intact one. (A split recording: see :attr:`parts`.)"""
        if self.header.version != 2 or self.one_pass or self.parts is not None:
            return None
        found = self._trailer_summary()
        return None if found is None else found[0]

    def _trailer_summary(self) -> tuple[Summary, int] | None:
        """``(summary, offset of its frame)`` when the file ends with an intact trailer
        and summary."""
        fh = self._open()
        try:
            size = os.fstat(fh.fileno()).st_size
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
            return _summary_from(frame), offset
        except (Malformed, OSError):
            return None
        finally:
            fh.close()

    def _records_v2(self, reading: _Pass, bounds: Bounds | None) -> Iterator[Record]:
        src = _Bytes(reading, seekable=not self.one_pass)
        limit: int | None = None  # where the summary starts, when the trailer says
        size: int | None = None
        if not self.one_pass:
            size = os.fstat(reading.fh.fileno()).st_size
            found = self._trailer_summary()
            if found is not None:
                summary, limit = found
                if bounds is not None:  # jump to the first chunk that may hold the window
                    for chunk in summary.chunks:
                        if chunk.meta.entries and _may_hold(chunk.meta, bounds):
                            if chunk.offset > src.pos:
                                src.seek(chunk.offset)
                            break
        names: dict[int, bytes] = {}
        gaps: list[tuple[bytes, Gap]] = []
        end: End | None = None
        truncated = 0
        rebuilt = True
        while True:
            start = src.pos
            magic = src.read(4)
            if not magic:
                break
            if magic == CHUNK_MAGIC:
                head = magic + src.read(CHUNK_HEAD.size - 4)
                if len(head) < CHUNK_HEAD.size:
                    truncated = src.pos - start
                    break
                try:
                    code, meta_len, data_len, raw_len = chunk_lengths(head)
                except Malformed as exc:
                    raise DamagedRecording(self.name, start, str(exc)) from None
                frame_end = start + CHUNK_HEAD.size + meta_len + data_len
                if limit is not None and frame_end > limit:
                    raise DamagedRecording(
                        self.name, start, "a chunk runs into the summary (a length is wrong)"
                    )
                if size is not None and frame_end > size:
                    truncated = size - start
                    break
                meta_bytes = src.read(meta_len)
                if bounds is not None and src.seekable:
                    try:
                        meta = ChunkMeta.decode(unpackb(meta_bytes))
                    except (Malformed, ValueError, TypeError, msgpack.UnpackException):
                        meta = None  # found out below, with the checksum
                    if meta is not None and not _may_hold(meta, bounds):
                        src.skip(data_len)
                        continue
                data = src.read(data_len)
                if len(meta_bytes) < meta_len or len(data) < data_len:
                    truncated = src.pos - start
                    break
                try:
                    check_chunk(head, meta_bytes, data)
                    meta = ChunkMeta.decode(unpackb(meta_bytes))
                    raw = decompress(code, data, raw_len)
                except (Malformed, ValueError, TypeError, msgpack.UnpackException) as exc:
                    raise DamagedRecording(self.name, start, _why(exc)) from None
                defined: dict[int, bytes] = {}
                for sid, name in meta.streams:
                    defined[sid] = name
                    if names.get(sid) != name:
                        names[sid] = name
                        yield StreamDef(sid, name)
                for record in self._chunk_records(raw, start, defined):
                    if isinstance(record, End):
                        end = record
                    elif isinstance(record, Gap):
                        gaps.append((defined[record.stream_id], record))
                    yield record
            elif magic == SUMMARY_MAGIC:
                head = magic + src.read(SUMMARY_HEAD.size - 4)
                if len(head) < SUMMARY_HEAD.size:
                    truncated = src.pos - start
                    break
                _, length, _ = SUMMARY_HEAD.unpack(head)
                if length > MAX_SUMMARY_BYTES or (
                    size is not None and start + SUMMARY_HEAD.size + length > size
                ):
                    truncated = (size if size is not None else src.pos) - start
                    break
                body = src.read(length)
                if len(body) < length:
                    truncated = src.pos - start
                    break
                try:
                    summary = _summary_from(head + body)
                except Malformed as exc:
                    raise DamagedRecording(self.name, start, str(exc)) from None
                tail = src.read(TRAILER.size)
                if read_trailer(tail) is None:  # the end was cut: not a clean close
                    truncated = src.pos - start
                    break
                end = End(summary.end_ns, summary.entries)
                rebuilt = False
                yield end
                break
            elif len(magic) < 4 and (size is None or start + len(magic) == size):
                truncated = len(magic)
                break
            else:
                raise DamagedRecording(
                    self.name, start, "not the start of a chunk or of the summary"
                )
        total = size if size is not None else reading.counted.total
        self.summary = ReadSummary(total, truncated, end, tuple(gaps), rebuilt=rebuilt)

    def _chunk_records(
        self, raw: bytes, at: int, defined: dict[int, bytes]
    ) -> Iterator[Record]:
        unpacker = msgpack.Unpacker(
            None,
            raw=False,
            use_list=False,
            strict_map_key=False,
            object_pairs_hook=_refuse_map,
            max_buffer_size=max(len(raw), 1),
            max_array_len=MAX_ARRAY_ITEMS,
            max_map_len=MAX_MAP_KEYS,
        )
        unpacker.feed(raw)
        where = "in the chunk: "
        while True:
            try:
                obj = next(unpacker)
            except StopIteration:
                break
            except (ValueError, TypeError, msgpack.UnpackException) as exc:
                raise DamagedRecording(self.name, at, where + _why(exc)) from None
            record = self._decode(obj, at, defined, where)
            if record is not None:
                yield record
        if unpacker.tell() != len(raw):
            raise DamagedRecording(self.name, at, where + "it ends inside a record")

    def _set_records(self, bounds: Bounds | None) -> Iterator[Record]:
        """The records of every file of a split recording, stream ids made common."""
        assert self.parts is not None
        ids: dict[bytes, int] = {}
        size = truncated = 0
        ends: list[End | None] = []
        gaps: list[tuple[bytes, Gap]] = []
        rebuilt = False
        for part in self.parts:
            local: dict[int, int] = {}
            for record in part.records(bounds=bounds):
                if isinstance(record, StreamDef):
                    gid = ids.get(record.name)
                    if gid is None:
                        gid = ids[record.name] = len(ids)
                        yield StreamDef(gid, record.name)
                    local[record.stream_id] = gid
                elif isinstance(record, (Entries, Gap)):
                    gid = local[record.stream_id]
                    yield record if gid == record.stream_id else replace(record, stream_id=gid)
                elif not isinstance(record, End):
                    yield record
            assert part.summary is not None
            size += part.summary.size
            truncated += part.summary.truncated_bytes
            rebuilt = rebuilt or part.summary.rebuilt
            gaps += part.summary.gaps
            ends.append(part.summary.end)
        last = ends[-1] if ends and all(e is not None for e in ends) else None
        if last is not None:
            last = End(last.capture_ns, sum(e.entries for e in ends if e is not None))
        self.summary = ReadSummary(size, truncated, last, tuple(gaps), rebuilt=rebuilt)

    # -- entries ---------------------------------------------------------------------

    def batches(
        self, bounds: Bounds | None = None
    ) -> Iterator[tuple[bytes, int, Sequence[RawEntry]]]:
        """``(stream, capture_ns, raw_entries)`` per batch; with :attr:`interleave`,
        batches read in one XREAD round merged into id order. ``bounds``: only the
        chunks of a v2 file that may hold them are read (see :meth:`seek`)."""
        names: dict[int, bytes] = {}
        pending: list[Entries] = []
        if not self.interleave:
            for record in self.records(bounds=bounds):
                if isinstance(record, Entries):
                    yield names[record.stream_id], record.capture_ns, record.entries
                elif isinstance(record, StreamDef):
                    names[record.stream_id] = record.name
            return
        for record in self.records(bounds=bounds):
            if isinstance(record, Entries):
                if pending and pending[0].capture_ns != record.capture_ns:
                    yield from _merged(pending, names)
                    pending = []
                pending.append(record)
            elif isinstance(record, StreamDef):
                names[record.stream_id] = record.name
        yield from _merged(pending, names)

    def _batch_records(
        self, bounds: Bounds | None
    ) -> Iterator[tuple[bytes, int, Sequence[RawEntry], Entries]]:
        names: dict[int, bytes] = {}
        for record in self.records(bounds=bounds):
            if isinstance(record, Entries):
                yield names[record.stream_id], record.capture_ns, record.entries, record
            elif isinstance(record, StreamDef):
                names[record.stream_id] = record.name

    def entries(self) -> Iterator[Entry]:
        """Every recorded entry, in time order per XREAD round, file order otherwise."""
        for stream, capture_ns, raw in self.batches():
            for entry_id, flat in raw:
                yield Entry(stream, entry_id, pair_fields(flat), capture_ns)

    def gaps(self) -> list[Gap]:
        """The gaps, in file order (a v2 file closed cleanly: from its summary alone).
        Stream ids are those of :meth:`records`."""
        if self.parts is None:
            summary = self.stored_summary()
            if summary is not None:
                return [Gap(*row) for row in summary.gaps]
        return [r for r in self.records() if isinstance(r, Gap)]

    def markers(self) -> list[Marker]:
        """The markers, in file order (a v2 file closed cleanly: from its summary alone)."""
        if self.parts is not None:
            return [m for part in self.parts for m in part.markers()]
        summary = self.stored_summary()
        if summary is not None:
            return [Marker(*row) for row in summary.markers]
        return [r for r in self.records() if isinstance(r, Marker)]

    # -- timeline ----------------------------------------------------------------------

    def events(self, clock: TimeBase | None = None) -> Timeline:
        """The recording as a timeline: offsets from the entry ids' milliseconds
        (the producer's clock, ``clock="id"``) or from the recorder's capture clock.

        Offset 0 is the recording's start: the earliest entry of the recorder's first
        round (``id``) or its first read (``capture``), with or without :attr:`interleave`;
        an older entry (a stream found later, read from its start) is at 0 too. ``--since``
        and ``--until`` of ``replay`` and ``convert`` count from there.
        """
        use_ids = (clock or self.clock) == "id"
        bounds, base = self._seek_bounds(use_ids)
        if not self.interleave:
            # The events of each batch come from C-level iterators chained in C: no
            # Python frame per event (the hot loop of a replay at full speed).
            return chain.from_iterable(self._event_runs(use_ids, base, bounds))
        return self._events_merged(use_ids, base, bounds)

    def _seek_bounds(self, use_ids: bool) -> tuple[Bounds | None, int | None]:
        """The absolute bounds of :attr:`window` and the timeline's start, when a
        seek can skip chunks (a file, not a stream)."""
        if self.window is None or self.one_pass:
            return None, None
        base = self._timeline_base(use_ids)
        if base is None:
            return None, None
        since, until = self.window
        lo = None if since is None else base + since
        hi = None if until is None else base + until
        return (lo, hi, use_ids), base

    def _timeline_base(self, use_ids: bool) -> int | None:
        """Where the timeline starts (see :meth:`events`), from the first round only."""
        first_ns: int | None = None
        start: int | None = None
        records = self.records()
        with contextlib.closing(records):  # type: ignore[type-var]
            for record in records:
                if not isinstance(record, Entries):
                    continue
                if first_ns is None:
                    first_ns = record.capture_ns
                elif record.capture_ns != first_ns:
                    break
                if not use_ids:
                    break
                ns = id_ms(record.entries[0][0]) * NS_PER_MS
                start = ns if start is None else min(start, ns)
        return start if use_ids else first_ns

    def _events_merged(self, use_ids: bool, base: int | None, bounds: Bounds | None) -> Timeline:
        # One event per entry, made with tuple.__new__ (no Python-level __new__ call)
        # from the unpacked record's own tuples, which the reader has checked (ids well
        # formed, fields bytes in pairs).
        new = tuple.__new__
        for stream, capture_ns, raw in self.batches(bounds):
            for entry_id, flat in raw:
                t = int(entry_id.partition(b"-")[0]) * NS_PER_MS if use_ids else capture_ns
                if base is None:
                    base = t
                t -= base
                yield new(Event, (t if t > 0 else 0, stream, flat, entry_id))

    def _event_runs(
        self, use_ids: bool, base: int | None, bounds: Bounds | None
    ) -> Iterator[Iterator[Event]]:
        """:meth:`events` without interleaving, an iterator of events per batch. Each
        batch's events are made by C-level calls from the columns the shape check made
        (ids, fields), so the check costs the replay little. Untimed (:attr:`timed`),
        every offset is 0 and no id is parsed."""
        make = partial(tuple.__new__, Event)
        batches: Iterator[Any] = self._batch_records(bounds)
        timed = self.timed
        if timed and use_ids and base is None:
            batches, base = _first_round_start(batches)
        for stream, capture_ns, _, record in batches:
            ids = record.ids
            if not timed:
                offsets: Any = repeat(0)
            elif use_ids:
                if base is None:
                    base = int(ids[0].partition(b"-")[0]) * NS_PER_MS
                offsets = [int(i.partition(b"-")[0]) * NS_PER_MS - base for i in ids]
                if min(offsets) < 0:
                    offsets = [t if t > 0 else 0 for t in offsets]
            else:
                if base is None:
                    base = capture_ns
                offsets = repeat(max(capture_ns - base, 0), len(ids))
            yield map(make, zip(offsets, repeat(stream), record.flats, ids))

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Timeline:
        """The :class:`xtape.timeline.Source` protocol: every pass is the same."""
        return self.events()


_Batch = tuple[bytes, int, Sequence[RawEntry]]


def _first_round_start(batches: Iterator[_Batch]) -> tuple[Iterator[_Batch], int | None]:
    """Where an id-clock timeline starts when a round's streams are not interleaved: the
    earliest id (ms, as ns) of the first round, as if they were; the batches unchanged."""
    head: list[_Batch] = []
    start: int | None = None
    for batch in batches:
        head.append(batch)
        if batch[1] != head[0][1]:
            break
        if batch[2]:
            ns = id_ms(batch[2][0][0]) * NS_PER_MS
            start = ns if start is None else min(start, ns)
    return chain(head, batches), start


def is_recording(source: str | Path | BinaryIO) -> bool:
    """Whether a file (or a buffered binary stream, which is peeked at, not consumed)
    holds a recording, by its first bytes rather than its name. ``"-"`` is standard
    input. A file that cannot be read is not a recording."""
    if isinstance(source, (str, Path)) and str(source) != "-":
        try:
            with open(source, "rb") as fh:
                return is_recording_head(fh.read(HEAD_BYTES))
        except OSError:
            return False
    stream = sys.stdin.buffer if isinstance(source, (str, Path)) else source
    peek = getattr(stream, "peek", None)
    if peek is None:
        if not stream.seekable():
            raise TypeError("is_recording needs a stream that can peek or seek")
        at = stream.tell()
        head = stream.read(HEAD_BYTES)
        stream.seek(at)
        return is_recording_head(head)
    # The writer writes the header in one write, so a pipe has all of it at once.
    return is_recording_head(peek(HEAD_BYTES)[:HEAD_BYTES])


def _summary_from(frame: bytes) -> Summary:
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
        raise Malformed(f"the summary does not read: {_why(exc)}") from None


def _refuse_map(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    raise Malformed("a map inside a record")


def _stream_name(stream: BinaryIO) -> str:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else "<stream>"


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, Malformed):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _merged(
    batches: list[Entries], names: dict[int, bytes]
) -> Iterator[tuple[bytes, int, Sequence[RawEntry]]]:
    if len(batches) == 1:
        b = batches[0]
        yield names[b.stream_id], b.capture_ns, b.entries
        return
    if not batches:
        return
    # Several streams read in one round: interleave by entry id, one entry at a time.
    for i, entry in by_id([b.entries for b in batches]):
        b = batches[i]
        yield names[b.stream_id], b.capture_ns, (entry,)


__all__ = ["TIME_BASES", "End", "Entry", "ReadSummary", "Recording", "TimeBase", "is_recording"]
