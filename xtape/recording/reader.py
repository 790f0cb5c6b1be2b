"""Streaming reading of ``.xtape`` files in constant memory.

:class:`Recording` is also a timeline source: the replayer plays it like a scenario.

Every record's shape is checked here, once, as it is read (see
:mod:`xtape.recording.records`): a damaged file stops with one
:class:`~xtape.errors.DamagedRecording` ("damaged at byte N"), and no caller ever
sees a value of the wrong type.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, repeat
from pathlib import Path
from typing import Any, BinaryIO, Literal

import msgpack

from xtape.errors import DamagedRecording, RecordingError
from xtape.ids import id_ms
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

    @property
    def complete(self) -> bool:
        return self.end is not None


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
        #: Standard input, a pipe or a stream: it can be read only once.
        self.one_pass = True
        if isinstance(source, (str, Path)) and str(source) != "-":
            self.path = Path(source)
            self.name = str(source)
            first = _Pass(self, self._open(), owned=True)
            if self._seekable(first.fh):
                first.close()
                self.one_pass = False
            else:  # a pipe or device: this one open is the only pass
                self._pending = first
        else:
            stream = sys.stdin.buffer if isinstance(source, (str, Path)) else source
            self.path = None
            self.name = STDIN_NAME if isinstance(source, (str, Path)) else _stream_name(stream)
            first = _Pass(self, stream, owned=False)
            self._pending = first
        self.header = first.header

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

    def records(self) -> Iterator[Record]:
        """Every record after the header, in file order, each checked for its shape.
        Unknown tags are skipped. Sets :attr:`summary` at the end."""
        reading = self._start()
        try:
            yield from self._records(reading)
        finally:
            reading.close()

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
            if type(obj) is not tuple or not obj or type(obj[0]) is not int:
                raise DamagedRecording(self.name, consumed, "a record that is not a tagged array")
            decode = DECODERS.get(obj[0])
            if decode is not None:
                try:
                    record = decode(obj)
                except Malformed as exc:
                    raise DamagedRecording(
                        self.name, consumed, f"{Tag(obj[0]).name} record: {exc}"
                    ) from None
                if isinstance(record, StreamDef):
                    defined[record.stream_id] = record.name
                elif isinstance(record, (Entries, Gap)) and record.stream_id not in defined:
                    raise DamagedRecording(
                        self.name,
                        consumed,
                        f"{Tag(obj[0]).name} record of stream {record.stream_id}, never defined",
                    )
                elif isinstance(record, End):
                    end = record
                if isinstance(record, Gap):
                    gaps.append((defined[record.stream_id], record))
                yield record
            consumed = unpacker.tell()
        self.summary = ReadSummary(
            reading.counted.total, reading.counted.total - consumed, end, tuple(gaps)
        )

    # -- entries ---------------------------------------------------------------------

    def batches(self) -> Iterator[tuple[bytes, int, Sequence[RawEntry]]]:
        """``(stream, capture_ns, raw_entries)`` per batch; with :attr:`interleave`,
        batches read in one XREAD round merged into id order."""
        names: dict[int, bytes] = {}
        pending: list[Entries] = []
        if not self.interleave:
            for record in self.records():
                if isinstance(record, Entries):
                    yield names[record.stream_id], record.capture_ns, record.entries
                elif isinstance(record, StreamDef):
                    names[record.stream_id] = record.name
            return
        for record in self.records():
            if isinstance(record, Entries):
                if pending and pending[0].capture_ns != record.capture_ns:
                    yield from _merged(pending, names)
                    pending = []
                pending.append(record)
            elif isinstance(record, StreamDef):
                names[record.stream_id] = record.name
        yield from _merged(pending, names)

    def _batch_records(self) -> Iterator[tuple[bytes, int, Sequence[RawEntry], Entries]]:
        names: dict[int, bytes] = {}
        for record in self.records():
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
        return [r for r in self.records() if isinstance(r, Gap)]

    def markers(self) -> list[Marker]:
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
        if not self.interleave:
            yield from self._events_by_batch(use_ids)
            return
        base: int | None = None
        # One event per entry, made with tuple.__new__ (no Python-level __new__ call)
        # from the unpacked record's own tuples, which the reader has checked (ids well
        # formed, fields bytes in pairs).
        new = tuple.__new__
        for stream, capture_ns, raw in self.batches():
            for entry_id, flat in raw:
                t = int(entry_id.partition(b"-")[0]) * NS_PER_MS if use_ids else capture_ns
                if base is None:
                    base = t
                t -= base
                yield new(Event, (t if t > 0 else 0, stream, flat, entry_id))

    def _events_by_batch(self, use_ids: bool) -> Timeline:
        """:meth:`events` without interleaving: the hot loop of a replay at full speed.
        Each batch's events are made by C-level calls from the columns the shape check
        made (ids, fields), so the check costs the replay little."""
        make = partial(tuple.__new__, Event)
        batches: Iterator[Any] = self._batch_records()
        base: int | None = None
        if use_ids:
            batches, base = _first_round_start(batches)
        for stream, capture_ns, _, record in batches:
            ids = record.ids
            if use_ids:
                if base is None:
                    base = int(ids[0].partition(b"-")[0]) * NS_PER_MS
                offsets: Any = [int(i.partition(b"-")[0]) * NS_PER_MS - base for i in ids]
                if min(offsets) < 0:
                    offsets = [t if t > 0 else 0 for t in offsets]
            else:
                if base is None:
                    base = capture_ns
                offsets = repeat(max(capture_ns - base, 0), len(ids))
            yield from map(make, zip(offsets, repeat(stream), record.flats, ids))

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
