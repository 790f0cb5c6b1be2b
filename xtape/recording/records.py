"""The records of an ``.xtape`` file: one frozen dataclass per kind, encode beside decode.

A file is a header map followed by records; each record is a msgpack array whose first
element is a :class:`Tag`. See ``docs/format.md`` for the byte-level description.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, unique
from typing import Any, TypeAlias

from xtape.ids import id_key

MAGIC = "xtape"
VERSION = 1
#: Versions this reader understands.
SUPPORTED_VERSIONS = frozenset({1})

#: One raw stream entry exactly as XREAD returns it: ``[id, [f1, v1, f2, v2, ...]]``.
RawEntry: TypeAlias = "list[Any]"


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

    def encode(self) -> dict[str, Any]:
        return {
            "magic": MAGIC,
            "version": self.version,
            "created_ns": self.created_ns,
            "tool": self.tool,
            "source": self.source,
            "options": self.options,
        }

    @classmethod
    def decode(cls, obj: dict[str, Any]) -> Header:
        return cls(
            version=int(obj["version"]),
            created_ns=int(obj.get("created_ns", 0)),
            tool=str(obj.get("tool", "")),
            source=dict(obj.get("source") or {}),
            options=dict(obj.get("options") or {}),
        )


@dataclass(frozen=True, slots=True)
class StreamDef:
    """Interns a stream name: later records refer to it by ``stream_id``."""

    stream_id: int
    name: bytes

    def encode(self) -> list[Any]:
        return [Tag.STREAM, self.stream_id, self.name]

    @classmethod
    def decode(cls, obj: list[Any]) -> StreamDef:
        return cls(int(obj[1]), bytes(obj[2]))


@dataclass(frozen=True, slots=True)
class Entries:
    """A batch of entries of one stream, read at ``capture_ns`` (wall clock, ns)."""

    stream_id: int
    capture_ns: int
    entries: list[RawEntry] = field(repr=False)

    def encode(self) -> list[Any]:
        return [Tag.ENTRIES, self.stream_id, self.capture_ns, self.entries]

    @classmethod
    def decode(cls, obj: list[Any]) -> Entries:
        return cls(int(obj[1]), int(obj[2]), obj[3])


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
    def decode(cls, obj: list[Any]) -> Gap:
        return cls(int(obj[1]), int(obj[2]), bytes(obj[3]), bytes(obj[4]), int(obj[5]))


@dataclass(frozen=True, slots=True)
class Marker:
    """Something worth knowing that happened while recording (reconnect, restart, note)."""

    capture_ns: int
    kind: str
    text: str

    def encode(self) -> list[Any]:
        return [Tag.MARKER, self.capture_ns, self.kind, self.text]

    @classmethod
    def decode(cls, obj: list[Any]) -> Marker:
        return cls(int(obj[1]), str(obj[2]), str(obj[3]))


@dataclass(frozen=True, slots=True)
class End:
    """Written by a clean close: the recording is complete."""

    capture_ns: int
    entries: int

    def encode(self) -> list[Any]:
        return [Tag.END, self.capture_ns, self.entries]

    @classmethod
    def decode(cls, obj: list[Any]) -> End:
        return cls(int(obj[1]), int(obj[2]))


Record: TypeAlias = "StreamDef | Entries | Gap | Marker | End"

DECODERS: dict[int, Any] = {
    Tag.STREAM: StreamDef.decode,
    Tag.ENTRIES: Entries.decode,
    Tag.GAP: Gap.decode,
    Tag.MARKER: Marker.decode,
    Tag.END: End.decode,
}


def by_id(batches: Sequence[Sequence[RawEntry]]) -> Iterator[tuple[int, RawEntry]]:
    """The entries of several streams' batches (each in id order), in id order across
    them, as ``(index of its batch, entry)``: how the streams of one round interleave."""
    keyed = [_keyed(i, entries) for i, entries in enumerate(batches)]
    for _, i, entry in heapq.merge(*keyed):
        yield i, entry


def _keyed(index: int, entries: Sequence[RawEntry]) -> Iterator[tuple[tuple[int, int], int, Any]]:
    for entry in entries:
        yield id_key(entry[0]), index, entry
