"""Support for the replay tests: a source of a list of events, and an in-memory
publisher that notes the (fake) clock's time of every event it publishes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from xtape.replay import FakeClock, MemoryPublisher
from xtape.timeline import Event, ScheduleFn


class ListSource:
    """A source replaying the same list of events on every pass."""

    def __init__(self, events: list[Event], name: str = "list") -> None:
        self.name = name
        self.events = events
        self.passes: list[int] = []

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Iterator[Event]:
        self.passes.append(iteration)
        return iter(self.events)


class TimedPublisher(MemoryPublisher):
    """Remembers the clock time of every published event."""

    def __init__(self, clock: FakeClock, cost_ns: int = 0, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.cost_ns = cost_ns
        self.times: list[int] = []

    def publish(self, events: Sequence[Event]) -> None:
        self.times.extend([self.clock.now] * len(events))
        super().publish(events)
        self.clock.advance(self.cost_ns)
