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
from xtape.ids import id_ms


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


@dataclass(frozen=True, slots=True)
class Recreated:
    """The stream is not the one the cursor belongs to: it was deleted and created again
    (or the server went back to older data). ``why`` says what showed it."""

    why: str


class StreamState:
    """One stream being recorded: where to read next and how many entries came before."""

    __slots__ = ("broken", "cursor", "failover", "first", "name", "number", "recorded", "verified")

    def __init__(self, name: bytes, cursor: bytes, number: int | None) -> None:
        self.name = name
        #: The id of the last entry recorded (or the resolved start): XREAD reads after it.
        self.cursor = cursor
        #: The entry number of ``cursor`` (see the module docstring), ``None`` if unknown.
        self.number = number
        self.recorded = 0
        #: Whether ``cursor`` is the id of an entry read from this stream (so its absence,
        #: with nothing deleted at or after it, shows the stream was recreated).
        self.verified = False
        #: Continuity unknown (after a restart or a flush): losses found are counted -1.
        self.broken = False
        #: The first entry id seen by the last check: it never goes back in a stream's life.
        self.first: bytes | None = None
        #: A cluster replica took over this stream's primary: it may lack the last entries
        #: recorded (not replicated in time). That is not a new stream: recording goes on
        #: from the cursor (the loss is named by the recorder's ``failover`` marker).
        self.failover = False

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

    def restart_from_zero(self) -> None:
        """Record the stream (a new one under the same name) from its first entry."""
        self.cursor, self.number, self.verified, self.broken = b"0-0", 0, False, False
        self.first, self.failover = None, False

    def _leave_failover(self, info: StreamInfo, cur: tuple[int, int]) -> bool:
        """After a failover: False while the stream is behind what was recorded (wait for
        entries above the cursor), else leave the failover state and return True."""
        if id_tuple(info.last_id) < cur:
            self.number, self.verified = None, False
            return False
        self.failover = False
        if info.added is not None and self.number is not None and info.added < self.number:
            self.number = None
        return True

    def check(self, info: StreamInfo, present: bool | None) -> Loss | Recreated | None:
        """Compare with an XINFO (and, for a verified cursor, whether the cursor's entry is
        still there: ``present``) taken atomically with the read that follows them."""
        cur = id_tuple(self.cursor)
        if self.failover:
            if not self._leave_failover(info, cur):
                return None
            present = None
        broken, self.broken = self.broken, False
        first_seen, self.first = self.first, info.first_id or self.first
        if (
            first_seen is not None
            and info.first_id is not None
            and id_tuple(info.first_id) < id_tuple(first_seen)
        ):
            return Recreated(f"its first id went back from {first_seen.decode()}")
        if id_tuple(info.last_id) < cur:
            return Recreated(f"its last id {info.last_id.decode()} is below the cursor")
        if info.added is not None and self.number is not None and info.added < self.number:
            return Recreated(f"its entries-added went back from {self.number} to {info.added}")
        if info.first_id is not None and id_tuple(info.first_id) <= cur:
            if present is False and id_tuple(info.max_deleted) < cur:
                return Recreated(
                    f"the recorded entry {self.cursor.decode()} is gone, "
                    "though nothing at or after it was deleted"
                )
            return None
        if info.first_id is None and id_tuple(info.last_id) <= cur:
            return None
        # Entries were added after the cursor and the first one present lies beyond it.
        before = info.first_id if info.first_id is not None else info.last_id
        loss: Loss | None = None
        if info.added is not None and self.number is not None and not broken:
            head = info.added - info.length  # entries numbered <= head are gone
            lost = head - self.number
            if lost < 0:
                return Recreated(f"it holds fewer entries ever added ({head}) than were read")
            if lost > 0:
                loss = Loss(self.cursor, before, lost)
        elif id_tuple(info.max_deleted) > cur or (
            broken and info.added is not None and info.added > info.length
        ):
            # Entries were removed (after a restart or a flush this may be a new stream
            # whose trimmed entries were never read): how many of them after the cursor
            # cannot be known, but all lie between it and the first entry present.
            loss = Loss(self.cursor, before, -1)
        if info.added is not None:
            self.number = info.added - info.length
        if info.first_id is None:
            # Everything added after the cursor is already gone: move past it.
            self.cursor = info.last_id
            self.number = info.added
            self.verified = False
        return loss

    def advance(self, entries: list[Any], info: StreamInfo | None) -> None:
        """Move past a recorded batch (read in the same MULTI as ``info``)."""
        self.cursor = entries[-1][0]
        self.verified = True
        self.recorded += len(entries)
        if info is not None and info.added is not None and self.cursor == info.last_id:
            self.number = info.added
        elif self.number is not None:
            self.number += len(entries)

    def behind(self, info: StreamInfo) -> tuple[int | None, float]:
        """How far the cursor is behind the head ``info`` shows: entries (``None`` where
        unknown) and seconds (by the ids' milliseconds)."""
        entries = None
        if info.added is not None and self.number is not None:
            entries = max(info.added - self.number, 0)
        return entries, max(id_ms(info.last_id) - id_ms(self.cursor), 0) / 1000
