"""What a user asks of a recording first: what is in it, over what time, and is it whole."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from xtape.ids import id_ms
from xtape.recording.reader import Entry, Recording
from xtape.recording.records import Entries, Gap, Marker, StreamDef
from xtape.recording.writer import is_being_written
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

    def gap_warning(self, consequence: str) -> str | None:
        """See :func:`gap_warning`."""
        return gap_warning(self.path, self.gaps, consequence)

    def truncation_warning(self) -> str | None:
        """See :func:`truncation_warning`."""
        return truncation_warning(self.path, self.truncated_bytes)

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
    """Read the whole recording once (constant memory) and summarize it. ``source`` is
    a path, ``"-"`` (standard input), a binary stream or an opened :class:`Recording`."""
    rec = source if isinstance(source, Recording) else Recording(source)
    writing = rec.path is not None and is_being_written(rec.path)
    info = RecordingInfo(
        path=rec.name,
        file_size=0,
        version=rec.header.version,
        tool=rec.header.tool,
        created_ns=rec.header.created_ns,
        source=rec.header.source,
        options=rec.header.options,
    )
    _summarize(rec, info)
    assert rec.summary is not None  # a full pass ended
    info.file_size = rec.summary.size
    info.truncated_bytes = rec.summary.truncated_bytes
    info.complete = rec.summary.complete
    # Taken before reading: a recorder that closed meanwhile wrote its END record.
    info.writing = writing and not info.complete
    return info


def _summarize(rec: Recording, info: RecordingInfo) -> None:
    names: dict[int, bytes] = {}
    for record in rec.records():
        if isinstance(record, Entries):
            name = names[record.stream_id]
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
