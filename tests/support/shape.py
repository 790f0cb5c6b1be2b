"""Recordings for the shaping tests (``--where``, ``--sample``, ``--multiply``, ``cut``):
orders of a few users on two streams, written in recorder-like rounds, with a gap and
markers between them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xtape.recording import Recording, RecordingWriter

T0 = 1_700_000_000_000
#: One round of the recorder every ROUND_MS (the capture clock follows the ids).
ROUND_MS = 100
USERS = ["ann", "bob", "cid", "dee", "eve", "fay", "gus", "hal"]
STATUSES = ["accepted", "rejected", "filled"]


def order(i: int) -> list[bytes]:
    """The flat fields of order ``i``: a JSON payload and plain fields."""
    user = USERS[i % len(USERS)]
    status = STATUSES[i % len(STATUSES)]
    payload = {"order_id": f"o{i}", "status": status, "amount": i % 50, "user": {"id": user}}
    return [
        b"order_id", f"o{i}".encode(),
        b"user", user.encode(),
        b"payload", json.dumps(payload, separators=(",", ":")).encode(),
    ]  # fmt: skip


def write_orders(
    path: Path,
    n: int,
    *,
    streams: tuple[bytes, ...] = (b"orders", b"payments"),
    per_round: int = 10,
    marks: dict[int, str] | None = None,
    gap_at: int | None = None,
    **writer: Any,
) -> Path:
    """``n`` entries over ``streams`` (entry ``i`` on ``streams[i % len]``, id ``T0 + i``
    ms), ``per_round`` a round; a marker before the round starting at each index in
    ``marks`` and a gap on the first stream before the round starting at ``gap_at``."""
    marks = marks or {}
    with RecordingWriter(path, source={"url": "redis://test/0"}, **writer) as out:
        for start in range(0, n, per_round):
            capture_ns = (T0 + start + ROUND_MS) * 1_000_000
            if start in marks:
                out.write_marker("note", marks[start], capture_ns - 1)
            if start == gap_at:
                out.write_gap(streams[0], b"%d-0" % (T0 + start - 2), b"%d-0" % (T0 + start), 3, capture_ns - 1)
            batches: dict[bytes, list[list[Any]]] = {}
            for i in range(start, min(start + per_round, n)):
                stream = streams[i % len(streams)]
                batches.setdefault(stream, []).append([b"%d-0" % (T0 + i), order(i)])
            for stream, entries in batches.items():
                out.write_entries(stream, entries, capture_ns)
    return path


def entries_of(path: Path | str) -> list[tuple[bytes, bytes, tuple[bytes, ...], int]]:
    """Every entry of a recording as ``(stream, id, flat fields, capture_ns)``, in file order."""
    return [
        (stream, bytes(entry_id), tuple(flat), capture_ns)
        for stream, capture_ns, raw in Recording(path).batches(interleave=False)
        for entry_id, flat in raw
    ]


def ids_of(path: Path | str) -> list[tuple[bytes, bytes]]:
    return [(stream, entry_id) for stream, entry_id, _, _ in entries_of(path)]
