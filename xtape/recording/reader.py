"""Streaming reading of ``.xtape`` files in constant memory.

:class:`Recording` is also a timeline source: the replayer plays it like a scenario.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, Literal

import msgpack

from xtape.errors import RecordingError
from xtape.ids import id_ms
from xtape.recording.records import (
    DECODERS,
    MAGIC,
    SUPPORTED_VERSIONS,
    End,
    Entries,
    Gap,
    Header,
    Marker,
    Record,
    StreamDef,
    Tag,
    by_id,
)
from xtape.timeline import NS_PER_MS, Event, Fields, ScheduleFn, Timeline, pair_fields

#: Which clock a recording's timeline follows: the entry ids' milliseconds (the producer's
#: clock) or the recorder's capture clock (``--clock``). Not :class:`xtape.replay.Clock`,
#: the clock a replay is paced against.
TimeBase = Literal["id", "capture"]
TIME_BASES: tuple[str, ...] = ("id", "capture")

#: The largest single record accepted (a batch of entries with large values).
MAX_RECORD_BYTES = 1 << 30
_READ_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded stream entry."""

    stream: bytes
    id: bytes
    fields: Fields = field(repr=False)
    capture_ns: int


class Recording:
    """An ``.xtape`` file opened for reading.

    Opening reads only the header (and refuses what is not a recording). Iterating
    reads the file front to back each time; :attr:`truncated_bytes` tells, after a full
    pass, how many bytes at the end were an incomplete record (a recorder killed
    mid-write) and were skipped.

    ``interleave`` merges the streams read in one recorder round into id order, so they
    interleave as they happened; without it each stream's batch comes whole (per-stream
    order is the same either way). Replaying at full speed does without: the order
    across streams within a round carries no timing then, and merging costs about a
    third of the reading.
    """

    def __init__(self, path: str | Path, *, clock: TimeBase = "id", interleave: bool = True) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.clock: TimeBase = clock
        self.interleave = interleave
        self.truncated_bytes = 0
        self.header = self._read_header()

    # -- low level -----------------------------------------------------------------

    def _open(self) -> BinaryIO:
        try:
            return open(self.path, "rb")
        except OSError as exc:
            raise RecordingError(self.name, f"cannot open: {exc.strerror or exc}") from None

    def _unpacker(self, fh: BinaryIO, *, use_list: bool = False) -> Any:
        # Records unpack as tuples: an entry's fields become an Event's ``flat`` as they are.
        return msgpack.Unpacker(
            fh,
            raw=False,
            use_list=use_list,
            strict_map_key=False,
            max_buffer_size=MAX_RECORD_BYTES,
            read_size=_READ_SIZE,
        )

    def _read_header(self) -> Header:
        with self._open() as fh:
            unpacker = self._unpacker(fh, use_list=True)
            try:
                obj = next(unpacker)
            except (StopIteration, ValueError, msgpack.UnpackException):
                obj = None
            return self._check_header(obj)

    def _check_header(self, obj: Any) -> Header:
        if not isinstance(obj, dict) or obj.get("magic") != MAGIC:
            raise RecordingError(self.name, "not an xtape recording (no xtape header)")
        version = obj.get("version")
        if version not in SUPPORTED_VERSIONS:
            known = ", ".join(str(v) for v in sorted(SUPPORTED_VERSIONS))
            raise RecordingError(
                self.name,
                f"recording format version {version} is not supported by this xtape "
                f"(it reads version {known}); upgrade xtape to read it",
            )
        return Header.decode(obj)

    def records(self) -> Iterator[Record]:
        """Every record after the header, in file order. Unknown tags are skipped."""
        self.truncated_bytes = 0
        with self._open() as fh:
            size = os.fstat(fh.fileno()).st_size
            unpacker = self._unpacker(fh)
            self._check_header(next(unpacker, None))
            consumed = unpacker.tell()
            while True:
                try:
                    obj = next(unpacker)
                except StopIteration:
                    break
                except (ValueError, msgpack.UnpackException) as exc:
                    detail = f": {exc}" if str(exc) else ""
                    raise RecordingError(
                        self.name, f"corrupt record at byte {consumed}{detail}; the file is damaged"
                    ) from None
                if not isinstance(obj, tuple) or not obj or not isinstance(obj[0], int):
                    raise RecordingError(self.name, f"corrupt record before byte {unpacker.tell()}")
                consumed = unpacker.tell()
                decode = DECODERS.get(obj[0])
                if decode is None:
                    continue
                try:
                    yield decode(obj)
                except (IndexError, TypeError, ValueError):
                    raise RecordingError(
                        self.name, f"malformed {Tag(obj[0]).name} record before byte {unpacker.tell()}"
                    ) from None
            if consumed < size:
                self.truncated_bytes = size - consumed

    # -- entries ---------------------------------------------------------------------

    def batches(self) -> Iterator[tuple[bytes, int, list[Any]]]:
        """``(stream, capture_ns, raw_entries)`` per batch; with :attr:`interleave`,
        batches read in one XREAD round merged into id order."""
        names: dict[int, bytes] = {}
        pending: list[Entries] = []
        if not self.interleave:
            for record in self.records():
                if isinstance(record, Entries):
                    yield names.get(record.stream_id, b"?"), record.capture_ns, record.entries
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

    def entries(self) -> Iterator[Entry]:
        """Every recorded entry, in time order per XREAD round, file order otherwise."""
        try:
            for stream, capture_ns, raw in self.batches():
                for entry_id, flat in raw:
                    id_ms(entry_id)  # a well-formed id, or a corrupt file
                    yield Entry(stream, entry_id, pair_fields(flat), capture_ns)
        except _MALFORMED as exc:
            raise self.corrupt(exc) from None

    def streams(self) -> list[bytes]:
        """The names of all streams defined in the file."""
        return [r.name for r in self.records() if isinstance(r, StreamDef)]

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
        base: int | None = None
        # The hot loop of a replay: one event per entry, made with tuple.__new__ (no
        # Python-level __new__ call) from the unpacked record's own tuples.
        new = tuple.__new__
        try:
            batches = self.batches()
            if use_ids and not self.interleave:
                batches, base = _first_round_start(batches)
            for stream, capture_ns, raw in batches:
                for entry_id, flat in raw:
                    t = int(entry_id.partition(b"-")[0]) * NS_PER_MS if use_ids else capture_ns
                    if base is None:
                        base = t
                    t -= base
                    yield new(Event, (t if t > 0 else 0, stream, flat, entry_id))
        except _MALFORMED as exc:
            raise self.corrupt(exc) from None

    def corrupt(self, exc: BaseException) -> RecordingError:
        """The error for an entry of the wrong shape (a damaged file)."""
        return RecordingError(self.name, f"corrupt entry in the recording ({exc}); the file is damaged")

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Timeline:
        """The :class:`xtape.timeline.Source` protocol: every pass is the same."""
        return self.events()


#: What a damaged entry raises when it is taken apart.
_MALFORMED = (ValueError, TypeError, AttributeError, IndexError)

_Batch = tuple[bytes, int, list[Any]]


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


def _merged(batches: list[Entries], names: dict[int, bytes]) -> Iterator[tuple[bytes, int, list[Any]]]:
    if len(batches) == 1:
        b = batches[0]
        yield names.get(b.stream_id, b"?"), b.capture_ns, b.entries
        return
    if not batches:
        return
    # Several streams read in one round: interleave by entry id, one entry at a time.
    for i, entry in by_id([b.entries for b in batches]):
        b = batches[i]
        yield names.get(b.stream_id, b"?"), b.capture_ns, [entry]


__all__ = ["TIME_BASES", "End", "Entry", "Recording", "TimeBase"]
