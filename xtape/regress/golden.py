"""A golden recording and what ``xtape test --update`` learned with it: the noise found
between runs and the latency measured, kept in the recording's header (``options.regress``)
so that the golden is still one ordinary ``.xtape`` file.

    write_golden("actual.xtape", "golden.xtape", {"noise": [...], "latency": {...}})
    read_meta("golden.xtape")       # {} for a golden written before (or by xtape record)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from xtape.recording import Recording
from xtape.recording.records import Entries, Gap, Marker, StreamDef
from xtape.recording.writer import RecordingWriter

#: The header key (under ``options``) holding what regression learned.
META_KEY = "regress"


def read_meta(path: str | Path) -> dict[str, Any]:
    """What ``--update`` stored with the golden (empty when nothing)."""
    found = Recording(path).header.options.get(META_KEY)
    return dict(found) if isinstance(found, dict) else {}


def entries_by_stream(path: str | Path) -> dict[bytes, list[tuple[bytes, list[bytes]]]]:
    """Every entry of a (small) recording, per stream, in order: ``(id, flat fields)``."""
    out: dict[bytes, list[tuple[bytes, list[bytes]]]] = {}
    for stream, entry_id, flat in iter_entries(path):
        out.setdefault(stream, []).append((entry_id, flat))
    return out


def iter_entries(path: str | Path) -> Iterator[tuple[bytes, bytes, list[bytes]]]:
    names: dict[int, bytes] = {}
    for record in Recording(path, interleave=False).records():
        if isinstance(record, StreamDef):
            names[record.stream_id] = record.name
        elif isinstance(record, Entries):
            stream = names.get(record.stream_id, b"?")
            for entry_id, flat in record.entries:
                yield stream, bytes(entry_id), [bytes(x) for x in flat]


def count_entries(path: str | Path) -> int:
    return sum(1 for _ in iter_entries(path))


def write_golden(src: str | Path, dst: str | Path, meta: dict[str, Any]) -> None:
    """Copy the recording ``src`` to ``dst`` with ``meta`` in its header."""
    rec = Recording(src, interleave=False)
    header = rec.header
    names: dict[int, bytes] = {}
    options = {**header.options, META_KEY: meta}
    with RecordingWriter(dst, source=dict(header.source), options=options) as writer:
        for record in rec.records():
            if isinstance(record, StreamDef):
                names[record.stream_id] = record.name
            elif isinstance(record, Entries):
                rows: list[Sequence[Any]] = [[bytes(i), [bytes(x) for x in flat]] for i, flat in record.entries]
                writer.write_entries(names.get(record.stream_id, b"?"), rows, record.capture_ns)
            elif isinstance(record, Gap):
                writer.write_gap(
                    names.get(record.stream_id, b"?"), record.after_id, record.before_id, record.lost, record.capture_ns
                )
            elif isinstance(record, Marker):
                writer.write_marker(record.kind, record.text, record.capture_ns)


__all__ = ["META_KEY", "count_entries", "entries_by_stream", "iter_entries", "read_meta", "write_golden"]
