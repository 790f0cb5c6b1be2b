"""Holding a version-2 file's summary against its chunks: a summary is never trusted blindly.

A summary's checksum says its bytes are the ones written, not that they tell the truth
about the chunks (a tool, a bug or an attacker may write a CRC-valid lie). Two checks:

* :func:`index_problems`, cheap (the head and meta of each chunk, no data read): the
  index's chunks lie end to end from the header to the summary, each offset is a chunk
  whose lengths and meta are the ones the index gives, and the summary's entries and
  streams are those of the chunks' metas. A reader runs it before it uses a summary
  (``info``, a seek through the index).
* :func:`event_problems`: the summary's gaps and markers against the few chunks that
  hold them (their metas count them), their entries skipped unread.
* :class:`Tally`, what a pass read from the chunks themselves (entries and ids per
  stream, gaps, markers), compared with the summary at the end of a full pass and by
  ``xtape check``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgpack

from xtape.recording.chunks import (
    CHUNK_HEAD,
    CHUNK_MAGIC,
    ChunkMeta,
    IndexEntry,
    Summary,
    chunk_lengths,
    unpackb,
)
from xtape.recording.records import Entries, Gap, Malformed, Marker

#: ``(offset, what is wrong)``: a problem and the byte where it is.
Problem = tuple[int, str]

#: Bytes read at each chunk: its head and (nearly always) its whole meta.
_PEEK = CHUNK_HEAD.size + 240


def index_problems(
    read_at: Callable[[int, int], bytes], summary: Summary, first: int, end: int
) -> list[Problem]:
    """What is wrong with ``summary``'s index and totals against the chunks' heads and
    metas: ``read_at(offset, n)`` reads the file, ``first`` is where the chunks start
    (the header's end), ``end`` where the summary starts. Empty when they agree."""
    expect = first
    for i, chunk in enumerate(summary.chunks, 1):
        if chunk.offset != expect:
            return [(chunk.offset, f"the summary's index puts chunk {i} at byte {chunk.offset}, but it starts at byte {expect}")]
        head = read_at(chunk.offset, _PEEK)
        if len(head) < CHUNK_HEAD.size or head[:4] != CHUNK_MAGIC:
            return [(chunk.offset, f"the summary's index points at no chunk (chunk {i})")]
        try:
            _, meta_len, data_len, _ = chunk_lengths(head[: CHUNK_HEAD.size])
            length = CHUNK_HEAD.size + meta_len + data_len
            if length != chunk.length:
                return [(chunk.offset, f"the summary's index gives chunk {i} {chunk.length} bytes, its head {length}")]
            meta_bytes = head[CHUNK_HEAD.size : CHUNK_HEAD.size + meta_len]
            if len(meta_bytes) < meta_len:
                meta_bytes = read_at(chunk.offset + CHUNK_HEAD.size, meta_len)
            # the bytes the writer wrote for the index's meta, else (quick) decoded
            same = meta_bytes == msgpack.packb(chunk.meta.encode(), use_bin_type=True)
            same = same or ChunkMeta.decode(unpackb(meta_bytes)) == chunk.meta
        except (Malformed, ValueError, TypeError, msgpack.UnpackException) as exc:
            return [(chunk.offset, f"chunk {i}: {exc}")]
        if not same:
            return [(chunk.offset, f"the summary's index describes chunk {i} otherwise than its meta")]
        expect += length
    if expect != end:
        return [(expect, f"the chunks end at byte {end}, the summary's index at byte {expect}")]
    return meta_problems(summary, [c.meta for c in summary.chunks], end)


def event_problems(
    summary: Summary, at: int, events_of: Callable[[IndexEntry], Iterable[Gap | Marker] | None]
) -> tuple[list[Problem], bool]:
    """The summary's gaps and markers (at byte ``at``) against the chunks' metas, which
    count them, and against the gaps and markers of the chunks holding them
    (``events_of(chunk)`` reads them, or gives None when the reader will not spend more):
    ``(problems, whether their contents were compared)``. Files whose metas do not count
    them (written before the addition) are not compared."""
    if any(c.meta.events is None for c in summary.chunks):
        return [], False
    holders = [c for c in summary.chunks if c.meta.events]
    held = sum(c.meta.events or 0 for c in holders)
    listed = len(summary.gaps) + len(summary.markers)
    if held != listed:
        return [(at, f"the summary lists {listed} gaps and markers, its chunks hold {held}")], True
    tally = Tally()
    for chunk in holders:
        events = events_of(chunk)
        if events is None:
            return [], False
        for event in events:
            tally.add(event)
    if [list(g) for g in summary.gaps] != tally.gaps or [list(m) for m in summary.markers] != tally.markers:
        return [(at, "the summary's gaps or markers are not those its chunks hold")], True
    return [], True


def meta_problems(summary: Summary, metas: list[ChunkMeta], at: int) -> list[Problem]:
    """The summary's entries and streams against the chunks' metas (``at``: where the
    summary is)."""
    problems: list[Problem] = []
    total = sum(m.entries for m in metas)
    if total != summary.entries:
        problems.append((at, f"the summary counts {summary.entries:,} entries, its chunks {total:,}"))
    names: dict[int, bytes] = {}
    counts: dict[int, int] | None = {}
    for meta in metas:
        names.update(meta.streams)
        per = meta.stream_counts()
        if per is None or counts is None:
            counts = None
            continue
        for (sid, _), n in zip(meta.streams, per, strict=True):
            counts[sid] = counts.get(sid, 0) + n
    rows = {row[0]: row for row in summary.streams}
    named = {sid: row[1] for sid, row in rows.items()}
    if named != names:
        extra = [row[1] for sid, row in rows.items() if names.get(sid) != row[1]]
        what = f" ({_names(extra)})" if extra else ""
        problems.append((at, f"the summary's streams are not those of its chunks{what}"))
    elif counts is not None:
        for sid, row in rows.items():
            if row[2] != counts.get(sid, 0):
                problems.append(
                    (at, f"the summary counts {row[2]:,} entries of {_names([row[1]])}, its chunks {counts.get(sid, 0):,}")
                )
    return problems


def _names(names: list[bytes]) -> str:
    return ", ".join(repr(n)[2:-1] for n in names[:3]) + (", ..." if len(names) > 3 else "")


class Tally:
    """What a pass read from a version-2 file's chunks, to hold the summary against:
    entries, first and last id per stream, the gaps and the markers."""

    def __init__(self) -> None:
        self.entries = 0
        #: stream id -> ``[name, entries, first id, last id]``
        self.streams: dict[int, list[Any]] = {}
        self.gaps: list[list[Any]] = []
        self.markers: list[list[Any]] = []

    def streams_of(self, meta: ChunkMeta) -> None:
        for sid, name in meta.streams:
            if sid not in self.streams:
                self.streams[sid] = [name, 0, None, None]

    def add(self, record: object) -> None:
        if isinstance(record, Entries):
            row = self.streams[record.stream_id]
            ids = record.ids
            row[1] += len(ids)
            self.entries += len(ids)
            if row[2] is None:
                row[2] = ids[0]
            row[3] = ids[-1]
        elif isinstance(record, Gap):
            self.gaps.append([record.stream_id, record.capture_ns, record.after_id, record.before_id, record.lost])
        elif isinstance(record, Marker):
            self.markers.append([record.capture_ns, record.kind, record.text])

    def problems(self, summary: Summary, at: int) -> list[Problem]:
        """What the summary (at byte ``at``) says otherwise than the chunks."""
        problems: list[Problem] = []
        if summary.entries != self.entries:
            problems.append((at, f"the summary counts {summary.entries:,} entries, its chunks hold {self.entries:,}"))
        rows = {row[0]: [row[1], row[2], row[3], row[4]] for row in summary.streams}
        if rows != self.streams:
            wrong = [
                row[0] for sid, row in rows.items() if self.streams.get(sid) != row
            ] + [row[0] for sid, row in self.streams.items() if sid not in rows]
            problems.append((at, f"the summary's streams, counts or ids are not those of its chunks ({_names(wrong)})"))
        if [list(g) for g in summary.gaps] != self.gaps:
            problems.append((at, f"the summary's gaps are not those of its chunks (it lists {len(summary.gaps)}, they hold {len(self.gaps)})"))
        if [list(m) for m in summary.markers] != self.markers:
            problems.append((at, f"the summary's markers are not those of its chunks (it lists {len(summary.markers)}, they hold {len(self.markers)})"))
        return problems
