"""Publishing: where paced batches of events go.

A :class:`Publisher` takes batches of events and accounts for what the target refused.
Three implementations share that seam:

* :class:`RedisPublisher` pipelines raw ``XADD`` commands onto one connection,
* :class:`MemoryPublisher` keeps the events in a list (tests, in-process use),
* :class:`PrintPublisher` writes one line per event (``--dry-run``; no Redis).

Refusals are per entry (Redis answers each command of a pipeline separately), so a
refused entry is counted in :attr:`Publisher.errors` with the first few messages kept,
and the replay goes on (until too many come in a row: see ``ReplayOptions.max_refusals``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from xtape.timeline import NS_PER_S, Event, Fields, display_name, fields_to_json

#: How many distinct error messages a tally keeps (the count is always exact).
KEPT_MESSAGES = 5


@dataclass
class ErrorTally:
    """Entries the target refused: an exact count, per stream, and the first messages;
    and the current run of refusals in a row (a publisher sets :attr:`consecutive` to 0
    on each accepted entry)."""

    count: int = 0
    by_stream: Counter[bytes] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    #: Refusals since the last accepted entry.
    consecutive: int = 0
    #: The first message of the current run of refusals.
    run_first: str = ""

    def add(self, stream: bytes, message: str) -> None:
        self.count += 1
        self.by_stream[stream] += 1
        line = f"{display_name(stream)}: {message}"
        if not self.consecutive:
            self.run_first = line
        self.consecutive += 1
        if len(self.messages) < KEPT_MESSAGES and line not in self.messages:
            self.messages.append(line)


class Publisher(Protocol):
    """Where a replay sends its events."""

    #: Publish each event under its own ``id`` (where it has one) instead of ``*``.
    keep_ids: bool
    #: Entries refused so far (complete after :meth:`flush`).
    errors: ErrorTally

    def publish(self, events: Sequence[Event]) -> None:
        """Send ``events`` in order, as one round trip where the target allows it.

        May return before the target has answered; refusals show up in :attr:`errors`
        by the time :meth:`flush` returns.
        """
        ...

    def poll(self) -> None:
        """Account for any answers that have already arrived, without waiting."""
        ...

    def flush(self) -> None:
        """Wait until everything sent has been answered."""
        ...

    def stream_tops(self, streams: Iterable[bytes]) -> dict[bytes, bytes | None]:
        """The last generated id of each stream (``None`` where it does not exist)."""
        ...

    def unconfirmed(self) -> list[Event]:
        """Events sent whose answer has not been read (after a failure: maybe lost)."""
        ...

    def close(self) -> None:
        """Release the connection; unanswered entries are not waited for."""
        ...


def fields_json(fields: Fields) -> str:
    """Fields as a JSON list of ``[name, value]`` pairs (duplicates and order kept)."""
    return json.dumps(fields_to_json(fields), ensure_ascii=False)


class MemoryPublisher:
    """Keeps published events in :attr:`events`; ids are dropped unless ``keep_ids``.

    ``tops`` pretends some streams already exist with these last ids (for testing the
    ``--keep-ids`` check); ``refuse`` maps a stream name to an error message to count
    instead of storing its entries (for testing error accounting).
    """

    def __init__(
        self,
        *,
        keep_ids: bool = False,
        tops: dict[bytes, bytes] | None = None,
        refuse: dict[bytes, str] | None = None,
    ) -> None:
        self.keep_ids = keep_ids
        self.errors = ErrorTally()
        self.events: list[Event] = []
        self.batches: list[int] = []
        self.closed = False
        self._tops = dict(tops or {})
        self._refuse = dict(refuse or {})

    def publish(self, events: Sequence[Event]) -> None:
        self.batches.append(len(events))
        for event in events:
            if event.stream in self._refuse:
                self.errors.add(event.stream, self._refuse[event.stream])
                continue
            self.errors.consecutive = 0
            if not self.keep_ids and event.id is not None:
                event = event._replace(id=None)
            self.events.append(event)

    def poll(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def stream_tops(self, streams: Iterable[bytes]) -> dict[bytes, bytes | None]:
        return {stream: self._tops.get(stream) for stream in streams}

    def unconfirmed(self) -> list[Event]:
        return []

    def close(self) -> None:
        self.closed = True


class PrintPublisher:
    """Writes one line per event to ``out`` instead of publishing (``--dry-run``).

    A line is ``+SECONDS  STREAM  N fields`` (the event's offset in its pass), with
    the id when keeping ids and, when ``verbose``, the fields as JSON pairs.
    """

    def __init__(self, out: TextIO, *, verbose: bool = False, keep_ids: bool = False) -> None:
        self.out = out
        self.verbose = verbose
        self.keep_ids = keep_ids
        self.errors = ErrorTally()

    def publish(self, events: Sequence[Event]) -> None:
        lines = []
        for event in events:
            parts = [f"+{event.offset_ns / NS_PER_S:.3f}s", display_name(event.stream)]
            if self.keep_ids:
                parts.append(display_name(event.id) if event.id is not None else "*")
            n = len(event.fields)
            parts.append(
                fields_json(event.fields) if self.verbose else f"{n} field{'s' * (n != 1)}"
            )
            lines.append("  ".join(parts) + "\n")
        self.out.write("".join(lines))

    def poll(self) -> None:
        pass

    def flush(self) -> None:
        self.out.flush()

    def stream_tops(self, streams: Iterable[bytes]) -> dict[bytes, bytes | None]:
        return dict.fromkeys(streams)

    def unconfirmed(self) -> list[Event]:
        return []

    def close(self) -> None:
        pass


class EchoPublisher:
    """Publishes through ``inner`` and also prints every event through ``echo`` (``-v``)."""

    def __init__(self, inner: Publisher, echo: PrintPublisher) -> None:
        self.inner = inner
        self.echo = echo
        self.keep_ids = inner.keep_ids
        self.errors = inner.errors

    def publish(self, events: Sequence[Event]) -> None:
        self.echo.publish(events)
        self.inner.publish(events)

    def poll(self) -> None:
        self.inner.poll()

    def flush(self) -> None:
        self.echo.flush()
        self.inner.flush()

    def stream_tops(self, streams: Iterable[bytes]) -> dict[bytes, bytes | None]:
        return self.inner.stream_tops(streams)

    def unconfirmed(self) -> list[Event]:
        return self.inner.unconfirmed()

    def close(self) -> None:
        self.inner.close()
