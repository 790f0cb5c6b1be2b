"""What the recorder and the replayer tell their observers: one stream of events out of
each loop (entries written, gaps, markers, connection lost and back, a write that
failed, a loop that came round; entries published, a pass started). Prometheus
metrics (:mod:`xtape.observe.metrics`) and ``/healthz`` (:mod:`xtape.observe.health`)
are observers of it; a new view is one more observer, not an edit in the loops.

The base classes do nothing, so an observer overrides only what it needs. Calls come
from the loop's thread, except :meth:`RecordEvents.written`, which comes from the
writer's thread (it packs the entries): observers must be safe to call from both.
Nothing here imports a metrics library: a recorder without observers pays one
``is None`` test per round.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

#: The marker kinds a recorder writes (see :mod:`xtape.capture.journal`).
MARKER_KINDS = ("reconnect", "restart", "flush", "recreated", "deleted", "failover", "topology")


class FileState(Protocol):
    """What an observer may read of the recorder's writer (sampled, not pushed)."""

    @property
    def path(self) -> Path | None: ...

    @property
    def bytes_written(self) -> int: ...


class RecordEvents:
    """The recorder's events (no-ops here)."""

    def started(self) -> None:
        """The start is resolved and the file open: recording from now on."""

    def written(self, stream: bytes, entries: int, nbytes: int) -> None:
        """``entries`` of ``stream`` went into the file (``nbytes`` of records, before
        compression). Called on the writer's thread."""

    def lag(self, stream: bytes, entries: int | None, seconds: float) -> None:
        """How far the recording is behind ``stream``'s head after a round read it:
        entries (``None`` where the server does not count them) and seconds (by ids)."""

    def gap(self, stream: bytes, lost: int) -> None:
        """Entries of ``stream`` trimmed before they were read (``lost`` -1: unknown)."""

    def marker(self, kind: str) -> None:
        """A marker of ``kind`` (one of :data:`MARKER_KINDS`) was written."""

    def lost(self, reason: str) -> None:
        """The connection failed; reconnecting."""

    def reconnected(self) -> None:
        """Connected again after :meth:`lost`."""

    def tick(self, file: FileState) -> None:
        """The loop came round (at least every few hundred ms while it is healthy)."""

    def write_failed(self, message: str) -> None:
        """Writing the recording failed (a full disk): the recording stops."""

    def finished(self, reason: str) -> None:
        """The recording ended (``count``, ``duration``, ``stopped``, ``failed``...)."""

    def snapshot(self, path: Path, nbytes: int) -> None:
        """A snapshot was written (``record --snapshot``)."""

    def buffered(self, nbytes: int) -> None:
        """Bytes held in memory for the next snapshot now."""


class RecordObservers(RecordEvents):
    """Several observers as one."""

    def __init__(self, observers: Sequence[RecordEvents]) -> None:
        self.observers = tuple(observers)

    def started(self) -> None:
        for o in self.observers:
            o.started()

    def written(self, stream: bytes, entries: int, nbytes: int) -> None:
        for o in self.observers:
            o.written(stream, entries, nbytes)

    def lag(self, stream: bytes, entries: int | None, seconds: float) -> None:
        for o in self.observers:
            o.lag(stream, entries, seconds)

    def gap(self, stream: bytes, lost: int) -> None:
        for o in self.observers:
            o.gap(stream, lost)

    def marker(self, kind: str) -> None:
        for o in self.observers:
            o.marker(kind)

    def lost(self, reason: str) -> None:
        for o in self.observers:
            o.lost(reason)

    def reconnected(self) -> None:
        for o in self.observers:
            o.reconnected()

    def tick(self, file: FileState) -> None:
        for o in self.observers:
            o.tick(file)

    def write_failed(self, message: str) -> None:
        for o in self.observers:
            o.write_failed(message)

    def finished(self, reason: str) -> None:
        for o in self.observers:
            o.finished(reason)

    def snapshot(self, path: Path, nbytes: int) -> None:
        for o in self.observers:
            o.snapshot(path, nbytes)

    def buffered(self, nbytes: int) -> None:
        for o in self.observers:
            o.buffered(nbytes)


class PublisherCounts(Protocol):
    """What a Redis publisher counts (both :mod:`xtape.replay` publishers do)."""

    accepted: int
    resent: int
    reconnects: int

    @property
    def refused(self) -> int: ...


class ReplayEvents:
    """The replayer's events (no-ops here)."""

    def begin(self, counts: PublisherCounts | None) -> None:
        """The replay starts publishing through a publisher that counts ``counts``
        (``None``: a dry run)."""

    def pass_started(self, iteration: int) -> None:
        """Pass ``iteration`` (from 0) of a replay starts."""

    def published(self, deadlines: Sequence[int] | None, now_ns: int) -> None:
        """A batch went out at ``now_ns``; ``deadlines`` (ns, same clock) when the
        pacing has a schedule (not ``--max-speed``)."""

    def idle(self) -> None:
        """The loop waits for the next deadline."""

    def end(self) -> None:
        """The replay ended."""


class ReplayObservers(ReplayEvents):
    """Several observers as one."""

    def __init__(self, observers: Sequence[ReplayEvents]) -> None:
        self.observers = tuple(observers)

    def begin(self, counts: PublisherCounts | None) -> None:
        for o in self.observers:
            o.begin(counts)

    def pass_started(self, iteration: int) -> None:
        for o in self.observers:
            o.pass_started(iteration)

    def published(self, deadlines: Sequence[int] | None, now_ns: int) -> None:
        for o in self.observers:
            o.published(deadlines, now_ns)

    def idle(self) -> None:
        for o in self.observers:
            o.idle()

    def end(self) -> None:
        for o in self.observers:
            o.end()
