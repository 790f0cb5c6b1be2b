"""Consumer groups as the server sees them: what a service read, acknowledged, left.

The regression runner asks these questions of the server (never of a clock):

    groups = read_groups(client, b"order.request")      # XINFO GROUPS
    [g.name for g in groups if g.done]                   # read everything, nothing pending
    left = group_leftovers(client, b"order.request", g)  # XPENDING + XRANGE: ids, fields

``undelivered`` is counted from the group's last-delivered-id (an exclusive XRANGE, which
Redis 6.2 has), not from XINFO's ``lag`` (Redis 7.0+), so older servers answer too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from xtape.connection import Client, ResponseError, command, connect

#: How many leftover entries (pending or never delivered) are read back per group.
LEFTOVERS_SHOWN = 20
#: Counting undelivered entries reads at most this many ids.
_COUNT_LIMIT = 100_000


@dataclass(frozen=True)
class GroupState:
    """One consumer group of one stream."""

    stream: bytes
    name: bytes
    last_delivered: bytes
    pending: int
    #: Entries of the stream after ``last_delivered`` (never delivered to the group).
    undelivered: int
    consumers: int = 0

    @property
    def done(self) -> bool:
        """The group read every entry of the stream and acknowledged every one."""
        return self.pending == 0 and self.undelivered == 0


@dataclass
class Leftovers:
    """What a group left behind at the end: ids with their fields (the first
    :data:`LEFTOVERS_SHOWN` of each kind) and the exact counts."""

    stream: bytes
    group: bytes
    pending: int = 0
    undelivered: int = 0
    pending_entries: list[tuple[bytes, list[bytes]]] = field(default_factory=list)
    undelivered_entries: list[tuple[bytes, list[bytes]]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.pending or self.undelivered)


def _flat_map(info: Any) -> dict[bytes, Any]:
    if isinstance(info, dict):
        return {k if isinstance(k, bytes) else str(k).encode(): v for k, v in info.items()}
    return dict(zip(info[::2], info[1::2], strict=False))


def _text(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def _group_infos(client: Client, stream: bytes | str) -> list[dict[bytes, Any]]:
    """XINFO GROUPS of ``stream``, a map per group (none when the stream does not exist)."""
    try:
        infos = command(client, "XINFO", "GROUPS", stream)
    except ResponseError:  # no such key (yet), or not a stream
        return []
    return [_flat_map(info) for info in infos or []]


def read_groups(client: Client, stream: bytes | str) -> list[GroupState]:
    """Every consumer group of ``stream`` (none when the stream does not exist)."""
    name = stream if isinstance(stream, bytes) else stream.encode()
    out = []
    for fields in _group_infos(client, stream):
        last = _text(fields.get(b"last-delivered-id", b"0-0"))
        out.append(
            GroupState(
                stream=name,
                name=_text(fields.get(b"name", b"")),
                last_delivered=last,
                pending=int(fields.get(b"pending", 0) or 0),
                undelivered=count_after(client, name, last),
                consumers=int(fields.get(b"consumers", 0) or 0),
            )
        )
    return out


def count_after(client: Client, stream: bytes, after: bytes, limit: int = _COUNT_LIMIT) -> int:
    """Entries of ``stream`` with ids above ``after`` (up to ``limit``)."""
    reply = command(client, "XRANGE", stream, b"(" + after, b"+", b"COUNT", limit)
    return len(reply or [])


def group_leftovers(client: Client, group: GroupState, shown: int = LEFTOVERS_SHOWN) -> Leftovers:
    """What ``group`` did not finish: its pending entries (delivered, never acknowledged)
    and the entries never delivered to it, with their fields."""
    out = Leftovers(group.stream, group.name, group.pending, group.undelivered)
    if group.pending:
        rows = client.xpending_range(group.stream, group.name, min="-", max="+", count=shown) or []
        ids = [_text(row["message_id"]) for row in rows]
        out.pending_entries = [(i, _fields_of(client, group.stream, i)) for i in ids]
    if group.undelivered:
        rows = command(client, "XRANGE", group.stream, b"(" + group.last_delivered, b"+", b"COUNT", shown) or []
        out.undelivered_entries = [(_text(i), _flat(f)) for i, f in rows]
    return out


def _flat(fields: Any) -> list[bytes]:
    if isinstance(fields, dict):
        return [x for kv in fields.items() for x in kv]
    return list(fields or [])


def _fields_of(client: Client, stream: bytes, entry_id: bytes) -> list[bytes]:
    rows = command(client, "XRANGE", stream, entry_id, entry_id) or []
    return _flat(rows[0][1]) if rows else []


def has_group(client: Client, stream: str | bytes, name: bytes | None = None) -> bool:
    """Whether ``stream`` has the consumer group ``name`` (None: any group); asks XINFO
    GROUPS only (it is polled while a service starts)."""
    return any(name is None or _text(f.get(b"name", b"")) == name for f in _group_infos(client, stream))


def delete_streams(url: str, names: Sequence[str], globs: Sequence[str] = ()) -> list[str]:
    """Delete the streams ``names`` and every stream matching ``globs`` (with their
    consumer groups); returns the names deleted."""
    import fnmatch

    client = connect(url, socket_timeout=10.0)
    try:
        found = {s.encode() for s in names}
        if globs:
            for key in client.scan_iter(count=1000, _type="STREAM"):
                text = key.decode("utf-8", "surrogateescape")
                if any(fnmatch.fnmatchcase(text, g) for g in globs):
                    found.add(key)
        deleted = [n for n in sorted(found) if command(client, "DEL", n)]
    finally:
        client.close()
    return [n.decode("utf-8", "backslashreplace") for n in deleted]


def read_streams(url: str, streams: Sequence[str], limit: int = 100_000) -> dict[bytes, list[tuple[bytes, list[bytes]]]]:
    """Every entry of ``streams`` (up to ``limit`` each), as ``(id, flat fields)``."""
    client = connect(url, socket_timeout=10.0)  # (stream replies kept raw by connect)
    try:
        out: dict[bytes, list[tuple[bytes, list[bytes]]]] = {}
        for name in streams:
            rows = command(client, "XRANGE", name, "-", "+", "COUNT", limit) or []
            out[name.encode()] = [(_text(i), _flat(f)) for i, f in rows]
        return out
    finally:
        client.close()


__all__ = [
    "LEFTOVERS_SHOWN",
    "GroupState",
    "Leftovers",
    "count_after",
    "delete_streams",
    "group_leftovers",
    "has_group",
    "read_groups",
    "read_streams",
]
