"""What the recorder tells a progress callback, and how far a backfill has come.

A backfill (``--from start``, an id or a time) has a known end: each stream's
``last-generated-id`` when the recording started. Its size is ``length`` from XINFO for
a start before the stream's first entry, and an estimate from the ids' milliseconds
(``length * (last - start) / (last - first)``) for a start inside the stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xtape.capture.cursors import StreamInfo
from xtape.ids import id_key, id_ms


@dataclass(frozen=True, slots=True)
class Progress:
    """What the recorder reports to a progress callback (at most 4 times a second)."""

    entries: int
    #: Entries per second since the previous report.
    rate: float
    streams: int
    #: Bytes written to the file so far.
    bytes: int
    elapsed_s: float
    #: While backfilling: entries of the backlog recorded so far, and its size (estimated
    #: for starts inside a stream); ``None`` once the backlog is recorded or when live.
    backlog_done: int | None = None
    backlog_total: int | None = None

    @property
    def eta_s(self) -> float | None:
        """Seconds left in the backfill at the current rate, if known."""
        if self.backlog_total is None or self.backlog_done is None or self.rate <= 0:
            return None
        return max(self.backlog_total - self.backlog_done, 0) / self.rate


ProgressFn = Callable[[Progress], None]


class Backlog:
    """The entries each stream held at the start that the recording must catch up on."""

    def __init__(self) -> None:
        #: Per stream not caught up yet: the id to reach; per stream: size and recorded.
        self._target: dict[bytes, tuple[int, int]] = {}
        self._size: dict[bytes, int] = {}
        self._done: dict[bytes, int] = {}

    def add(self, name: bytes, info: StreamInfo, cursor: bytes) -> None:
        cur, last = id_key(cursor), id_key(info.last_id)
        if info.first_id is None or info.length == 0 or cur >= last:
            return
        size = info.length
        if id_key(info.first_id) <= cur:
            first_ms, last_ms = id_ms(info.first_id), id_ms(info.last_id)
            span = max(last_ms - first_ms, 1)
            size = max(1, round(info.length * (last_ms - id_ms(cursor)) / span))
            size = min(size, info.length)
        self._target[name] = last
        self._size[name] = size
        self._done[name] = 0

    def advance(self, name: bytes, cursor: bytes, n: int) -> None:
        target = self._target.get(name)
        if target is None:
            return
        if id_key(cursor) >= target:
            self._done[name] = self._size[name]
            del self._target[name]
        else:
            self._done[name] = min(self._done[name] + n, self._size[name])

    def finished(self) -> bool:
        return not self._target

    @property
    def done(self) -> int:
        return sum(self._done.values())

    @property
    def total(self) -> int:
        return sum(self._size.values())


class Reporter:
    """Calls ``progress`` at most every ``every_s`` with the rate since its last call."""

    def __init__(self, progress: ProgressFn | None, t0: float) -> None:
        self.progress = progress
        self.t0 = t0
        #: When it was last called (or the recording started), and the entries then.
        self.last = t0
        self._entries = 0

    def report(
        self, now: float, entries: int, streams: int, nbytes: int, backlog: Backlog | None, every_s: float
    ) -> None:
        if self.progress is None or now - self.last < every_s:
            return
        rate = (entries - self._entries) / max(now - self.last, 1e-9)
        self.last, self._entries = now, entries
        self.progress(
            Progress(
                entries=entries,
                rate=rate,
                streams=streams,
                bytes=nbytes,
                elapsed_s=now - self.t0,
                backlog_done=backlog.done if backlog else None,
                backlog_total=backlog.total if backlog else None,
            )
        )
