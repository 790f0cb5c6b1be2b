"""``xtape check``: read every chunk of a recording, verify every checksum and the summary
against the chunks, and list each problem with its byte offset; ``repair`` writes what
is sound into a new file (as ``mcap doctor`` and ``mcap recover`` do for MCAP).

Unlike a reader, which stops at the first damage, the check goes on past it: a chunk
that is damaged is reported and skipped, and the reading resumes at the next sound frame
(a chunk or a summary whose checksum matches). Version-1 files have no frames to resume
at: their records are read up to the first damage.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgpack

from xtape.errors import DamagedRecording, UsageError
from xtape.recording.audit import Problem, Tally, index_problems
from xtape.recording.chunks import (
    CHUNK_HEAD,
    CHUNK_MAGIC,
    SUMMARY_HEAD,
    SUMMARY_MAGIC,
    TRAILER,
    ChunkMeta,
    Summary,
    check_chunk,
    chunk_lengths,
    frame_after,
    raw_pieces,
    read_trailer,
    unpackb,
)
from xtape.recording.destination import is_being_written
from xtape.recording.opening import why
from xtape.recording.read_v2 import chunk_records, summary_from
from xtape.recording.reader import Recording
from xtape.recording.records import End, Entries, Gap, Malformed, Marker, Record, StreamDef
from xtape.recording.writer import RecordingWriter

#: What :func:`check` hands a repair: each sound record with its stream's name (None for
#: a marker).
Keep = Callable[[Record, bytes | None], None]


@dataclass
class FileCheck:
    """What :func:`check` found in one file."""

    path: str
    version: int
    #: Chunks read whole and sound / all chunks seen (format v2).
    sound_chunks: int = 0
    chunks: int = 0
    #: Entries in what is sound.
    entries: int = 0
    #: "matches" (a summary that agrees with the chunks), "index" (its index agrees with
    #: the chunks' heads; their contents, damaged, could not be compared), "none",
    #: "damaged" or "wrong"; format v1: "matches" when it ends with its END record.
    summary: str = "none"
    problems: list[Problem] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems


@dataclass
class CheckReport:
    """:func:`check`'s findings, a file at a time (several for a split recording)."""

    name: str
    files: list[FileCheck]

    @property
    def sound(self) -> bool:
        return all(f.sound for f in self.files)


def check(source: str | Path, *, keep: Keep | None = None) -> CheckReport:
    """Check a recording (a file, or a split recording's directory or glob) to its end.
    ``keep`` is given every record of what is sound, in order. Raises
    :class:`RecordingError` only for what is not a recording at all."""
    rec = Recording(source)
    parts = rec.parts if rec.parts is not None else [rec]
    if rec.one_pass:
        rec.close()
        raise UsageError(f"{rec.name}: xtape check reads a file (not a pipe or standard input)")
    return CheckReport(rec.name, [_check_file(part, keep) for part in parts])


def _check_file(rec: Recording, keep: Keep | None) -> FileCheck:
    assert rec.path is not None
    found = FileCheck(rec.name, rec.header.version)
    if rec.header.version == 1:
        _check_v1(rec, found, keep)
    else:
        with open(rec.path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size:
                with mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ) as data:
                    _check_v2(rec, data, found, keep)
            else:
                found.problems.append((0, "the file is empty"))
    if is_being_written(rec.path):
        found.problems.append((0, "still being written: a recorder holds the file (check it once it is closed)"))
    return found


def _check_v1(rec: Recording, found: FileCheck, keep: Keep | None) -> None:
    names: dict[int, bytes] = {}
    try:
        for record in rec.records():
            if isinstance(record, StreamDef):
                names[record.stream_id] = record.name
            elif isinstance(record, Entries):
                found.entries += len(record.entries)
            if keep is not None and not isinstance(record, (StreamDef, End)):
                keep(record, names.get(record.stream_id) if isinstance(record, (Entries, Gap)) else None)
    except DamagedRecording as exc:
        found.problems.append((exc.offset, exc.reason + " (nothing after it can be read in format v1)"))
        return
    assert rec.summary is not None
    if rec.summary.truncated_bytes:
        found.problems.append(
            (rec.summary.size - rec.summary.truncated_bytes, f"the last {rec.summary.truncated_bytes} bytes are an incomplete record")
        )
    if rec.summary.end is None:
        found.problems.append((rec.summary.size, "no END record: the recorder did not stop cleanly"))
    else:
        found.summary = "matches"


def _check_v2(rec: Recording, data: mmap.mmap, found: FileCheck, keep: Keep | None) -> None:
    size = len(data)
    pos = rec.records_at
    tally = Tally()
    problems = found.problems
    while pos < size:
        magic = data[pos : pos + 4]
        if magic == CHUNK_MAGIC:
            found.chunks += 1
            nxt = _check_chunk(rec, data, pos, found, tally, keep)
        elif magic == SUMMARY_MAGIC:
            nxt = _check_summary(rec, data, pos, found, tally)
        else:
            problems.append((pos, "not the start of a chunk or of the summary"))
            nxt = frame_after(data, pos + 1)
        if nxt is None:
            break
        pos = nxt
    if found.summary == "none":
        problems.append((size, "no summary at the end: the recorder did not stop cleanly (or the file lost its end)"))


def _check_chunk(
    rec: Recording, data: mmap.mmap, pos: int, found: FileCheck, tally: Tally, keep: Keep | None
) -> int | None:
    """Check the chunk at ``pos``; where the next frame starts (None: nothing more)."""
    size = len(data)
    head = data[pos : pos + CHUNK_HEAD.size]
    if len(head) < CHUNK_HEAD.size:
        found.problems.append((pos, f"the last {size - pos} bytes are an incomplete chunk"))
        return None
    try:
        code, meta_len, data_len, raw_len = chunk_lengths(head)
    except Malformed as exc:
        found.problems.append((pos, str(exc)))
        return frame_after(data, pos + 4)
    end = pos + CHUNK_HEAD.size + meta_len + data_len
    if end > size:
        nxt = frame_after(data, pos + 4)
        if nxt is None:
            found.problems.append((pos, f"the last {size - pos} bytes are an incomplete chunk (the recorder stopped mid-write?)"))
        else:
            found.problems.append((pos, f"a chunk's length runs past the end of the file, but a sound frame follows at byte {nxt} (the length is wrong)"))
        return nxt
    meta_bytes = data[pos + CHUNK_HEAD.size : pos + CHUNK_HEAD.size + meta_len]
    stored = data[pos + CHUNK_HEAD.size + meta_len : end]
    try:
        check_chunk(head, meta_bytes, stored)
        meta = ChunkMeta.decode(unpackb(meta_bytes))
        defined = dict(meta.streams)
        records = list(chunk_records(rec.name, raw_pieces(code, stored, raw_len), pos, defined))
    except DamagedRecording as exc:
        found.problems.append((pos, exc.reason))
        return _next_frame(data, pos, end)
    except (Malformed, ValueError, TypeError, msgpack.UnpackException) as exc:
        found.problems.append((pos, why(exc)))
        return _next_frame(data, pos, end)
    found.sound_chunks += 1
    tally.streams_of(meta)
    for record in records:
        tally.add(record)
        if isinstance(record, Entries):
            found.entries += len(record.entries)
        if keep is not None and not isinstance(record, (StreamDef, End)):
            keep(record, defined[record.stream_id] if isinstance(record, (Entries, Gap)) else None)
    return end


def _next_frame(data: mmap.mmap, pos: int, end: int) -> int | None:
    """After a damaged chunk: its end, if a frame starts there (only its contents were
    wrong: the next one is checked in turn), else the next sound frame."""
    if end == len(data) or data[end : end + 4] in (CHUNK_MAGIC, SUMMARY_MAGIC):
        return end
    return frame_after(data, pos + 4)


def _check_summary(rec: Recording, data: mmap.mmap, pos: int, found: FileCheck, tally: Tally) -> int | None:
    size = len(data)
    head = data[pos : pos + SUMMARY_HEAD.size]
    length = SUMMARY_HEAD.unpack(head)[1] if len(head) == SUMMARY_HEAD.size else size
    end = pos + SUMMARY_HEAD.size + length
    try:
        summary: Summary = summary_from(data[pos:end] if end <= size else b"")
    except Malformed as exc:
        found.summary = "damaged"
        found.problems.append((pos, f"the summary: {exc}"))
        return frame_after(data, pos + 4)
    tail = data[end : end + TRAILER.size]
    where = read_trailer(tail)
    if where != (pos, end - pos):
        found.summary = "damaged"
        found.problems.append((end, "no sound trailer after the summary (the file lost its end?)"))
        return frame_after(data, pos + 4)
    wrong = index_problems(lambda at, n: data[at : at + n], summary, rec.records_at, pos)
    if wrong:
        found.summary = "wrong"
    elif found.sound_chunks < found.chunks:  # (the damaged chunks were reported)
        found.summary = "index"
    else:
        wrong = tally.problems(summary, pos)
        found.summary = "wrong" if wrong else "matches"
    found.problems += wrong
    if end + TRAILER.size < size:
        found.problems.append((end + TRAILER.size, f"{size - end - TRAILER.size} bytes after the trailer"))
    return None


@dataclass
class RepairStats:
    entries: int
    records: int


def repair(source: str | Path, output: Path) -> tuple[CheckReport, RepairStats]:
    """Check ``source`` (one file) and write what is sound into ``output``, a new
    version-2 recording with the same header source and options and a summary of its
    own. The caller decides whether ``output`` may be replaced; it is never an input."""
    rec = Recording(source)
    if rec.parts is not None or rec.path is None:
        rec.close()
        raise UsageError(f"{source}: --repair takes one recording file (not a directory, a glob or a pipe)")
    if output.exists() and output.resolve() == rec.path.resolve():
        raise UsageError(f"{output} is the recording being checked; write the repaired copy elsewhere")
    stats = RepairStats(0, 0)
    with RecordingWriter(output, source=rec.header.source, options=rec.header.options) as writer:

        def keep(record: Record, name: bytes | None) -> None:
            stats.records += 1
            if isinstance(record, Entries) and name is not None:
                writer.write_entries(name, list(record.entries), record.capture_ns)
                stats.entries += len(record.entries)
            elif isinstance(record, Gap) and name is not None:
                writer.write_gap(name, record.after_id, record.before_id, record.lost, record.capture_ns)
            elif isinstance(record, Marker):
                writer.write_marker(record.kind, record.text, record.capture_ns)

        report = check(source, keep=keep)
    return report, stats


def problem_lines(report: CheckReport) -> Iterator[str]:
    """One line per problem: ``FILE: byte N: what``."""
    for f in report.files:
        for at, what in f.problems:
            yield f"{f.path}: byte {at}: {what}"


__all__ = ["CheckReport", "FileCheck", "RepairStats", "check", "problem_lines", "repair"]
