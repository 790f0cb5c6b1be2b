"""``/healthz``: whether a recorder (or a replay) is doing its job, as one status and
one line, from the events it tells (see :mod:`xtape.observe.events`).

Healthy (200) while connected and the loop comes round; unhealthy (503) after a write
error, once reconnecting for longer than ``unhealthy_after``, once the loop has not
come round for that long (a server that stopped answering), and after the recording
ended. Each state gives one line saying why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from xtape.observe.events import FileState, PublisherCounts, RecordEvents, ReplayEvents

#: Default of ``--unhealthy-after``: seconds reconnecting or stalled before a 503.
UNHEALTHY_AFTER_S = 30.0


class Health(RecordEvents, ReplayEvents):
    """The state ``/healthz`` reports, fed by a recorder's or a replay's events."""

    def __init__(
        self, unhealthy_after: float = UNHEALTHY_AFTER_S, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.unhealthy_after = unhealthy_after
        self._clock = now
        self._since = now()
        self._started = False
        self._beat = self._since
        self._down_since: float | None = None
        self._down_reason = ""
        self._failed: str | None = None
        self._finished: str | None = None
        self._last_entry: float | None = None

    # -- events ------------------------------------------------------------------------

    def started(self) -> None:
        self._started = True
        self._beat = self._clock()

    def begin(self, counts: PublisherCounts | None) -> None:
        self.started()

    def end(self) -> None:
        self._finished = "done"

    def written(self, stream: bytes, entries: int, nbytes: int) -> None:
        self._last_entry = self._clock()

    def lost(self, reason: str) -> None:
        self._down_since, self._down_reason = self._clock(), reason

    def reconnected(self) -> None:
        self._down_since = None
        self._beat = self._clock()

    def tick(self, file: FileState) -> None:
        self._beat = self._clock()

    def pass_started(self, iteration: int) -> None:
        self._beat = self._clock()

    def published(self, deadlines: Sequence[int] | None, now_ns: int) -> None:
        self._beat = self._last_entry = self._clock()

    def idle(self) -> None:
        self._beat = self._clock()

    def write_failed(self, message: str) -> None:
        self._failed = message

    def finished(self, reason: str) -> None:
        self._finished = reason

    # -- the answer --------------------------------------------------------------------

    def status(self) -> tuple[int, str]:
        """``(200 or 503, one line)``."""
        now = self._clock()
        limit = self.unhealthy_after
        if self._failed is not None:
            return 503, f"write error: {self._failed}"
        if self._finished is not None:
            return 503, f"stopped: {self._finished}"
        if self._down_since is not None:
            down = now - self._down_since
            line = f"reconnecting for {down:.1f} s: {self._down_reason}"
            return (503, line) if down > limit else (200, f"ok, {line}")
        if not self._started:
            waited = now - self._since
            line = f"starting for {waited:.1f} s: waiting for the server"
            return (503, line) if waited > limit else (200, f"ok, {line}")
        quiet = now - self._beat
        if quiet > limit:
            return 503, f"stalled: no answer from the server for {quiet:.1f} s"
        last = (
            "no entry yet"
            if self._last_entry is None
            else f"last entry {now - self._last_entry:.1f} s ago"
        )
        return 200, f"ok: connected, {last}"
