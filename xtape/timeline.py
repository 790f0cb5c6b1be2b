"""The timeline: the one type that flows from recordings and scenarios into replay.

A timeline is an iterator of :class:`Event` in publish order. ``offset_ns`` is the
event's time relative to the start of the timeline (the replayer turns it into an
absolute deadline). ``fields`` keeps Redis's shape exactly: an ordered sequence of
``(name, value)`` byte pairs, duplicates allowed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple, Protocol, TypeAlias

Field: TypeAlias = tuple[bytes, bytes]
Fields: TypeAlias = tuple[Field, ...]


class Event(NamedTuple):
    """One stream entry to publish at ``offset_ns`` after the timeline's start.

    The fields are kept *flat*, ``(name1, value1, name2, value2, ...)``: the shape
    XREAD returns and XADD takes, so an entry goes from a recording to Redis without
    being reshaped (order and duplicate names kept). :attr:`fields` gives the pairs;
    :meth:`of` builds an event from pairs. A tuple, so events are cheap to make: a
    replay at full speed makes one per entry.
    """

    offset_ns: int
    stream: bytes
    #: ``(name1, value1, name2, value2, ...)``.
    flat: Sequence[bytes]
    #: The original entry id (``b"1700000000000-0"``) where one is known; used by ``--keep-ids``.
    id: bytes | None = None

    @classmethod
    def of(cls, offset_ns: int, stream: bytes, fields: Fields, id: bytes | None = None) -> Event:
        """An event from ``(name, value)`` pairs."""
        return cls(offset_ns, stream, flat_fields(fields), id)

    @property
    def fields(self) -> Fields:
        """The fields as ``((name, value), ...)`` pairs."""
        return pair_fields(self.flat)

    def __repr__(self) -> str:  # payload bytes stay out of reprs
        return (
            f"Event(offset_ns={self.offset_ns}, stream={self.stream!r}, "
            f"fields={len(self.flat) // 2}, id={self.id!r})"
        )


Timeline: TypeAlias = Iterator[Event]

NS_PER_MS = 1_000_000
#: How standard input is named in messages (a source given as ``-``).
STDIN_NAME = "<stdin>"
NS_PER_S = 1_000_000_000


def flat_fields(fields: Fields) -> tuple[bytes, ...]:
    """``((a, 1), (b, 2))`` -> ``(a, 1, b, 2)``: the argument shape of XADD."""
    return tuple(part for pair in fields for part in pair)


def pair_fields(flat: Sequence[bytes]) -> Fields:
    """``[a, 1, b, 2]`` -> ``((a, 1), (b, 2))``: the inverse of :func:`flat_fields`."""
    it = iter(flat)
    return tuple(zip(it, it, strict=True))


#: ``schedule(seq, offset_ns)`` -> the wall-clock time (ms since the epoch) at which the
#: replayer will publish event number ``seq`` (0-based within one iteration) whose
#: offset is ``offset_ns``. Scenarios use it for ``{{timestamp}}``; recordings ignore it.
ScheduleFn: TypeAlias = Callable[[int, int], int]


class Source(Protocol):
    """Anything the replayer can play: a rendered scenario or a recording."""

    #: Shown in reports and errors: the file it came from.
    name: str

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Timeline:
        """The events of one pass (``iteration`` counts ``--loop`` passes from 0)."""
        ...


def bytes_to_json(value: bytes) -> str | dict[str, str]:
    """A stream name, field name or value for JSON output: text where it is UTF-8,
    else ``{"base64": ...}`` so nothing is lost."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode("ascii")}


def bytes_from_json(value: str | dict[str, str]) -> bytes:
    """The inverse of :func:`bytes_to_json`."""
    if isinstance(value, dict):
        return base64.b64decode(value["base64"])
    return value.encode("utf-8")


def fields_to_json(fields: Fields) -> list[list[str | dict[str, str]]]:
    """``fields`` as ``[[name, value], ...]`` for JSON output (see :func:`bytes_to_json`)."""
    return [[bytes_to_json(name), bytes_to_json(value)] for name, value in fields]


def display_name(name: bytes) -> str:
    """A stream or field name as text for messages: UTF-8, with undecodable bytes and
    control characters escaped (``\\xff``, ``\\x00``)."""
    text = name.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
