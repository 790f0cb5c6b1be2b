"""Stream entry ids: the one type every layer uses (``StreamId``), and its parser.

An entry id is ``ms-seq``: two unsigned 64-bit integers, ordered as a pair. Redis also
accepts ``ms`` (meaning ``ms-0`` in a range, or the first free sequence in XADD) and,
in XADD only, ``ms-*`` (the server picks the sequence); :func:`parse_id` returns
``seq=None`` for that form when ``allow_star`` is set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from xtape.errors import InvalidStreamId

#: The largest part of an id: ``(ms-1)-MAX_PART`` sorts just before ``ms-0``.
MAX_PART = (1 << 64) - 1

_ID = re.compile(rb"(\d{1,20})(?:-(\d{1,20}|\*))?")
#: Ids of up to 19 digits a part (always below 2^64), space-separated.
_IDS = re.compile(rb"(?:\d{1,19}-\d{1,19} )*\d{1,19}-\d{1,19}")


class StreamId(NamedTuple):
    """An entry id as a comparable ``(ms, seq)`` pair; ``bytes(id)`` is the wire form."""

    ms: int
    seq: int = 0

    @classmethod
    def parse(cls, text: bytes | str) -> StreamId:
        """``b"1700000000000-3"`` (or ``"1700000000000"``, meaning ``-0``) -> a StreamId.

        Raises :class:`~xtape.errors.InvalidStreamId` for anything else, including
        ``ms-*`` and parts of 2^64 or more.
        """
        ms, seq = parse_id(text)
        if seq is None:
            raise InvalidStreamId(text, "a '*' sequence is only for publishing")
        return cls(ms, seq)

    @classmethod
    def before_ms(cls, ms: int) -> StreamId:
        """The largest id below ``ms-0``: an exclusive cursor that includes ``ms-0``."""
        if ms <= 0:
            return cls(0, 0)
        return cls(ms - 1, MAX_PART)

    def __bytes__(self) -> bytes:
        return b"%d-%d" % (self.ms, self.seq)

    def __str__(self) -> str:
        return f"{self.ms}-{self.seq}"


ZERO = StreamId(0, 0)


def parse_id(text: bytes | str, *, allow_star: bool = True) -> tuple[int, int | None]:
    """``b"5-3"`` -> ``(5, 3)``; ``b"5"`` -> ``(5, 0)``; ``b"5-*"`` -> ``(5, None)``.

    Raises :class:`~xtape.errors.InvalidStreamId` for anything else.
    """
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else bytes(text)
    match = _ID.fullmatch(raw)
    if match is None:
        raise InvalidStreamId(text)
    ms = int(match.group(1))
    part = match.group(2)
    seq = None if part == b"*" else int(part or 0)
    if ms > MAX_PART or (seq is not None and seq > MAX_PART):
        raise InvalidStreamId(text, "its parts must be below 2^64")
    if seq is None and not allow_star:
        raise InvalidStreamId(text, "a '*' sequence is only for publishing")
    return ms, seq


def check_ids(ids: Sequence[bytes]) -> None:
    """Raise :class:`~xtape.errors.InvalidStreamId` unless every item is bytes that
    :meth:`StreamId.parse` takes. Made for a batch read from a file: one regex over
    them all, and a closer look only when that fails (a 20-digit part, or damage)."""
    try:
        joined = b" ".join(ids)
    except TypeError:
        bad = next(i for i in ids if not isinstance(i, bytes))
        raise InvalidStreamId(repr(bad)[:60], "not bytes") from None
    if _IDS.fullmatch(joined) is not None and joined.count(b" ") == len(ids) - 1:
        return
    for entry_id in ids:
        StreamId.parse(entry_id)


def id_key(entry_id: bytes) -> tuple[int, int]:
    """A well-formed id (as Redis or a checked recording gives it) as a sortable pair;
    the fast path for hot loops, which skips validation."""
    ms, _, seq = entry_id.partition(b"-")
    return int(ms), int(seq or 0)


def id_ms(entry_id: bytes) -> int:
    """The millisecond part of a well-formed id (``b"1700000000000-3"`` -> 1700000000000)."""
    return int(entry_id.partition(b"-")[0])
