"""Pacing: when each event of a timeline is due, and grouping due events into batches.

Every deadline is absolute: ``start + pacing.deadline_ns(seq, offset)`` on a
:class:`Clock` (the timing modes are in :mod:`.pacing`), never the sum of previous
sleeps, so a replay does not drift however long it runs. Whatever is already due when the scheduler wakes up goes out together
as one :class:`Batch` (one pipelined round trip), up to a size cap.

The clock is a parameter: :class:`MonotonicClock` for real replays, :class:`FakeClock`
for tests and dry runs, where sleeping just moves the time forward.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol

from xtape.replay.pacing import MAX_SPEED_BATCH_CAP, PACED_BATCH_CAP, Pacing
from xtape.timeline import NS_PER_MS, NS_PER_S, Event

__all__ = [
    "IDLE_MIN_NS",
    "MAX_SPEED_BATCH_CAP",
    "PACED_BATCH_CAP",
    "Batch",
    "Clock",
    "FakeClock",
    "IdleFn",
    "MonotonicClock",
    "Pacing",
    "batches",
]

class Clock(Protocol):
    """A monotonic time source that can wait for a deadline."""

    #: Waiting costs nothing and nobody needs to be served meanwhile (a dry run's fake
    #: clock): the scheduler jumps to each deadline at once, however far away.
    skips_waits: bool

    def now_ns(self) -> int:
        """Monotonic nanoseconds (only differences mean anything)."""
        ...

    def sleep_until(self, deadline_ns: int) -> None:
        """Return at (or as soon as possible after) ``deadline_ns`` of :meth:`now_ns`."""
        ...

    def wall_ns(self) -> int:
        """Wall-clock nanoseconds since the epoch at the instant :meth:`now_ns` reads."""
        ...


class MonotonicClock:
    """The real clock: ``time.monotonic_ns``, sleeping to within about 0.1 ms.

    ``time.sleep`` overshoots by up to a few hundred microseconds, so it sleeps until
    :attr:`spin_ns` before the deadline and yields the CPU in a short loop for the rest.
    """

    spin_ns = 500_000
    skips_waits = False

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def wall_ns(self) -> int:
        return time.time_ns()

    def sleep_until(self, deadline_ns: int) -> None:
        while True:
            remaining = deadline_ns - time.monotonic_ns()
            if remaining <= 0:
                return
            if remaining > self.spin_ns:
                time.sleep((remaining - self.spin_ns) / NS_PER_S)
            else:
                time.sleep(0)


@dataclass
class FakeClock:
    """A clock that only moves when told to: sleeping jumps straight to the deadline."""

    now: int = 0
    #: Wall-clock ns since the epoch when :attr:`now` is 0 (2023-11-14T22:13:20Z).
    wall_at_zero: int = 1_700_000_000 * NS_PER_S
    #: Every deadline passed to :meth:`sleep_until` that was in the future, in order.
    sleeps: list[int] = field(default_factory=list)
    #: Keep :attr:`sleeps` (tests); a dry run of a long schedule does without.
    keep_sleeps: bool = True
    #: Jump over every wait in one step (dry runs). Without it a long wait is still cut
    #: into idle slices, as on a real clock, so tests can watch what happens meanwhile.
    skips_waits: bool = False

    @classmethod
    def starting_now(cls) -> FakeClock:
        """A fake clock whose wall time starts at the real current time and that jumps
        over waits in one step (for dry runs: a 10-day gap costs nothing)."""
        return cls(wall_at_zero=time.time_ns(), keep_sleeps=False, skips_waits=True)

    def now_ns(self) -> int:
        return self.now

    def wall_ns(self) -> int:
        return self.wall_at_zero + self.now

    def sleep_until(self, deadline_ns: int) -> None:
        if deadline_ns > self.now:
            if self.keep_sleeps:
                self.sleeps.append(deadline_ns)
            self.now = deadline_ns

    def advance(self, ns: int) -> None:
        """Let ``ns`` nanoseconds pass (a test's way to make work take time)."""
        self.now += ns


@dataclass(slots=True)
class Batch:
    """Events due together, with their absolute deadlines (empty at max speed)."""

    events: list[Event]
    deadlines: list[int]


#: Called while the scheduler waits for a deadline more than :data:`IDLE_MIN_NS` away.
IdleFn = Callable[[], None]
IDLE_MIN_NS = NS_PER_MS


def batches(
    events: Iterable[Event],
    *,
    clock: Clock,
    pacing: Pacing,
    start_ns: int,
    cap: int | None = None,
    on_idle: IdleFn | None = None,
    idle_every_ns: int = 250 * NS_PER_MS,
    ready: Callable[[], bool] | None = None,
) -> Iterator[Batch]:
    """Pace ``events`` from ``start_ns`` (a :meth:`Clock.now_ns` value) into batches.

    Waits for the next event's deadline, then takes every event already due, up to
    ``cap``. Deadlines never go backwards: an event whose offset is below its
    predecessor's is due with it, so events leave in timeline order. A long wait is
    cut into slices of ``idle_every_ns`` with ``on_idle`` called before each, so a
    caller can read replies and report progress during a quiet stretch. ``ready``
    (for a live source, see :mod:`.prefetch`) says whether another event can be taken
    without waiting for it: a batch never waits for more events than that.
    """
    cap = cap or pacing.batch_cap
    it = iter(events)
    if pacing.is_max_speed:
        _wait(clock, start_ns, on_idle, idle_every_ns)
        if ready is None:
            while chunk := list(islice(it, cap)):
                yield Batch(chunk, [])
            return
        for first in it:
            chunk = [first]
            while len(chunk) < cap and ready():
                event = next(it, None)
                if event is None:
                    break
                chunk.append(event)
            yield Batch(chunk, [])
        return

    deadline_of = pacing.deadline_ns
    seq = 0
    last = start_ns
    pending = next(it, None)
    pending_deadline = (
        0 if pending is None else max(start_ns + deadline_of(0, pending.offset_ns), last)
    )
    while pending is not None:
        _wait(clock, pending_deadline, on_idle, idle_every_ns)
        now = clock.now_ns()
        batch = [pending]
        deadlines = [pending_deadline]
        last = pending_deadline
        seq += 1
        pending = None
        try:
            while ready is None or ready():
                event = next(it, None)
                if event is None:
                    break
                deadline = max(start_ns + deadline_of(seq, event.offset_ns), last)
                if deadline > now or len(batch) >= cap:
                    pending, pending_deadline = event, deadline
                    break
                batch.append(event)
                deadlines.append(deadline)
                last = deadline
                seq += 1
        except BaseException:
            yield Batch(batch, deadlines)  # what is due still goes out before the error
            raise
        yield Batch(batch, deadlines)
        if pending is None and ready is not None:  # nothing was ready: wait for the next
            pending = next(it, None)
            if pending is not None:
                pending_deadline = max(start_ns + deadline_of(seq, pending.offset_ns), last)


def _wait(clock: Clock, deadline_ns: int, on_idle: IdleFn | None, every_ns: int) -> None:
    while True:
        now = clock.now_ns()
        if now >= deadline_ns:
            return
        if on_idle is None or deadline_ns - now <= IDLE_MIN_NS:
            clock.sleep_until(deadline_ns)
            return
        if clock.skips_waits:
            on_idle()
            clock.sleep_until(deadline_ns)
            return
        on_idle()
        clock.sleep_until(min(deadline_ns, clock.now_ns() + every_ns))
