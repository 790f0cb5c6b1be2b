"""``xtape merge``: several recordings into one, in entry-id time order, in flat memory.

Recordings made in parallel (one recorder per cluster shard, on separate hosts, or one
per group of streams) or one after another are merged into one file as if one recorder
had made it. The inputs are read side by side and interleaved by entry-id time (a k-way
merge: nothing is held but a bounded window, see below); what each input holds keeps
the order it was recorded in, so a stream deleted and created again keeps its lives in
order with the marker between them, and every entry keeps its own capture time.

A stream may be in several inputs only as byte-identical copies where their id ranges
overlap: there both must hold exactly the same entries (same ids, same fields, byte
for byte), which are then written once. Copies that differ (an entry in one and not in
the other within their common range, or the same id with other bytes) are refused. A
stream whose entries in one input all follow those in another (no overlap: recordings
made one after the other) is joined, and said so. Gaps are kept per stream; markers
are kept with the name of their input.

The output appears only once complete (written beside it, then renamed), so a refused
merge leaves nothing behind; to standard output it is written as it goes.

Memory: one batch per input, plus a window of the last :data:`WINDOW` entries of the
streams that more than one input may hold (to match one input's copy against
another's that is read a little ahead). An input whose copy falls further behind than
that is refused with a message saying so.
"""

from __future__ import annotations

import heapq
import os
import secrets
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from xtape.errors import MergeConflict, UsageError
from xtape.ids import id_key
from xtape.outputs import commit
from xtape.recording import Recording
from xtape.recording.records import Entries, Gap, Marker, RawEntry, StreamDef
from xtape.recording.writer import RecordingWriter

#: Consecutive entries of one stream (read at one time) written as one batch at most.
_BATCH = 1000
#: Entries of shared streams remembered to match a copy read behind another one.
WINDOW = 50_000

#: Entries waiting to be written, in all streams, at most (all are written before a
#: marker or gap, to keep it where it was).
_PENDING = 20_000

#: An entry from an input: ``(stream, id, flat fields, capture_ns, id as a key)``.
_Entry = tuple[bytes, bytes, Sequence[bytes], int, tuple[int, int]]


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
    """A stream of the output: the life being written and what was last written."""

    life: int = 0
    #: The last id written in this life (id_key form and bytes), and who wrote it first.
    last: tuple[int, int] | None = None
    last_id: bytes = b""
    origin: int = -1


@dataclass
class _Held:
    """One input's copy of a stream: its life (a new one each time its ids go back)
    and the last id it gave in it."""

    life: int = 0
    last: tuple[int, int] | None = None
    last_id: bytes = b""


class _Input:
    """One recording read in file order, each item with a key that never decreases
    (the largest entry-id time seen so far in this input, then the item's place), so
    that :func:`heapq.merge` interleaves the inputs by time and keeps each one's order."""

    def __init__(self, index: int, path: str | Path) -> None:
        self.index = index
        self.rec = Recording(path)
        self.name = Path(str(path)).name
        self.path = str(path)

    def items(self) -> Iterator[tuple[tuple[int, int], int, int, str, Any]]:
        names: dict[int, bytes] = {}
        top = (0, 0)
        place = 0
        for record in self.rec.records():
            if isinstance(record, StreamDef):
                names[record.stream_id] = record.name
            elif isinstance(record, Entries):
                stream = names[record.stream_id]
                for entry_id, flat in record.entries:
                    key = id_key(entry_id)
                    if key > top:
                        top = key
                    place += 1
                    entry: _Entry = (stream, bytes(entry_id), flat, record.capture_ns, key)
                    yield top, place, self.index, "entry", entry
            elif isinstance(record, Gap):
                place += 1
                yield top, place, self.index, "gap", (names[record.stream_id], record)
            elif isinstance(record, Marker):
                place += 1
                marker = Marker(record.capture_ns, record.kind, f"[{self.name}] {record.text}")
                yield top, place, self.index, "marker", marker

    def stream_names(self) -> set[bytes] | None:
        """The streams this input holds, when its summary says (without reading it)."""
        parts = self.rec.parts if self.rec.parts is not None else [self.rec]
        names: set[bytes] = set()
        for part in parts:
            summary = part.stored_summary()
            if summary is None:
                return None
            names.update(row[1] for row in summary.streams)
        return names


class _Merger:
    """Decides, entry by entry in merged order, what is written: checks each copy of
    a shared stream against what the others gave, and drops the duplicates."""

    def __init__(self, inputs: list[_Input], stats: MergeStats) -> None:
        self.inputs = inputs
        self.stats = stats
        self.streams: dict[bytes, _Stream] = {}
        self.held: dict[tuple[int, bytes], _Held] = {}
        #: ``(stream, life, id)`` -> ``(flat, the id written before it in that life)``.
        self.window: OrderedDict[tuple[bytes, int, bytes], tuple[Sequence[bytes], bytes]] = OrderedDict()
        self.shared = self._shared_streams()
        self.joined: dict[tuple[int, int], int] = {}

    def _shared_streams(self) -> set[bytes] | None:
        """The streams more than one input holds (None: not known, any may be)."""
        seen: set[bytes] = set()
        shared: set[bytes] = set()
        for one in self.inputs:
            names = one.stream_names()
            if names is None:
                return None
            shared |= seen & names
            seen |= names
        return shared

    def take(self, index: int, entry: _Entry) -> bool:
        """Whether ``entry`` from input ``index`` is written (False: a duplicate)."""
        stream, entry_id, flat, _, key = entry
        out = self.streams.get(stream)
        if out is None:
            out = self.streams[stream] = _Stream(origin=index)
        held = self.held.get((index, stream))
        if held is None:  # this input's copy starts in the life being written
            held = self.held[(index, stream)] = _Held(out.life)
        elif held.last is not None and key <= held.last:
            held.life += 1  # the ids went back: the stream was created again
            held.last = None
        if held.life > out.life:
            out.life, out.last, out.last_id, out.origin = held.life, None, b"", index
        new = held.life == out.life and (out.last is None or key > out.last)
        if new:
            if held.last is not None and out.last is not None and held.last != out.last:
                # Another input gave an entry between this input's last and this one.
                self._conflict(stream, out.origin, index, f"entry {out.last_id.decode()} is in only one of them")
            if out.last is not None and held.last is None and out.origin != index:
                pair = (out.origin, index)
                self.joined[pair] = self.joined.get(pair, 0) + 1
            prev = out.last_id
            out.last, out.last_id = key, entry_id
            self._remember(stream, out.life, entry_id, flat, prev)
        else:
            seen = self.window.get((stream, held.life, entry_id))
            if seen is None:
                self._conflict(
                    stream,
                    out.origin,
                    index,
                    f"entry {entry_id.decode()} is in only one of them (or their copies are "
                    f"more than {WINDOW:,} entries apart in the files)",
                )
            flat_seen, before = seen
            if tuple(flat_seen) != tuple(flat):
                self._conflict(stream, out.origin, index, f"entry {entry_id.decode()} differs")
            if held.last is not None and before != held.last_id:
                self._conflict(stream, out.origin, index, f"entry {before.decode()} is in only one of them")
            self.stats.duplicates += 1
        held.last, held.last_id = key, entry_id
        return new

    def _remember(self, stream: bytes, life: int, entry_id: bytes, flat: Sequence[bytes], prev: bytes) -> None:
        if self.shared is not None and stream not in self.shared:
            return
        self.window[(stream, life, entry_id)] = (flat, prev)
        if len(self.window) > WINDOW:
            self.window.popitem(last=False)

    def _conflict(self, stream: bytes, first: int, second: int, why: str) -> NoReturn:
        a, b = sorted((first, second))
        raise MergeConflict(stream, self.inputs[a].path, self.inputs[b].path, why)


def merge(inputs: Sequence[str | Path], output: str | Path) -> MergeStats:
    """Merge ``inputs`` into ``output`` (see the module docstring)."""
    if len(inputs) < 1:
        raise UsageError("give the recordings to merge")
    stats = MergeStats(inputs=len(inputs))
    readers = [_Input(i, path) for i, path in enumerate(inputs)]
    sources = [{"file": one.name, **one.rec.header.source} for one in readers]
    final = None if str(output) == "-" else Path(output)
    target: str | Path = output if final is None else final.with_name(
        f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.part"
    )
    try:
        with RecordingWriter(
            target, source={"merged": sources}, options={"merge": [str(p) for p in inputs]}
        ) as writer:
            merger = _write_merged(readers, writer, stats)
        if final is not None:
            commit(Path(target), final)
    finally:
        if final is not None:
            Path(target).unlink(missing_ok=True)
    for one in readers:
        if one.rec.summary is not None and not one.rec.summary.complete:
            stats.warnings.append(f"{one.path} was not closed cleanly: merged what it holds")
    for (first, then), n in merger.joined.items():
        stats.warnings.append(
            f"{n} stream{'s' if n != 1 else ''} of {readers[then].path} continue"
            f"{'s' if n == 1 else ''} where {readers[first].path} ends: joined"
        )
    stats.streams = len(merger.streams)
    return stats


def _write_merged(readers: list[_Input], writer: RecordingWriter, stats: MergeStats) -> _Merger:
    merger = _Merger(readers, stats)
    gaps: set[tuple[bytes, bytes, bytes]] = set()
    #: Per stream, the entries read at one capture time not yet written.
    runs: dict[bytes, tuple[int, list[RawEntry]]] = {}
    pending = 0

    def flush(stream: bytes | None = None) -> None:
        nonlocal pending
        for name in list(runs) if stream is None else [stream]:
            capture_ns, run = runs.pop(name)
            writer.write_entries(name, run, capture_ns)
            pending -= len(run)

    for _, _, index, kind, item in heapq.merge(*(one.items() for one in readers)):
        if kind == "entry":
            stream, entry_id, flat, capture_ns, _ = item
            if not merger.take(index, item):
                continue
            have = runs.get(stream)
            if have is not None and len(have[1]) >= _BATCH:
                flush(stream)
                have = None
            elif have is not None and have[0] != capture_ns:
                flush()  # all streams: what was read at one time stays before what came later
                have = None
            if have is None:
                have = runs[stream] = (capture_ns, [])
            have[1].append([entry_id, list(flat)])
            pending += 1
            stats.entries += 1
            if pending >= _PENDING:
                flush()
            continue
        flush()
        if kind == "gap":
            stream, gap = item
            if (stream, gap.after_id, gap.before_id) in gaps:
                continue
            gaps.add((stream, gap.after_id, gap.before_id))
            writer.write_gap(stream, gap.after_id, gap.before_id, gap.lost, gap.capture_ns)
            stats.gaps += 1
        else:
            writer.write_marker(item.kind, item.text, item.capture_ns)
            stats.markers += 1
    flush()
    return merger
