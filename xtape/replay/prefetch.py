"""Reading a live timeline ahead on a thread, so pacing never waits on a pipe.

A timeline read from a pipe (``xtape record -o - | xtape replay -``) blocks until the
next entry arrives. The scheduler looks ahead for more events that are already due
before it publishes a batch; on a pipe that look-ahead would hold a due batch back
until more traffic came. :class:`Prefetched` reads the timeline on a thread into a
bounded queue and tells the scheduler what is :meth:`~Prefetched.ready` now.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from xtape.timeline import Event

_DONE = object()
#: Events read ahead at most (bounded memory when Redis is slower than the pipe).
QUEUE_EVENTS = 10_000


class Prefetched:
    """An iterator over ``timeline`` that a thread fills; errors are raised in order."""

    def __init__(self, timeline: Iterator[Event]) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_EVENTS)
        self._thread = threading.Thread(
            target=self._fill, args=(timeline,), name="xtape-prefetch", daemon=True
        )
        self._thread.start()

    def _fill(self, timeline: Iterator[Event]) -> None:
        try:
            for event in timeline:
                self._queue.put(event)
        except BaseException as exc:  # handed to the consumer, raised there
            self._queue.put(_Failed(exc))
        else:
            self._queue.put(_DONE)

    def ready(self) -> bool:
        """Whether the next event (or the end) can be taken without waiting."""
        return not self._queue.empty()

    def __iter__(self) -> Prefetched:
        return self

    def __next__(self) -> Event:
        item = self._queue.get()
        if item is _DONE:
            self._queue.put(_DONE)  # the end stays the end
            raise StopIteration
        if isinstance(item, _Failed):
            raise item.error
        assert isinstance(item, Event)
        return item


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error
