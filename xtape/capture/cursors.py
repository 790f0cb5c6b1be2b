"""Per-stream reading state: the cursor, and the bookkeeping that detects lost entries.

Gap detection relies on entry *numbers*: the n-th entry ever added to a stream has the
n-th smallest id, ``entries-added`` (XINFO STREAM, Redis 7.0+) is the number of the
last generated entry, and trimming (MAXLEN/MINID) removes from the head, so the entries
still present are numbered ``added - length + 1 .. added``. A stream's state keeps
``number``: the number of the entry at its cursor. Each batch is read in one MULTI with
an ``XINFO STREAM`` of the same stream, so when the first entry present lies beyond the
cursor, ``added - length - number`` entries were trimmed before we read them: a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xtape.ids import id_key as id_tuple


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """The parts of an ``XINFO STREAM`` reply the recorder uses."""

    length: int
    last_id: bytes
    first_id: bytes | None
    #: ``entries-added``; ``None`` on servers before 7.0 (no gap detection there).
    added: int | None
    max_deleted: bytes

    @classmethod
    def parse(cls, reply: list[Any]) -> StreamInfo:
        info = dict(zip(reply[::2], reply[1::2], strict=True))
        first = info.get(b"first-entry")
        added = info.get(b"entries-added")
        return cls(
            length=int(info.get(b"length", 0)),
            last_id=bytes(info.get(b"last-generated-id", b"0-0")),
            first_id=bytes(first[0]) if first else None,
            added=int(added) if added is not None else None,
            max_deleted=bytes(info.get(b"max-deleted-entry-id", b"0-0")),
        )


@dataclass(frozen=True, slots=True)
class Loss:
    """Entries of one stream found trimmed before they were read."""

    after_id: bytes
    before_id: bytes
    #: How many, or -1 where it cannot be known.
    lost: int


class StreamState:
    """One stream being recorded: where to read next and how many entries came before."""

    __slots__ = ("cursor", "name", "number", "recorded")

    def __init__(self, name: bytes, cursor: bytes, number: int | None) -> None:
        self.name = name
        #: The id of the last entry recorded (or the resolved start): XREAD reads after it.
        self.cursor = cursor
        #: The entry number of ``cursor`` (see the module docstring), ``None`` if unknown.
        self.number = number
        self.recorded = 0

    @classmethod
    def at_start(cls, name: bytes, info: StreamInfo, cursor: bytes | None) -> StreamState:
        """A stream that existed when recording started; ``cursor=None`` means ``now``."""
        if cursor is None:
            return cls(name, info.last_id, info.added)
        number: int | None = None
        if info.added is not None:
            # Entries trimmed before the recording started are history, not a gap.
            head = info.added - info.length
            if info.first_id is None or id_tuple(info.first_id) > id_tuple(cursor):
                number = head
            elif cursor == info.last_id:
                number = info.added
        return cls(name, cursor, number)

    def check(self, info: StreamInfo) -> Loss | None:
        """Compare with an XINFO taken atomically with the read that follows it."""
        if info.added is None:
            return None
        cur = id_tuple(self.cursor)
        head = info.added - info.length  # entries numbered <= head are gone
        if info.first_id is not None and id_tuple(info.first_id) <= cur:
            return None
        if info.first_id is None and id_tuple(info.last_id) <= cur:
            return None
        before = info.first_id if info.first_id is not None else info.last_id
        loss: Loss | None = None
        if self.number is not None:
            lost = head - self.number
            if lost > 0:
                loss = Loss(self.cursor, before, lost)
        elif id_tuple(info.max_deleted) > cur:
            loss = Loss(self.cursor, before, -1)
        self.number = head
        if info.first_id is None:
            # Everything added after the cursor is already gone: move past it.
            self.cursor = info.last_id
            self.number = info.added
        return loss

    def advance(self, entries: list[Any], info: StreamInfo | None) -> None:
        """Move past a recorded batch (read in the same MULTI as ``info``)."""
        self.cursor = entries[-1][0]
        self.recorded += len(entries)
        if info is not None and info.added is not None and self.cursor == info.last_id:
            self.number = info.added
        elif self.number is not None:
            self.number += len(entries)
