"""The recorder: tail Redis streams into an ``.xtape`` recording.

``record(url, path, RecordOptions([...]))`` discovers the streams (literal names and
globs, re-scanned while recording), resolves a concrete start cursor per stream,
backfills then tails them, detects entries trimmed before they were read (GAP records),
survives reconnects and server restarts, and stops on count, duration, idleness or a
stop event. It only reads from the server.
"""

from xtape.capture.journal import RecordStats, WarnFn
from xtape.capture.options import (
    RecordOptions,
    StartSpec,
    parse_count,
    parse_start,
)
from xtape.capture.progress import Progress, ProgressFn
from xtape.capture.readers import open_reader
from xtape.capture.recorder import Recorder, record
from xtape.capture.redact import Redactor

__all__ = [
    "Progress",
    "ProgressFn",
    "RecordOptions",
    "RecordStats",
    "Recorder",
    "Redactor",
    "StartSpec",
    "WarnFn",
    "open_reader",
    "parse_count",
    "parse_start",
    "record",
]
