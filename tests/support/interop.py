"""Support for the export and import tests (no tests here): a recording with what a
careless exporter would mangle, and its entries read back as plain tuples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.e2e import AWKWARD
from xtape.recording import Recording, RecordingWriter

T0_MS = 1_700_000_000_000
#: The capture time of round ``r`` (ns): the recorder read it 5 ms after its first id.
CAPTURE_NS = T0_MS * 1_000_000 + 5_000_000


def orders(n: int, second: int = 0) -> list[list[Any]]:
    """``n`` order entries in one second: JSON-free plain fields; every third has no
    currency; amounts are integers, prices decimals."""
    out = []
    for i in range(n):
        fields = [b"user", f"u{i % 3}".encode(), b"amount", str(10 + i).encode(), b"price", f"{i}.5".encode()]
        if i % 3:
            fields += [b"currency", b"EUR"]
        out.append([f"{T0_MS + second * 1000 + i}-0".encode(), fields])
    return out


def hostile_recording(path: Path) -> Path:
    """Three seconds of orders, JSON payloads (one without ``currency``), awkward fields
    (repeated names, empty names and values, bytes, Cyrillic), a stream whose name is
    not UTF-8 and one in Greek; a gap and a marker."""
    with RecordingWriter(path, source={"url": "redis://test/0"}) as writer:
        for second, n in enumerate((3, 5, 2)):
            ns = CAPTURE_NS + second * 1_000_000_000
            writer.write_entries(b"orders", orders(n, second), ns)
            if second == 1:
                writer.write_gap(b"orders", f"{T0_MS + 900}-0".encode(), f"{T0_MS + 1000}-0".encode(), 7, ns)
                writer.write_marker("reconnect", "the server went away for 2 s", ns + 1)
        payments = [
            {"order": 1, "currency": "EUR", "total": 12.5},
            {"order": 2, "total": 3},
            {"order": 3, "currency": "USD", "total": 4.25, "tags": ["a"]},
        ]
        writer.write_entries(
            b"payments",
            [[f"{T0_MS + 10 + i}-0".encode(), [b"data", json.dumps(p).encode()]] for i, p in enumerate(payments)],
            CAPTURE_NS + 3_000_000_000,
        )
        writer.write_entries(
            "заказы-Σ".encode(),
            [[f"{T0_MS + 20 + i}-{i}".encode(), list(flat)] for i, flat in enumerate(AWKWARD)],
            CAPTURE_NS + 3_000_000_000,
        )
        writer.write_entries(b"raw\xff\xfe", [[f"{T0_MS + 30}-0".encode(), [b"k", b"\x00\xff"]]], CAPTURE_NS + 3_000_000_001)
    return path


def entries_of(path: Path) -> list[tuple[bytes, bytes, tuple[tuple[bytes, bytes], ...]]]:
    """``(stream, id, fields)`` of every entry, in the order they are read."""
    return [(e.stream, e.id, e.fields) for e in Recording(path).entries()]
