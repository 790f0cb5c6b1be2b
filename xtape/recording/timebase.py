"""A recording's records as a timeline: where it starts, its batches and its events.

:func:`first_round` is the one place that says where a recording's timeline starts
(offset 0): the earliest entry id of the recorder's first round (``time_base="id"``) or
that round's capture time (``"capture"``). The reader's events, its windows (and so the
replay's and convert's ``--since``/``--until``) and ``diff --compare-times`` all count
from it.

The per-entry work is done by C-level iterators: :func:`event_runs` makes one
``map`` per batch, which :meth:`~xtape.recording.Recording.events` chains in C.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from itertools import chain, repeat
from typing import Any, Literal

from xtape.ids import id_ms
from xtape.recording.records import Entries, RawEntry, Record, StreamDef, by_id
from xtape.timeline import NS_PER_MS, Event, Timeline

#: Which clock a recording's timeline follows: the entry ids' milliseconds (the producer's
#: clock) or the recorder's capture clock (``--clock``). Not a :class:`xtape.clock.Clock`,
#: the clock a replay is paced against.
TimeBase = Literal["id", "capture"]
TIME_BASES: tuple[str, ...] = ("id", "capture")

#: A batch of entries with its stream's name.
Named = tuple[bytes, Entries]
#: ``(stream, capture_ns, raw entries)``.
Batch = tuple[bytes, int, Sequence[RawEntry]]


def named_entries(records: Iterable[Record]) -> Iterator[Named]:
    """The ENTRIES records of ``records``, each with its stream's name."""
    names: dict[int, bytes] = {}
    for record in records:
        if isinstance(record, Entries):
            yield names[record.stream_id], record
        elif isinstance(record, StreamDef):
            names[record.stream_id] = record.name


def first_round(batches: Iterator[Named], by_ids: bool) -> tuple[int | None, list[Named]]:
    """Where the timeline starts, in ns (None: no entry), and the batches read to tell
    (the first round's, and the first of the next, if any): with ``by_ids`` the earliest
    entry id (its ms) of the recorder's first round, else that round's capture time.
    Reading stops at the first batch of another round."""
    head: list[Named] = []
    first_ns: int | None = None
    start: int | None = None
    for batch in batches:
        head.append(batch)
        record = batch[1]
        if first_ns is None:
            first_ns = record.capture_ns
        elif record.capture_ns != first_ns:
            break
        if not by_ids:
            break
        ns = id_ms(record.entries[0][0]) * NS_PER_MS
        start = ns if start is None else min(start, ns)
    return (start if by_ids else first_ns), head


def batches_of(named: Iterator[Named], interleave: bool) -> Iterator[Batch]:
    """``(stream, capture_ns, raw_entries)`` per batch; with ``interleave``, the batches
    of one round (one capture time) merged into id order."""
    if not interleave:
        for stream, record in named:
            yield stream, record.capture_ns, record.entries
        return
    pending: list[Named] = []
    for batch in named:
        if pending and pending[0][1].capture_ns != batch[1].capture_ns:
            yield from _merged(pending)
            pending = []
        pending.append(batch)
    yield from _merged(pending)


def _merged(batches: list[Named]) -> Iterator[Batch]:
    if len(batches) == 1:
        stream, b = batches[0]
        yield stream, b.capture_ns, b.entries
        return
    if not batches:
        return
    # Several streams read in one round: interleave by entry id, one entry at a time.
    for i, entry in by_id([b.entries for _, b in batches]):
        stream, b = batches[i]
        yield stream, b.capture_ns, (entry,)


def events_merged(batches: Iterable[Batch], by_ids: bool, base: int | None) -> Timeline:
    """The events of interleaved batches, offsets from ``base`` (None: the first's)."""
    # One event per entry, made with tuple.__new__ (no Python-level __new__ call)
    # from the unpacked record's own tuples, which the reader has checked (ids well
    # formed, fields bytes in pairs).
    new = tuple.__new__
    for stream, capture_ns, raw in batches:
        for entry_id, flat in raw:
            t = int(entry_id.partition(b"-")[0]) * NS_PER_MS if by_ids else capture_ns
            if base is None:
                base = t
            t -= base
            yield new(Event, (t if t > 0 else 0, stream, flat, entry_id))


def event_runs(named: Iterator[Named], by_ids: bool, base: int | None, timed: bool) -> Iterator[Iterator[Event]]:
    """The events of batches not interleaved, an iterator of events per batch. Each
    batch's events are made by C-level calls from the columns the shape check made
    (ids, fields), so the check costs the replay little. Untimed, every offset is 0
    and no id is parsed."""
    make = partial(tuple.__new__, Event)
    if timed and by_ids and base is None:
        base, head = first_round(named, by_ids)
        named = chain(head, named)
    for stream, record in named:
        ids = record.ids
        if not timed:
            offsets: Any = repeat(0)
        elif by_ids:
            if base is None:
                base = int(ids[0].partition(b"-")[0]) * NS_PER_MS
            offsets = [int(i.partition(b"-")[0]) * NS_PER_MS - base for i in ids]
            if min(offsets) < 0:
                offsets = [t if t > 0 else 0 for t in offsets]
        else:
            if base is None:
                base = record.capture_ns
            offsets = repeat(max(record.capture_ns - base, 0), len(ids))
        yield map(make, zip(offsets, repeat(stream), record.flats, ids))


__all__ = [
    "TIME_BASES",
    "Batch",
    "Named",
    "TimeBase",
    "batches_of",
    "event_runs",
    "events_merged",
    "first_round",
    "named_entries",
]
