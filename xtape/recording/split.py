"""Split and rolling recordings: a directory of numbered files read as one recording.

``SplitWriter`` writes ``DIR/000001.xtape``, ``DIR/000002.xtape``, ... starting a new
file when the current one reaches ``split_size`` bytes or has been written for
``split_duration_s`` seconds (only where a new recorder round starts, so one round is
never split). With ``keep_last_s`` it deletes the oldest files of the directory as long
as what stays still covers at least the last ``keep_last_s`` seconds: a file is deleted
only when the file after it started that long ago or earlier.

Every command reads the directory (or a glob of its files) as one recording: see
:class:`xtape.recording.Recording`.
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from xtape.errors import RecordingError, RuntimeFailure
from xtape.recording.reader import Recording
from xtape.recording.records import RawEntry
from xtape.recording.writer import RecordingWriter

_NUMBERED = re.compile(r"^(\d{6,})\.xtape$")


def numbered_files(directory: Path) -> list[tuple[int, Path]]:
    """``(number, path)`` of the numbered recordings in ``directory``, oldest first."""
    found = []
    for path in directory.iterdir():
        match = _NUMBERED.match(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


class SplitWriter:
    """A :class:`RecordingWriter` that rotates into numbered files in a directory."""

    def __init__(
        self,
        directory: str | Path,
        *,
        split_size: int | None = None,
        split_duration_s: float | None = None,
        keep_last_s: float | None = None,
        clock: Any = time.time,
        **writer_options: Any,
    ) -> None:
        self.directory = Path(directory)
        self.name = str(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RuntimeFailure(f"cannot write {self.name}: {exc.strerror or exc}") from None
        if not self.directory.is_dir():
            raise RuntimeFailure(f"cannot write {self.name}: not a directory")
        self.split_size = split_size
        self.split_duration_s = split_duration_s
        self.keep_last_s = keep_last_s
        self._clock = clock
        self._options = writer_options
        existing = numbered_files(self.directory)
        self._next = existing[-1][0] + 1 if existing else 1
        #: Files this writer created, in order.
        self.created: list[Path] = []
        #: When each file this writer created was started (its clock, seconds).
        self._starts: dict[Path, float] = {}
        self._closed_bytes = 0
        self._closed_entries = 0
        self._last_capture: int | None = None
        self.closed = False
        self._writer = self._open()

    def _open(self) -> RecordingWriter:
        path = self.directory / f"{self._next:06d}.xtape"
        self._next += 1
        writer = RecordingWriter(path, **self._options)
        self.created.append(path)
        self._started = self._starts[path] = self._clock()
        return writer

    @property
    def path(self) -> Path | None:
        """The file being written now."""
        return self._writer.path

    @property
    def bytes_written(self) -> int:
        return self._closed_bytes + self._writer.bytes_written

    @property
    def entries_written(self) -> int:
        return self._closed_entries + self._writer.entries_written

    @property
    def files(self) -> list[Path]:
        """The numbered files of the directory now, oldest first."""
        return [path for _, path in numbered_files(self.directory)]

    def _due(self) -> bool:
        if self.split_size is not None and self._writer.bytes_written >= self.split_size:
            return True
        return (
            self.split_duration_s is not None
            and self._clock() - self._started >= self.split_duration_s
        )

    def rotate(self) -> None:
        """Close the current file and start the next one (then apply ``keep_last_s``)."""
        self._writer.close()
        self._closed_bytes += self._writer.bytes_written
        self._closed_entries += self._writer.entries_written
        self._writer = self._open()
        self.prune()

    def prune(self) -> list[Path]:
        """Delete the oldest files while the rest still cover ``keep_last_s``; returns
        the files deleted. A file's start is when this writer started it, or for
        files found in the directory, its header's creation time."""
        if self.keep_last_s is None:
            return []
        files = [path for _, path in numbered_files(self.directory)]
        horizon = self._clock() - self.keep_last_s
        deleted: list[Path] = []
        for older, newer in itertools.pairwise(files):
            if newer == self._writer.path or older == self._writer.path:
                break
            start = self._starts.get(newer)
            if start is None:
                try:
                    start = Recording(newer).header.created_ns / 1e9
                except RecordingError:
                    break
            if start > horizon:
                break
            older.unlink(missing_ok=True)
            deleted.append(older)
        return deleted

    # -- the writer's interface --------------------------------------------------------

    def write_entries(self, stream: bytes, entries: list[RawEntry], capture_ns: int) -> None:
        if capture_ns != self._last_capture and self._last_capture is not None and self._due():
            self.rotate()
        self._last_capture = capture_ns
        self._writer.write_entries(stream, entries, capture_ns)

    def write_gap(
        self, stream: bytes, after_id: bytes, before_id: bytes, lost: int, capture_ns: int
    ) -> None:
        self._writer.write_gap(stream, after_id, before_id, lost, capture_ns)

    def write_marker(self, kind: str, text: str, capture_ns: int | None = None) -> None:
        self._writer.write_marker(kind, text, capture_ns)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._writer.close()
        self.prune()

    def remove_created(self) -> None:
        """Delete the files this writer created (a recording that failed empty)."""
        for path in self.created:
            path.unlink(missing_ok=True)

    def __enter__(self) -> SplitWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()



_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}


def parse_size(text: str, *, option: str) -> int:
    """``256MiB``, ``1GB``, ``500k``, ``1048576`` as bytes (KiB/MiB/GiB are powers of
    1024, kB/MB/GB of 1000)."""
    from xtape.errors import UsageError

    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"{option}: {text!r} is not a size (e.g. 256MiB, 1GB, 500000)")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    base = unit[:1] if unit not in ("b", "") else ""
    scale = 1024 ** ("kmgt".index(base) + 1) if "i" in unit else _UNITS[base]
    size = int(number * scale)
    if size <= 0:
        raise UsageError(f"{option} must be more than 0 bytes")
    return size
