"""Streaming reading of ``.xtape`` files in constant memory.

:class:`Recording` is a small façade over one reader per kind of input, chosen when it
is opened (as mcap's ``make_reader`` does): :class:`~xtape.recording.read_v1.V1Reader`
and :class:`~xtape.recording.read_v2.V2Reader` for one file or stream (by its header's
version), :class:`~xtape.recording.read_series.SeriesReader` for a split recording (a
directory or a glob, see :mod:`xtape.recording.series`). Where its timeline starts and
how its records become events is :mod:`xtape.recording.timebase`. It is also a timeline
source: the replayer plays it like a scenario.

Every record's shape is checked as it is read (see :mod:`xtape.recording.records`): a
damaged file stops with one :class:`~xtape.errors.DamagedRecording` ("damaged at byte
N"), and no caller ever sees a value of the wrong type.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import BinaryIO

from xtape.errors import UsageError
from xtape.recording.chunks import Summary
from xtape.recording.opening import Bounds, FileReader, Opened, ReadSummary, open_file, stream_name
from xtape.recording.read_series import SeriesReader
from xtape.recording.read_v1 import V1Reader
from xtape.recording.read_v2 import V2Reader
from xtape.recording.records import HEAD_BYTES, End, Gap, Header, Marker, Record, is_recording_head
from xtape.recording.series import select as series_select
from xtape.recording.timebase import (
    TIME_BASES,
    Batch,
    TimeBase,
    batches_of,
    event_runs,
    events_merged,
    first_round,
    named_entries,
)
from xtape.timeline import STDIN_NAME, Fields, ScheduleFn, Timeline, pair_fields


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded stream entry."""

    stream: bytes
    id: bytes
    fields: Fields = field(repr=False)
    capture_ns: int


def set_parts(source: str | Path) -> list[Path] | None:
    """The files of a split recording named by a directory or a glob, in the order
    they are read (see :mod:`xtape.recording.series`); None when ``source`` names one
    file. Raises :class:`~xtape.recording.series.NotOneRecording` for files that are
    not one recording."""
    selection = series_select(source)
    return None if selection is None else selection.paths


def _file_reader(name: str, path: Path | None, first: Opened) -> FileReader:
    """The reader of the file or stream ``first`` opened, by its header's version."""
    kind = V1Reader if first.header.version == 1 else V2Reader
    return kind(name, path, first)


class Recording:
    """A recording opened for reading: a file, ``"-"`` (standard input) or a binary stream.

    Opening reads only the header (and refuses what is not a recording). A regular file
    is read front to back on each iteration; standard input, a pipe or a stream is read
    once, header and records in one pass, and a second iteration is refused. After a
    full pass, :attr:`summary` tells how many bytes were read, whether the recording was
    closed cleanly and how much of an incomplete tail was skipped.

    ``interleave`` (the default of :meth:`batches`, :meth:`entries` and :meth:`events`)
    merges the streams read in one recorder round into id order, so they interleave as
    they happened; without it each stream's batch comes whole (per-stream order is the
    same either way). Replaying at full speed does without: the order across streams
    within a round carries no timing then, and merging costs about a third of the
    reading.

    A directory or a glob is a split recording, read as one when its files are one
    (see :mod:`xtape.recording.series`); ``series`` reads that series of it alone.
    """

    def __init__(
        self,
        source: str | Path | BinaryIO,
        *,
        time_base: TimeBase = "id",
        interleave: bool = True,
        series: str | None = None,
    ) -> None:
        self.time_base: TimeBase = time_base
        self.interleave = interleave
        #: What the last full pass found (None before one ends).
        self.summary: ReadSummary | None = None
        #: The window :meth:`window` set: ``(since_ns, until_ns)`` offsets, or None.
        self._window: tuple[int | None, int | None] | None = None
        #: The files of a split recording (a directory or a glob), read as one.
        self.parts: list[Recording] | None = None
        #: A split recording of several runs: where each later run begins (index in
        #: :attr:`parts`) and its ``run`` marker.
        self.boundaries: dict[int, Marker] = {}
        #: Files of a split recording skipped as empty or headerless: ``(path, why)``.
        self.skipped: list[tuple[Path, str]] = []
        self._file: FileReader | None = None
        self._reader: FileReader | SeriesReader
        self.path: Path | None
        if isinstance(source, (str, Path)) and str(source) != "-":
            self.path = Path(source)
            self.name = str(source)
            selection = series_select(source, series)
            if selection is not None:
                self.parts = [Recording(p, time_base=time_base, interleave=interleave) for p in selection.paths]
                self.boundaries = selection.boundaries
                self.skipped = selection.skipped
                self._reader = SeriesReader(self.parts, self.boundaries)
                self.header: Header = self.parts[0].header
                return
            self._file = _file_reader(self.name, self.path, Opened(self.name, open_file(self.name, self.path), owned=True))
        else:
            stream = sys.stdin.buffer if isinstance(source, (str, Path)) else source
            if getattr(stream, "isatty", bool)():  # (it would wait for a recording typed in)
                raise UsageError(
                    "- reads a recording from standard input, which is a terminal here: "
                    "pipe or redirect one in (xtape info - < rec.xtape)"
                )
            self.path = None
            self.name = STDIN_NAME if isinstance(source, (str, Path)) else stream_name(stream)
            self._file = _file_reader(self.name, None, Opened(self.name, stream, owned=False))
        self._reader = self._file
        self.header = self._file.header

    @property
    def one_pass(self) -> bool:
        """Standard input, a pipe or a stream: it can be read only once."""
        return self._file is not None and self._file.one_pass

    @property
    def records_at(self) -> int:
        """Where the records (v2: the chunks) start, after the header (one file)."""
        return 0 if self._file is None else self._file.records_at

    @property
    def events_checked(self) -> bool:
        """Whether the stored summary's gaps and markers were held against the chunks
        that hold them (see :func:`~xtape.recording.audit.event_problems`)."""
        return self._file is not None and self._file.events_checked

    def window(self, since_ns: int | None = None, until_ns: int | None = None) -> Recording:
        """Read only the chunks that may hold entries with ``since_ns <= offset <
        until_ns`` (offsets of :meth:`events`) from now on: a version-2 file jumps to the
        first such chunk. The entries outside the window that come with them are still
        yielded (a caller filters exactly); gaps and markers are all kept. Returns the
        recording (``Recording(path).window(since, until).events()``)."""
        self._window = None if since_ns is None and until_ns is None else (since_ns, until_ns)
        return self

    def close(self) -> None:
        """Close a stream opened for the one pass that was never read (a FIFO path)."""
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def truncated_bytes(self) -> int:
        """Bytes of an incomplete record skipped at the end of the last full pass."""
        return self.summary.truncated_bytes if self.summary is not None else 0

    # -- records -----------------------------------------------------------------------

    def records(self, *, bounds: Bounds | None = None) -> Iterator[Record]:
        """Every record after the header, in file order, each checked for its shape.
        Unknown tags are skipped. Sets :attr:`summary` at the end. A version-2 file
        that can seek skips the chunks that cannot hold an entry within ``bounds``."""
        self.summary = yield from self._reader.records(bounds)

    def stored_summary(self) -> Summary | None:
        """The summary a clean close wrote at the end of a version-2 file, read from
        its trailer without reading the chunks; None for version 1, a stream, or a file
        without an intact one. (A split recording: see :attr:`parts`.)"""
        return None if self._file is None else self._file.stored_summary()

    def gaps(self) -> list[Gap]:
        """The gaps, in file order (a v2 file closed cleanly: from its summary alone).
        Stream ids are those of :meth:`records`."""
        summary = self.stored_summary()
        if summary is not None:
            return [Gap(*row) for row in summary.gaps]
        return [r for r in self.records() if isinstance(r, Gap)]

    def markers(self) -> list[Marker]:
        """The markers, in file order (a v2 file closed cleanly: from its summary alone)."""
        if isinstance(self._reader, SeriesReader):
            return self._reader.markers()
        summary = self.stored_summary()
        if summary is not None:
            return [Marker(*row) for row in summary.markers]
        return [r for r in self.records() if isinstance(r, Marker)]

    # -- entries -----------------------------------------------------------------------

    def batches(self, bounds: Bounds | None = None, *, interleave: bool | None = None) -> Iterator[Batch]:
        """``(stream, capture_ns, raw_entries)`` per batch; with ``interleave`` (default:
        the recording's), batches read in one XREAD round merged into id order.
        ``bounds``: only the chunks of a v2 file that may hold them are read (see
        :meth:`window`)."""
        merge = self.interleave if interleave is None else interleave
        return batches_of(named_entries(self.records(bounds=bounds)), merge)

    def entries(self, *, interleave: bool | None = None) -> Iterator[Entry]:
        """Every recorded entry, in time order per XREAD round (``interleave``, by
        default), file order otherwise."""
        for stream, capture_ns, raw in self.batches(interleave=interleave):
            for entry_id, flat in raw:
                yield Entry(stream, entry_id, pair_fields(flat), capture_ns)

    # -- timeline ----------------------------------------------------------------------

    def timeline_start(self, time_base: TimeBase | None = None) -> int | None:
        """Where the timeline of :meth:`events` starts (offset 0), in ns on its time base
        (see :func:`~xtape.recording.timebase.first_round`); None without entries.
        Reads the first round only."""
        records = self.records()
        with contextlib.closing(records):  # type: ignore[type-var]
            return first_round(named_entries(records), (time_base or self.time_base) == "id")[0]

    def events(
        self, time_base: TimeBase | None = None, *, timed: bool = True, interleave: bool | None = None
    ) -> Timeline:
        """The recording as a timeline: offsets from the entry ids' milliseconds
        (the producer's clock, ``time_base="id"``) or from the recorder's capture clock.

        Offset 0 is the recording's start: the earliest entry of the recorder's first
        round (``id``) or its first read (``capture``), with or without ``interleave``;
        an older entry (a stream found later, read from its start) is at 0 too. ``--since``
        and ``--until`` of ``replay`` and ``convert`` count from there.

        ``timed=False`` (a replay at full speed over the whole recording, where nothing
        is timed) gives every event offset 0, unless the streams are interleaved.
        """
        by_ids = (time_base or self.time_base) == "id"
        bounds, base = self._window_bounds(by_ids)
        if not (self.interleave if interleave is None else interleave):
            # The events of each batch come from C-level iterators chained in C: no
            # Python frame per event (the hot loop of a replay at full speed).
            named = named_entries(self.records(bounds=bounds))
            return chain.from_iterable(event_runs(named, by_ids, base, timed))
        return events_merged(self.batches(bounds, interleave=True), by_ids, base)

    def _window_bounds(self, by_ids: bool) -> tuple[Bounds | None, int | None]:
        """The absolute bounds of the :meth:`window` and the timeline's start, when
        reading can skip chunks (a file, not a stream)."""
        if self._window is None or self.one_pass:
            return None, None
        base = self.timeline_start("id" if by_ids else "capture")
        if base is None:
            return None, None
        since, until = self._window
        lo = None if since is None else base + since
        hi = None if until is None else base + until
        return (lo, hi, by_ids), base

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Timeline:
        """The :class:`xtape.timeline.Source` protocol: every pass is the same."""
        return self.events()


def has_recording_header(source: str | Path | BinaryIO) -> bool:
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
            raise TypeError("has_recording_header needs a stream that can peek or seek")
        at = stream.tell()
        head = stream.read(HEAD_BYTES)
        stream.seek(at)
        return is_recording_head(head)
    # The writer writes the header in one write, so a pipe has all of it at once.
    return is_recording_head(peek(HEAD_BYTES)[:HEAD_BYTES])


__all__ = ["TIME_BASES", "End", "Entry", "ReadSummary", "Recording", "TimeBase", "has_recording_header"]
