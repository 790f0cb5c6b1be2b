"""The file a recorder writes: one recording, or with ``--split-size``/``--split-duration``
a series of numbered files in a directory; its header says where the entries come from
(the server, the patterns, a cluster's shape) and how they were recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xtape.capture.options import RecordOptions
from xtape.capture.server_reader import StreamReader, reports_trims
from xtape.capture.snapshot import Snapshots
from xtape.observe.events import RecordEvents
from xtape.recording.split import SplitWriter
from xtape.recording.writer import RecordingWriter


def open_writer(
    path: Path,
    opt: RecordOptions,
    reader: StreamReader,
    shown_url: str,
    observer: RecordEvents | None = None,
) -> RecordingWriter | SplitWriter | Snapshots:
    """The writer of ``path``, its header saying what ``source`` (``shown_url``) is; with --split-size/--split-duration, numbered files in a
    directory (rotated, and pruned by --keep-last)."""
    described = reader.describe()
    options: dict[str, Any] = {
        "source": {
            "url": shown_url,
            "server_version": reader.version,
            "server": reader.server,
            **({} if reports_trims(reader.version) else {"gaps": "undetectable"}),
            "patterns": list(opt.patterns),
            **({"cluster": described} if described.get("kind") == "cluster" else {}),
        },
        "options": opt.header(),
        "fsync": opt.fsync,
        "background": True,
        "compression": opt.compression,
        "on_entries": None if observer is None else observer.written,
    }
    if opt.snapshots is not None:
        return opt.snapshots.open(
            options,
            on_entries=None if observer is None else observer.written,
            on_held=None if observer is None else observer.buffered,
            on_written=None if observer is None else observer.snapshot,
        )
    if opt.split:
        return SplitWriter(
            path,
            split_size=opt.split_size,
            split_duration=opt.split_duration,
            keep_last=opt.keep_last,
            **options,
        )
    return RecordingWriter(path, **options)
