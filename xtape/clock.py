"""The one clock xtape reads time from, in nanoseconds: the replay paces on it and the
recorder's stop rules, backoff and capture times run on it.

It is a parameter wherever time matters, so tests drive time instead of waiting for it:
:class:`MonotonicClock` is the real one, :class:`FakeClock` moves only when told to
(sleeping jumps straight to the deadline; dry runs use it too).

(What a recording's timeline is measured by, the entry ids or the capture times, is a
*time base*: :data:`xtape.recording.TimeBase`, not a clock.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from xtape.timeline import NS_PER_S

__all__ = ["Clock", "FakeClock", "MonotonicClock"]


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
