"""Pacing: when each event of a timeline is due, and grouping due events into batches.

Every deadline is absolute: ``start + pacing.deadline_ns(seq, offset)`` on a
:class:`Clock` (the timing modes are in :mod:`.pacing`), never the sum of previous
sleeps, so a replay does not drift however long it runs. Whatever is already due when the scheduler wakes up goes out together
as one :class:`Batch` (one pipelined round trip), up to a size cap.

The clock is a parameter: :class:`~xtape.clock.MonotonicClock` for real replays, :class:`~xtape.clock.FakeClock`
for tests and dry runs, where sleeping just moves the time forward.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from xtape.clock import Clock
from xtape.replay.pacing import MAX_SPEED_BATCH_CAP, PACED_BATCH_CAP, Pacing
from xtape.timeline import NS_PER_MS, Event

__all__ = [
    "IDLE_MIN_NS",
    "MAX_SPEED_BATCH_CAP",
    "PACED_BATCH_CAP",
    "Batch",
    "IdleFn",
    "Pacing",
    "batches",
]

@dataclass(slots=True)
class Batch:
    """Events due together, with their absolute deadlines (empty at max speed)."""

    events: list[Event]
    deadlines: list[int]


#: Called while the scheduler waits for a deadline more than :data:`IDLE_MIN_NS` away.
IdleFn = Callable[[], None]
IDLE_MIN_NS = NS_PER_MS


#: A replay at full speed starts with a batch this small, then doubles it up to its cap:
#: Redis gets its first entries while the next batch is being made, instead of idling
#: while the first whole batch of thousands is read and packed (about 0.01 s).
FIRST_MAX_SPEED_BATCH = 500


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
            size = min(cap, FIRST_MAX_SPEED_BATCH)
            while chunk := list(islice(it, size)):
                yield Batch(chunk, [])
                size = min(cap, size * 2)
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
