"""``xtape merge``: several recordings into one, in entry-id time order.

Recordings made in parallel (one recorder per cluster shard, on separate hosts, or one
per group of streams) are merged into one file as if one recorder had made it. Entries
are ordered by their id (the time Redis gave them; ties by stream name), which keeps
each stream's own order. A stream may appear in several inputs only as byte-identical
duplicates: where the id ranges of two inputs overlap, both must hold exactly the same
entries (same ids, same fields, byte for byte); they are then written once. Recordings
of the same stream that follow one another (no overlap) are joined. Anything else
(two different streams under one name, from two sources) is refused before the output
is written. Gaps are kept per stream; markers are kept with the name of their input.

Memory: the entries are sorted in memory (about the size of the recordings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xtape.errors import MergeConflict, UsageError
from xtape.ids import id_key
from xtape.recording import Recording
from xtape.recording.records import Entries, Gap, Marker, StreamDef
from xtape.recording.writer import RecordingWriter

#: Consecutive entries of one stream written as one batch at most.
_BATCH = 1000


@dataclass
class MergeStats:
    inputs: int = 0
    entries: int = 0
    #: Entries found in more than one input (written once).
    duplicates: int = 0
    streams: int = 0
    gaps: int = 0
    markers: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Stream:
    #: ``(id, flat, capture_ns)`` in id order.
    entries: list[tuple[bytes, tuple[bytes, ...], int]]
    origin: str


def merge(inputs: Sequence[str | Path], output: str | Path) -> MergeStats:
    """Merge ``inputs`` into ``output`` (see the module docstring)."""
    if len(inputs) < 1:
        raise UsageError("give the recordings to merge")
    stats = MergeStats(inputs=len(inputs))
    streams: dict[bytes, _Stream] = {}
    gaps: list[tuple[bytes, Gap]] = []
    markers: list[Marker] = []
    sources: list[dict[str, Any]] = []
    for path in inputs:
        name = str(path)
        rec = Recording(path)
        sources.append({"file": Path(name).name, **rec.header.source})
        names: dict[int, bytes] = {}
        mine: dict[bytes, list[tuple[bytes, tuple[bytes, ...], int]]] = {}
        for record in rec.records():
            if isinstance(record, StreamDef):
                names[record.stream_id] = record.name
            elif isinstance(record, Entries):
                out = mine.setdefault(names[record.stream_id], [])
                for entry_id, flat in record.entries:
                    out.append((bytes(entry_id), tuple(flat), record.capture_ns))
            elif isinstance(record, Gap):
                gaps.append((names[record.stream_id], record))
            elif isinstance(record, Marker):
                markers.append(Marker(record.capture_ns, record.kind, f"[{Path(name).name}] {record.text}"))
        if rec.summary is not None and not rec.summary.complete:
            stats.warnings.append(f"{name} was not closed cleanly: merged what it holds")
        for stream, entries in mine.items():
            entries.sort(key=lambda e: id_key(e[0]))
            if stream in streams:
                stats.duplicates += _join(stream, streams[stream], entries, name)
            else:
                streams[stream] = _Stream(entries, name)
    # Everything checked: now write, in id-time order.
    ordered: list[tuple[tuple[int, int], bytes, bytes, tuple[bytes, ...], int]] = []
    for stream, st in streams.items():
        ordered.extend((id_key(i), stream, i, f, c) for i, f, c in st.entries)
    ordered.sort(key=lambda e: (e[0], e[1]))
    extra = sorted(
        [((id_key(g.before_id)), 0, ("gap", s, g)) for s, g in _unique_gaps(gaps)]
        + [((m.capture_ns // 1_000_000, 0), 1, ("marker", b"", m)) for m in markers],
        key=lambda x: (x[0], x[1]),
    )
    header_source = {"merged": sources}
    with RecordingWriter(output, source=header_source, options={"merge": [str(p) for p in inputs]}) as writer:
        at = 0
        run_stream: bytes | None = None
        run: list[Any] = []
        run_capture = 0

        def flush_run() -> None:
            nonlocal run
            if run and run_stream is not None:
                writer.write_entries(run_stream, run, run_capture)
            run = []

        for key, stream, entry_id, flat, capture_ns in ordered:
            while at < len(extra) and extra[at][0] <= key:
                flush_run()
                _write_extra(writer, extra[at][2], stats)
                at += 1
            if stream != run_stream or len(run) >= _BATCH:
                flush_run()
                run_stream, run_capture = stream, capture_ns
            run.append([entry_id, list(flat)])
            stats.entries += 1
        flush_run()
        for item in extra[at:]:
            _write_extra(writer, item[2], stats)
    stats.streams = len(streams)
    return stats


def _write_extra(writer: RecordingWriter, item: tuple[str, bytes, Any], stats: MergeStats) -> None:
    kind, stream, record = item
    if kind == "gap":
        writer.write_gap(stream, record.after_id, record.before_id, record.lost, record.capture_ns)
        stats.gaps += 1
    else:
        writer.write_marker(record.kind, record.text, record.capture_ns)
        stats.markers += 1


def _unique_gaps(gaps: list[tuple[bytes, Gap]]) -> list[tuple[bytes, Gap]]:
    seen: set[tuple[bytes, bytes, bytes]] = set()
    out = []
    for stream, gap in gaps:
        key = (stream, gap.after_id, gap.before_id)
        if key not in seen:
            seen.add(key)
            out.append((stream, gap))
    return out


def _join(
    stream: bytes,
    have: _Stream,
    more: list[tuple[bytes, tuple[bytes, ...], int]],
    origin: str,
) -> int:
    """Add ``more`` to ``have`` (same stream, another input); the duplicates dropped."""
    if not more:
        return 0
    if not have.entries:
        have.entries = more
        return 0
    lo = max(id_key(have.entries[0][0]), id_key(more[0][0]))
    hi = min(id_key(have.entries[-1][0]), id_key(more[-1][0]))
    if lo > hi:  # one follows the other
        have.entries = sorted(have.entries + more, key=lambda e: id_key(e[0]))
        return 0
    a = {e[0]: e[1] for e in have.entries if lo <= id_key(e[0]) <= hi}
    b = {e[0]: e[1] for e in more if lo <= id_key(e[0]) <= hi}
    if a.keys() != b.keys():
        only = sorted(a.keys() ^ b.keys(), key=id_key)[0]
        raise MergeConflict(
            stream, have.origin, origin, f"entry {only.decode()} is in only one of them"
        )
    for entry_id, flat in a.items():
        if b[entry_id] != flat:
            raise MergeConflict(
                stream, have.origin, origin, f"entry {entry_id.decode()} differs"
            )
    known = {e[0] for e in have.entries}
    added = [e for e in more if e[0] not in known]
    have.entries = sorted(have.entries + added, key=lambda e: id_key(e[0]))
    return len(more) - len(added)
