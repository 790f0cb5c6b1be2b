"""The ``.xtape`` recording format: records, a streaming writer and reader, summaries.

Nothing here talks to Redis; see ``docs/format.md`` for the format itself.
"""

from xtape.recording.info import RecordingInfo, entry_to_json, summarize
from xtape.recording.reader import (
    TIME_BASES,
    Entry,
    ReadSummary,
    Recording,
    TimeBase,
    has_recording_header,
)
from xtape.recording.records import (
    VERSION,
    End,
    Entries,
    Gap,
    Header,
    Marker,
    StreamDef,
    Tag,
    is_recording_head,
)
from xtape.recording.writer import RecordingWriter

__all__ = [
    "TIME_BASES",
    "VERSION",
    "End",
    "Entries",
    "Entry",
    "Gap",
    "Header",
    "Marker",
    "ReadSummary",
    "Recording",
    "RecordingInfo",
    "RecordingWriter",
    "StreamDef",
    "Tag",
    "TimeBase",
    "entry_to_json",
    "has_recording_header",
    "is_recording_head",
    "summarize",
]
