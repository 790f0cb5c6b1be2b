"""What a user asks of a recording first: what is in it, over what time, and is it whole."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from xtape.ids import id_ms
from xtape.recording.chunks import Summary
from xtape.recording.destination import is_being_written
from xtape.recording.reader import Entry, Recording
from xtape.recording.records import Entries, Gap, Marker, StreamDef
from xtape.recording.series import RunJoin
from xtape.timeline import bytes_to_json, display_name, fields_to_json
from xtape.units import plural


@dataclass
class StreamSummary:
    name: bytes
    entries: int = 0
    first_id: bytes | None = None
    last_id: bytes | None = None

    def rate(self, duration_s: float) -> float:
        return self.entries / duration_s if duration_s > 0 else 0.0


@dataclass
class RecordingInfo:
    """A summary of one recording file (see :func:`summarize`)."""

    path: str
    file_size: int
    version: int
    tool: str
    created_ns: int
    source: dict[str, Any]
    options: dict[str, Any]
    entries: int = 0
    streams: dict[bytes, StreamSummary] = field(default_factory=dict)
    first_ms: int | None = None
    last_ms: int | None = None
    first_capture_ns: int | None = None
    last_capture_ns: int | None = None
    gaps: list[tuple[bytes, Gap]] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    complete: bool = False
    truncated_bytes: int = 0
    #: A recorder holds the file's lock: it is still being written.
    writing: bool = False
    #: Format v2: where this came from: "stored" (the summaries at the files' ends,
    #: nothing else read) or "rebuilt" (no intact summary: every chunk was read);
    #: None for version 1.
    summary: str | None = None
    #: Files of a split recording (1 for a single file).
    files: int = 1
    #: Recorder runs a split recording holds (continued directories: more than 1).
    runs: int = 1
    #: Files of a split recording skipped as empty or headerless: ``(path, why)``.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: What was read to tell this: "summary" (format v2: the summaries, held against
    #: the heads and metas of the chunks, whose contents were not read), "summary and
    #: events" (besides, the gaps and markers against the chunks that hold them), "chunks" (every
    #: chunk read and its checksum verified) or "records" (format v1, which has no
    #: checksums: every record read).
    checked: str = "summary"
    #: The stored summaries these figures came from, one per file in time order (their
    #: chunk index tells the rate over time without reading an entry); empty unless
    #: ``summary`` is "stored" for every file.
    index: list[Summary] = field(default_factory=list, repr=False)

    @property
    def duration_s(self) -> float:
        """From the first to the last entry, by their ids (the producer's clock)."""
        if self.first_ms is None or self.last_ms is None:
            return 0.0
        return (self.last_ms - self.first_ms) / 1000

    @property
    def capture_span_s(self) -> float:
        """From the first to the last batch read, by the recorder's clock."""
        if self.first_capture_ns is None or self.last_capture_ns is None:
            return 0.0
        return (self.last_capture_ns - self.first_capture_ns) / 1e9

    @property
    def server(self) -> str:
        """The recorded server's name and version (``valkey 9.1.2``); files written
        before the name was kept say ``redis`` and its ``redis_version``."""
        src = self.source
        return str(src.get("server") or f"redis {src.get('server_version', '?')}")

    @property
    def gaps_detectable(self) -> bool:
        """False for a recording of a server before Redis 7.0, which does not count the
        entries added to a stream: trims there leave no trace, so no gap was looked for."""
        return self.source.get("gaps") != "undetectable"

    def gap_warning(self, consequence: str) -> str | None:
        """See :func:`gap_warning`."""
        return gap_warning(self.path, self.gaps, consequence)

    def truncation_warning(self) -> str | None:
        """See :func:`truncation_warning`; and the files of a split recording skipped
        as empty or headerless."""
        said = truncation_warning(self.path, self.truncated_bytes)
        if self.skipped:
            files = ", ".join(f"{Path(p).name} ({why})" for p, why in self.skipped)
            note = f"{self.path}: skipped {files}: a file with no recording in it (a rotation that failed?)"
            said = note if said is None else f"{said}; {note}"
        return said

    def id_clock_warning(self) -> str | None:
        """Why replaying by the entry ids' clock would mislead, if it would: ids set by
        producers (``1-1``, skewed clocks) can span far more than the recording took."""
        ids, captured = self.duration_s, self.capture_span_s
        if ids > captured + 60 and ids > 2 * captured:
            return (
                f"{self.path}: the entry ids span {ids:,.0f} s but the recording took "
                f"{captured:,.1f} s (ids set by producers?); replaying by the ids' clock "
                "follows that span: --clock capture replays with the recorder's timing"
            )
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``xtape info --json``)."""
        dur = self.duration_s
        return {
            "path": self.path,
            "file_size": self.file_size,
            "version": self.version,
            "tool": self.tool,
            "created": _iso_ns(self.created_ns),
            "source": self.source,
            "server": self.server,
            "gaps_detectable": self.gaps_detectable,
            "options": self.options,
            "entries": self.entries,
            "duration_s": round(dur, 3),
            "start": _iso_ms(self.first_ms),
            "end": _iso_ms(self.last_ms),
            "rate": round(self.entries / dur, 1) if dur > 0 else None,
            "streams": [
                {
                    "name": bytes_to_json(s.name),
                    "entries": s.entries,
                    "first_id": s.first_id.decode() if s.first_id else None,
                    "last_id": s.last_id.decode() if s.last_id else None,
                    "rate": round(s.rate(dur), 1) if dur > 0 else None,
                }
                for s in self.streams.values()
            ],
            "gaps": [
                {
                    "stream": bytes_to_json(name),
                    "after_id": g.after_id.decode(errors="replace"),
                    "before_id": g.before_id.decode(errors="replace"),
                    "lost": g.lost if g.lost >= 0 else None,
                    "time": _iso_ns(g.capture_ns),
                }
                for name, g in self.gaps
            ],
            "markers": [
                {"kind": m.kind, "text": m.text, "time": _iso_ns(m.capture_ns)}
                for m in self.markers
            ],
            "complete": self.complete,
            "writing": self.writing,
            "truncated_bytes": self.truncated_bytes,
            "summary": self.summary,
            "files": self.files,
            "runs": self.runs,
            "skipped": [{"path": p, "why": why} for p, why in self.skipped],
            "checked": self.checked,
        }


def gap_warning(
    path: str, gaps: Sequence[tuple[bytes, Gap]], consequence: str
) -> str | None:
    """One line about a recording's gaps (``None`` without any), ending in what they
    mean for the caller (``consequence``, e.g. "the replay cannot include them")."""
    if not gaps:
        return None
    known = [g.lost for _, g in gaps if g.lost >= 0]
    lost = plural(sum(known), "entry", "entries") + (" or more" if len(known) < len(gaps) else "")
    streams = sorted({display_name(name) for name, _ in gaps})
    return (
        f"{path}: the recording has {plural(len(gaps), 'gap')} "
        f"({lost} trimmed before they were recorded, on {', '.join(streams[:5])}"
        + (", ..." if len(streams) > 5 else "")
        + f"): {consequence} (xtape info lists them)"
    )


def truncation_warning(path: str, truncated_bytes: int) -> str | None:
    """One line about an incomplete last record, if there is one."""
    if not truncated_bytes:
        return None
    return f"{path}: the last {truncated_bytes} bytes are an incomplete record (skipped)"


def summarize(source: str | Path | BinaryIO | Recording) -> RecordingInfo:
    """Summarize a recording in constant memory. ``source`` is a path (a file, or a
    directory or glob of a split recording), ``"-"`` (standard input), a binary stream
    or an opened :class:`Recording`. Version-2 files closed cleanly are summarized from
    the summaries at their ends alone; anything else is read once, whole."""
    rec = source if isinstance(source, Recording) else Recording(source)
    parts = rec.parts if rec.parts is not None else [rec]
    last = parts[-1]
    writing = last.path is not None and is_being_written(last.path)
    info = RecordingInfo(
        path=rec.name,
        file_size=0,
        version=rec.header.version,
        tool=rec.header.tool,
        created_ns=rec.header.created_ns,
        source=rec.header.source,
        options=rec.header.options,
        files=len(parts),
    )
    info.skipped = [(str(path), why) for path, why in rec.skipped]
    info.runs = len(rec.boundaries) + 1
    stored = [part.stored_summary() for part in parts]
    if rec.parts is not None or all(s is not None for s in stored):
        # A split recording: the summaries of the closed files, and a reading of the
        # others only (the file being written, a damaged one).
        rebuilt = False
        complete = True
        join = RunJoin() if rec.boundaries else None
        when = 0
        for n, (part, summary) in enumerate(zip(parts, stored, strict=True)):
            boundary = rec.boundaries.get(n)
            if boundary is not None and join is not None:
                join.boundary()
                info.markers.append(boundary)
                when = boundary.capture_ns
            if summary is not None and part.path is not None:
                _from_summary(summary, info, join, when)
                info.file_size += part.path.stat().st_size
                continue
            _summarize(part, info, join, when)
            assert part.summary is not None
            info.file_size += part.summary.size
            info.truncated_bytes += part.summary.truncated_bytes
            rebuilt = rebuilt or part.summary.rebuilt
            complete = complete and part.summary.complete
        info.complete = complete
        info.summary = "rebuilt" if rebuilt else "stored"
        info.writing = writing and not info.complete
        if complete and not rebuilt:
            info.index = [s for s in stored if s is not None]
        if all(s is not None for s in stored):
            if all(part.events_checked for part in parts):
                info.checked = "summary and events"
        elif all(s is None for s in stored):
            info.checked = "chunks" if rec.header.version >= 2 else "records"
        return info
    _summarize(rec, info)
    info.checked = "chunks" if rec.header.version >= 2 else "records"
    assert rec.summary is not None  # a full pass ended
    info.file_size = rec.summary.size
    info.truncated_bytes = rec.summary.truncated_bytes
    info.complete = rec.summary.complete
    if rec.header.version >= 2:
        info.summary = "rebuilt" if rec.summary.rebuilt else "stored"
    # Taken before reading: a recorder that closed meanwhile wrote its END record.
    info.writing = writing and not info.complete
    return info


def _from_summary(
    summary: Summary, info: RecordingInfo, join: RunJoin | None = None, when: int = 0
) -> None:
    """Add one file's stored summary (files in time order); ``join``: the gaps at run
    boundaries, dated ``when``."""
    names: dict[int, bytes] = {}
    for sid, name, n, first, last in summary.streams:
        names[sid] = name
        if join is not None and n and first is not None and last is not None:
            _join_gap(info, join, when, sid, name, first, last)
        row = info.streams.get(name)
        if row is None:
            row = info.streams[name] = StreamSummary(name)
        row.entries += n
        info.entries += n
        if row.first_id is None:
            row.first_id = first
        if last is not None:
            row.last_id = last
    for chunk in summary.chunks:
        meta = chunk.meta
        if not meta.entries:
            continue
        info.first_ms = meta.min_ms if info.first_ms is None else min(info.first_ms, meta.min_ms)
        info.last_ms = meta.max_ms if info.last_ms is None else max(info.last_ms, meta.max_ms)
        if info.first_capture_ns is None:
            info.first_capture_ns = meta.first_capture_ns
        info.last_capture_ns = meta.last_capture_ns
    for sid, capture_ns, after, before, lost in summary.gaps:
        info.gaps.append((names.get(sid, b"?"), Gap(sid, capture_ns, after, before, lost)))
    for capture_ns, kind, text in summary.markers:
        info.markers.append(Marker(capture_ns, kind, text))


def _join_gap(
    info: RecordingInfo, join: RunJoin, when: int, sid: int, name: bytes, first: bytes, last: bytes
) -> None:
    between = join.read(name, first, last)
    if between is not None:
        info.gaps.append((name, Gap(sid, when, between[0], between[1], -1)))


def _summarize(
    rec: Recording, info: RecordingInfo, join: RunJoin | None = None, when: int = 0
) -> None:
    names: dict[int, bytes] = {}
    for record in rec.records():
        if isinstance(record, Entries):
            name = names[record.stream_id]
            if join is not None and record.entries:
                raw = record.entries
                _join_gap(info, join, when, record.stream_id, name, raw[0][0], raw[-1][0])
            summary = info.streams.get(name)
            if summary is None:
                summary = info.streams[name] = StreamSummary(name)
            raw = record.entries
            summary.entries += len(raw)
            info.entries += len(raw)
            if summary.first_id is None:
                summary.first_id = raw[0][0]
            summary.last_id = raw[-1][0]
            lo, hi = id_ms(raw[0][0]), id_ms(raw[-1][0])
            info.first_ms = lo if info.first_ms is None else min(info.first_ms, lo)
            info.last_ms = hi if info.last_ms is None else max(info.last_ms, hi)
            if info.first_capture_ns is None:
                info.first_capture_ns = record.capture_ns
            info.last_capture_ns = record.capture_ns
        elif isinstance(record, StreamDef):
            names[record.stream_id] = record.name
            info.streams.setdefault(record.name, StreamSummary(record.name))
        elif isinstance(record, Gap):
            info.gaps.append((names[record.stream_id], record))
        elif isinstance(record, Marker):
            info.markers.append(record)


def entry_to_json(entry: Entry) -> dict[str, Any]:
    """One entry as ``xtape cat`` prints it: text where UTF-8, else ``{"base64": ..}``."""
    return {
        "stream": bytes_to_json(entry.stream),
        "id": entry.id.decode("ascii", errors="replace"),
        "fields": fields_to_json(entry.fields),
        "time": _iso_ms(id_ms(entry.id)),
    }


#: The last millisecond a datetime can show (9999-12-31T23:59:59.999Z); producers may
#: set entry ids far beyond it.
_MAX_ISO_MS = 253_402_300_799_999


def _iso_ms(ms: int | None) -> str | None:
    """``ms`` since the epoch as ISO 8601 UTC, or None where a date cannot show it."""
    if ms is None or not 0 <= ms <= _MAX_ISO_MS:
        return None
    seconds, millis = divmod(ms, 1000)
    return _iso_second(seconds) + f".{millis:03d}Z"


def _iso_second(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).isoformat(timespec="seconds")[:-6]


def _iso_ns(ns: int) -> str | None:
    return _iso_ms(ns // 1_000_000) if ns else None
