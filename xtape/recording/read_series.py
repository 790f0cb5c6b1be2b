"""The reader of a split recording: the files of a series (a directory or a glob, chosen
by :func:`xtape.recording.series.select`) read as one recording.

Stream ids are made common across the files; at each run boundary come the run's
marker and, per stream, a gap before its first entries of the new run
(:class:`~xtape.recording.series.RunJoin`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import chain
from typing import Protocol

from xtape.recording.opening import Bounds, Pass, ReadSummary
from xtape.recording.records import End, Entries, Gap, Marker, Record, StreamDef
from xtape.recording.series import RunJoin


class Part(Protocol):
    """One file of the series (a :class:`~xtape.recording.Recording`)."""

    summary: ReadSummary | None

    def records(self, *, bounds: Bounds | None = None) -> Iterator[Record]: ...

    def markers(self) -> list[Marker]: ...


class SeriesReader:
    """The files of a split recording, in reading order, and where later runs begin
    (``boundaries``: index in ``parts`` to the run's marker)."""

    def __init__(self, parts: Sequence[Part], boundaries: dict[int, Marker]) -> None:
        self.parts = parts
        self.boundaries = boundaries

    def records(self, bounds: Bounds | None = None) -> Pass:
        """The records of every file, stream ids made common, with the runs joined."""
        ids: dict[bytes, int] = {}
        join = RunJoin()
        named: dict[int, bytes] = {}
        summaries: list[ReadSummary] = []
        gaps: list[tuple[bytes, Gap]] = []
        for n, part in enumerate(self.parts):
            local: dict[int, int] = {}
            boundary = self.boundaries.get(n)
            if boundary is not None:
                join.boundary()
                yield boundary
            for record in part.records(bounds=bounds):
                if isinstance(record, StreamDef):
                    gid = ids.get(record.name)
                    if gid is None:
                        gid = ids[record.name] = len(ids)
                        yield StreamDef(gid, record.name)
                    local[record.stream_id] = gid
                    named[gid] = record.name
                elif isinstance(record, (Entries, Gap)):
                    gid = local[record.stream_id]
                    if isinstance(record, Entries) and self.boundaries:
                        gap = self._run_gap(join, n, gid, named[gid], record)
                        if gap is not None:
                            gaps.append((named[gid], gap))
                            yield gap
                    yield record if gid == record.stream_id else replace(record, stream_id=gid)
                elif not isinstance(record, End):
                    yield record
            assert part.summary is not None
            summaries.append(part.summary)
            gaps += part.summary.gaps
        return _joined(summaries, gaps)

    def _run_gap(self, join: RunJoin, n: int, gid: int, name: bytes, record: Entries) -> Gap | None:
        """The gap before a stream's first entries of a later run (file ``n``), if any."""
        between = join.read(name, record.entries[0][0], record.entries[-1][0])
        if between is None:
            return None
        when = self.boundaries[max(b for b in self.boundaries if b <= n)]
        return Gap(gid, when.capture_ns, between[0], between[1], -1)

    def markers(self) -> list[Marker]:
        """Every file's markers, each run's marker before its first file's."""
        return [
            m
            for n, part in enumerate(self.parts)
            for m in chain((self.boundaries[n],) if n in self.boundaries else (), part.markers())
        ]


def _joined(summaries: list[ReadSummary], gaps: list[tuple[bytes, Gap]]) -> ReadSummary:
    """What a pass over every file found: closed cleanly when each file was."""
    ends = [s.end for s in summaries]
    last = ends[-1] if ends and all(e is not None for e in ends) else None
    if last is not None:
        last = End(last.capture_ns, sum(e.entries for e in ends if e is not None))
    return ReadSummary(
        sum(s.size for s in summaries),
        sum(s.truncated_bytes for s in summaries),
        last,
        tuple(gaps),
        rebuilt=any(s.rebuilt for s in summaries),
    )


__all__ = ["Part", "SeriesReader"]
