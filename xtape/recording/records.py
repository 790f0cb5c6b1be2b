"""The records of an ``.xtape`` file: one frozen dataclass per kind, encode beside decode.

A file is a header map followed by records; each record is a msgpack array whose first
element is a :class:`Tag`. See ``docs/format.md`` for the byte-level description.

Every ``decode`` checks the shape of what it is given (types, lengths, entry ids) and
raises :class:`Malformed` with what is wrong, so a damaged file is refused where it is
read and nothing downstream sees a value of the wrong type.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, unique
from itertools import repeat
from operator import itemgetter
from typing import Any, TypeAlias

from xtape.errors import InvalidStreamId
from xtape.ids import StreamId, check_ids, id_key

MAGIC = "xtape"
#: The version the writer writes by default (chunks, zstd, summary and index).
VERSION = 2
#: Versions this reader understands.
SUPPORTED_VERSIONS = frozenset({1, 2})

#: The first bytes of every recording: a map whose first key is ``magic`` = ``"xtape"``
#: (the writer always puts it first). :func:`is_recording_head` looks for them.
MAGIC_BYTES = b"\xa5magic\xa5xtape"
#: How many leading bytes :func:`is_recording_head` needs.
HEAD_BYTES = 1 + len(MAGIC_BYTES)
#: Times (``created_ns``, ``capture_ns``) are non-negative int64 nanoseconds.
MAX_NS = (1 << 63) - 1
#: Stream ids and counts are unsigned 64-bit integers.
MAX_STREAM_ID = MAX_COUNT = (1 << 64) - 1

#: One raw stream entry exactly as XREAD returns it: ``[id, [f1, v1, f2, v2, ...]]``.
RawEntry: TypeAlias = "Sequence[Any]"


def is_recording_head(head: bytes) -> bool:
    """Whether ``head`` (the first :data:`HEAD_BYTES` or more bytes of some content)
    starts a recording: tells a recording from a scenario or anything else by content."""
    if len(head) < HEAD_BYTES:
        return False
    first = head[0]
    if 0x80 <= first <= 0x8F:  # fixmap
        return head[1:HEAD_BYTES] == MAGIC_BYTES
    if first == 0xDE:  # map 16
        return head[3 : 3 + len(MAGIC_BYTES)] == MAGIC_BYTES
    if first == 0xDF:  # map 32
        return head[5 : 5 + len(MAGIC_BYTES)] == MAGIC_BYTES
    return False


class Malformed(ValueError):
    """A record (or the header) whose shape is wrong; the reader adds where it is."""


def _int(value: Any, what: str, lo: int = 0, hi: int = MAX_NS) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise Malformed(f"{what} is not an integer from {lo} to {hi}")
    return value


def _bytes(value: Any, what: str) -> bytes:
    if type(value) is not bytes:
        raise Malformed(f"{what} is not bytes")
    return value


def _str(value: Any, what: str) -> str:
    if type(value) is not str:
        raise Malformed(f"{what} is not text")
    return value


def checked_id(value: Any, what: str) -> bytes:
    try:
        StreamId.parse(_bytes(value, what))
    except InvalidStreamId as exc:
        raise Malformed(f"{what}: {exc}") from None
    return value  # type: ignore[no-any-return]


def _fields(obj: Sequence[Any], n: int, tag: str) -> None:
    if len(obj) < n:
        raise Malformed(f"a {tag} record has {len(obj)} items, not {n}")


_JSON_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any, what: str) -> Any:
    """Header maps hold what JSON can hold (``xtape info --json`` prints them); arrays
    come back as lists."""
    if isinstance(value, dict):
        if any(type(key) is not str for key in value):
            raise Malformed(f"{what} has a key that is not text")
        return {key: _plain(item, what) for key, item in value.items()}
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return [_plain(item, what) for item in value]
    if type(value) not in _JSON_SCALARS:
        raise Malformed(f"{what} holds a {type(value).__name__}")
    return value


@unique
class Tag(IntEnum):
    STREAM = 1
    ENTRIES = 2
    GAP = 3
    MARKER = 4
    END = 5


@dataclass(frozen=True, slots=True)
class Header:
    """The first object of a file: what made it, when, from where, and how."""

    version: int
    created_ns: int
    tool: str
    source: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    #: The files of a split recording: which series (recorder run) this file belongs to.
    series: SeriesTag | None = None

    def encode(self) -> dict[str, Any]:
        out = {
            "magic": MAGIC,
            "version": self.version,
            "created_ns": self.created_ns,
            "tool": self.tool,
            "source": self.source,
            "options": self.options,
        }
        if self.series is not None:
            out["series"] = self.series.encode()
        return out

    @classmethod
    def decode(cls, obj: dict[str, Any]) -> Header:
        """From the header map (its magic and version already checked)."""
        source = obj.get("source") or {}
        options = obj.get("options") or {}
        if not isinstance(source, dict) or not isinstance(options, dict):
            raise Malformed("the header's source and options must be maps")
        return cls(
            version=obj["version"],
            created_ns=_int(obj.get("created_ns", 0), "the header's created_ns"),
            tool=_str(obj.get("tool", ""), "the header's tool"),
            source=_plain(source, "the header's source"),
            options=_plain(options, "the header's options"),
            series=None if obj.get("series") is None else SeriesTag.decode(obj["series"]),
        )


#: A series id: what the recorder writes (32 hex digits), within bounds when read.
_SERIES_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


@dataclass(frozen=True, slots=True)
class SeriesTag:
    """The header's ``series``: the files one recorder run writes into a directory
    share a random ``id`` and count ``part`` from 1; ``after`` is the series a run
    continued (the previous run in the same directory, same streams), if any."""

    id: str
    part: int
    after: str | None = None

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "part": self.part}
        if self.after is not None:
            out["after"] = self.after
        return out

    @classmethod
    def decode(cls, obj: Any) -> SeriesTag:
        if not isinstance(obj, dict):
            raise Malformed("the header's series is not a map")
        ident, after = obj.get("id"), obj.get("after")
        if type(ident) is not str or not _SERIES_ID.fullmatch(ident):
            raise Malformed("the header's series id is not an id")
        if after is not None and (type(after) is not str or not _SERIES_ID.fullmatch(after)):
            raise Malformed("the header's series.after is not an id")
        return cls(ident, _int(obj.get("part"), "the header's series part", lo=1, hi=MAX_COUNT), after)


@dataclass(frozen=True, slots=True)
class StreamDef:
    """Interns a stream name: later records refer to it by ``stream_id``."""

    stream_id: int
    name: bytes

    def encode(self) -> list[Any]:
        return [Tag.STREAM, self.stream_id, self.name]

    @classmethod
    def decode(cls, obj: Sequence[Any]) -> StreamDef:
        _fields(obj, 3, "STREAM")
        return cls(_int(obj[1], "a stream id", hi=MAX_STREAM_ID), _bytes(obj[2], "a stream name"))


@dataclass(frozen=True, slots=True)
class Entries:
    """A batch of entries of one stream, read at ``capture_ns`` (wall clock, ns)."""

    stream_id: int
    capture_ns: int
    entries: Sequence[RawEntry] = field(repr=False)
    #: Read back: the entries' ids and flat fields as two columns (the shape check makes
    #: them; a replay builds its events from them without a loop of its own).
    ids: tuple[bytes, ...] = field(default=(), repr=False, compare=False)
    flats: tuple[tuple[bytes, ...], ...] = field(default=(), repr=False, compare=False)

    def encode(self) -> list[Any]:
        return [Tag.ENTRIES, self.stream_id, self.capture_ns, self.entries]

    @classmethod
    def decode(cls, obj: Sequence[Any]) -> Entries:
        _fields(obj, 4, "ENTRIES")
        entries = obj[3]
        ids, flats = _check_entries(entries)
        return cls(
            _int(obj[1], "a stream id", hi=MAX_STREAM_ID),
            _int(obj[2], "capture_ns"),
            entries,
            ids,
            flats,
        )


@dataclass(frozen=True, slots=True)
class Gap:
    """Entries of a stream were lost between ``after_id`` and ``before_id``.

    ``lost`` is how many (from XINFO ``entries-added``), or -1 where unknown.
    """

    stream_id: int
    capture_ns: int
    after_id: bytes
    before_id: bytes
    lost: int

    def encode(self) -> list[Any]:
        return [Tag.GAP, self.stream_id, self.capture_ns, self.after_id, self.before_id, self.lost]

    @classmethod
    def decode(cls, obj: Sequence[Any]) -> Gap:
        _fields(obj, 6, "GAP")
        return cls(
            _int(obj[1], "a stream id", hi=MAX_STREAM_ID),
            _int(obj[2], "capture_ns"),
            checked_id(obj[3], "a gap's after_id"),
            checked_id(obj[4], "a gap's before_id"),
            _int(obj[5], "a gap's lost count", lo=-1, hi=MAX_COUNT),
        )


@dataclass(frozen=True, slots=True)
class Marker:
    """Something worth knowing that happened while recording (reconnect, restart, note)."""

    capture_ns: int
    kind: str
    text: str

    def encode(self) -> list[Any]:
        return [Tag.MARKER, self.capture_ns, self.kind, self.text]

    @classmethod
    def decode(cls, obj: Sequence[Any]) -> Marker:
        _fields(obj, 4, "MARKER")
        return cls(
            _int(obj[1], "capture_ns"), _str(obj[2], "a marker's kind"), _str(obj[3], "a marker's text")
        )


@dataclass(frozen=True, slots=True)
class End:
    """Written by a clean close: the recording is complete."""

    capture_ns: int
    entries: int

    def encode(self) -> list[Any]:
        return [Tag.END, self.capture_ns, self.entries]

    @classmethod
    def decode(cls, obj: Sequence[Any]) -> End:
        _fields(obj, 3, "END")
        return cls(_int(obj[1], "capture_ns"), _int(obj[2], "the END's entry count", hi=MAX_COUNT))


Record: TypeAlias = "StreamDef | Entries | Gap | Marker | End"

#: Tag -> ``decode``; each raises :class:`Malformed` for a record of the wrong shape.
DECODERS: dict[int, Any] = {
    Tag.STREAM: StreamDef.decode,
    Tag.ENTRIES: Entries.decode,
    Tag.GAP: Gap.decode,
    Tag.MARKER: Marker.decode,
    Tag.END: End.decode,
}


def _drain(items: Iterator[Any]) -> None:
    deque(items, maxlen=0)


def _check_entries(entries: Any) -> tuple[Any, Any]:
    """A batch is a non-empty array of ``[id, [name, value, ...]]``: ids well formed,
    names and values bytes, in pairs. Checked a batch at a time with C-level calls (no
    Python loop per entry or field): reading must stay about as fast as unpacking."""
    if type(entries) is not tuple or not entries:
        raise Malformed("an ENTRIES record holds no array of entries")
    try:
        # Equal lengths (strict) and two columns: every entry is a pair. Maps cannot
        # occur (the reader refuses them after the header), so only tuples get this far
        # with bytes ids and joinable fields.
        ids, flats = zip(*entries, strict=True)
    except (TypeError, ValueError):
        raise Malformed("an entry is not a pair [id, fields]") from None
    try:
        check_ids(ids)
    except InvalidStreamId as exc:
        raise Malformed(f"an entry has {exc}") from None
    try:
        _drain(map(b"".join, flats))  # TypeError unless each is an array of bytes
    except TypeError:
        raise Malformed("an entry's fields are not an array of bytes") from None
    for n in set(map(len, flats)):
        if n & 1:
            raise Malformed("an entry has an odd number of field names and values")
    return ids, flats


def by_id(batches: Sequence[Sequence[RawEntry]]) -> Iterator[tuple[int, RawEntry]]:
    """The entries of several streams' batches (each in id order), in id order across
    them, as ``(index of its batch, entry)``: how the streams of one round interleave.
    Equal ids (in different streams) keep the order of their batches."""
    rows: list[tuple[tuple[int, int], int, Any]] = []
    for i, entries in enumerate(batches):
        rows += zip(map(id_key, map(itemgetter(0), entries)), repeat(i), entries)
    rows.sort(key=itemgetter(0))  # stable, C-level, and it finds the batches' sorted runs
    for _, i, entry in rows:
        yield i, entry
