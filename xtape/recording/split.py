"""Split and rolling recordings: a directory of numbered files read as one recording.

``SplitWriter`` writes ``DIR/000001.xtape``, ``DIR/000002.xtape``, ... starting a new
file when the current one reaches ``split_size`` bytes or has been written for
``split_duration`` seconds (only where a new recorder round starts, so one round is
never split). Each file is created exclusively (a name already taken, by anything, is
skipped for the next number: no file is ever opened twice) and its header names the
writer's series (a random id), its part number and the series it continues, if any
(see :mod:`xtape.recording.series`). A new writer continues the directory's newest
series when that one is finished (no recorder holds its last file) and recorded the
same streams from the same server; otherwise it starts a series of its own.

With ``keep_last`` it deletes the oldest files *of its own series and of the series
it continues* (known by their headers; never a symbolic link, never a file it cannot
read) as long as what stays still covers at least the last ``keep_last`` seconds: a
file is deleted only when the file after it started that long ago or earlier.

Every command reads the directory (or a glob of its files) as one recording: see
:class:`xtape.recording.Recording`.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from xtape.errors import RuntimeFailure
from xtape.recording.destination import is_being_written
from xtape.recording.records import RawEntry, SeriesTag
from xtape.recording.series import NUMBERED, Member, examine
from xtape.recording.writer import RecordingWriter

#: What must match for a new run to continue the directory's last one: the same
#: streams of the same server (the source), selected the same way (the options).
_SAME_SOURCE = ("url", "patterns")
_SAME_OPTIONS = ("patterns", "exclude", "redact", "redact_case")


def numbered_files(directory: Path) -> list[tuple[int, Path]]:
    """``(number, path)`` of the numbered names in ``directory`` (regular files, not
    links), in number order. A name says nothing of a file's series: see
    :mod:`xtape.recording.series`."""
    found = []
    for path in directory.iterdir():
        match = NUMBERED.match(path.name)
        if match and path.is_file() and not path.is_symlink():
            found.append((int(match.group(1)), path))
    return sorted(found)


class SplitWriter:
    """A :class:`RecordingWriter` that rotates into numbered files in a directory."""

    def __init__(
        self,
        directory: str | Path,
        *,
        split_size: int | None = None,
        split_duration: float | None = None,
        keep_last: float | None = None,
        now: Callable[[], float] = time.time,
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
        self.split_duration = split_duration
        self.keep_last = keep_last
        self._clock = now
        self._options = writer_options
        #: This writer's series id, and the series it continues (None: a new recording).
        self.series = uuid.uuid4().hex
        self._members: dict[tuple[str, int], Member | None] = {}
        members = self._scan()
        self.after = self._continued(members)
        #: The series whose files pruning may delete, oldest first: those this one
        #: continues, and this one.
        self._chain = [*reversed(self._ancestors(members)), self.series]
        ours = [int(m.group(1)) for p in members if (m := NUMBERED.match(p.path.name))]
        self._next = max(ours, default=0) + 1
        self._part = 0
        #: Files this writer created that were still there when it last opened one, in order.
        self.created: list[Path] = []
        #: When each file this writer created was started (its clock, seconds).
        self._starts: dict[Path, float] = {}
        self._closed_bytes = 0
        self._closed_entries = 0
        #: Files closed for the next one, and files deleted by ``keep_last_s``.
        self.rotations = self.deletions = 0
        self._last_capture: int | None = None
        self.closed = False
        self._writer = self._open()

    # -- the directory -----------------------------------------------------------------

    def _scan(self) -> list[Member]:
        """The files of the directory that belong to a series (headers read once per
        file: a header never changes)."""
        members = []
        seen: dict[tuple[str, int], Member | None] = {}
        for path in sorted(self.directory.iterdir()):
            if path.suffix != ".xtape":
                continue
            try:
                key = (path.name, path.lstat().st_ino)
            except OSError:
                continue
            member = seen[key] = (
                self._members[key] if key in self._members else examine(path)[0]
            )
            if member is not None:
                members.append(member)
        self._members = seen  # (files gone are forgotten)
        return members

    def _continued(self, members: list[Member]) -> str | None:
        """The series this run continues: the directory's newest, if it is finished and
        recorded the same streams; else None."""
        if not members:
            return None
        newest = max(members, key=lambda m: (m.header.created_ns, m.order))
        if is_being_written(newest.path):
            return None
        header = newest.header
        source = self._options.get("source") or {}
        options = self._options.get("options") or {}
        same = all(header.source.get(k) == source.get(k) for k in _SAME_SOURCE) and all(
            header.options.get(k) == options.get(k) for k in _SAME_OPTIONS
        )
        return newest.series if same else None

    def _ancestors(self, members: list[Member]) -> list[str]:
        after = {m.series: m.after for m in members}
        chain: list[str] = []
        series = self.after
        while series is not None and series not in chain:
            chain.append(series)
            series = after.get(series)
        return chain

    def _open(self) -> RecordingWriter:
        self._part += 1
        tag = SeriesTag(self.series, self._part, self.after)
        while True:
            path = self.directory / f"{self._next:06d}.xtape"
            self._next += 1
            try:
                writer = RecordingWriter(path, series=tag, exclusive=True, **self._options)
            except FileExistsError:
                continue  # taken (another recorder, a user's file, a link): the next one
            except BaseException:
                path.unlink(missing_ok=True)  # ours, empty or cut in its header: not left
                raise
            break
        # Files deleted since (by --keep-last) are forgotten: what a recorder running for
        # weeks remembers stays as small as its folder.
        self.created = [p for p in self.created if p.exists()]
        self._starts = {p: self._starts[p] for p in self.created}
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
    def file_bytes(self) -> int:
        """The size of the file being written now."""
        return self._writer.bytes_written

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
            self.split_duration is not None
            and self._clock() - self._started >= self.split_duration
        )

    def rotate(self) -> None:
        """Start the next file and close the current one (then apply ``keep_last``).
        The next is opened first, so that a file of a running series is always held
        (a recorder starting meanwhile never takes the series for a finished one)."""
        done, self._writer = self._writer, self._open()
        done.close()
        self._closed_bytes += done.bytes_written
        self._closed_entries += done.entries_written
        self.rotations += 1
        self.prune()

    def prune(self) -> list[Path]:
        """Delete the oldest files of this series and of the series it continues while
        the rest still cover ``keep_last``; returns the files deleted. A file's start
        is when this writer started it, else its header's creation time. Files of other
        series, links and files whose header cannot be read are never deleted (and do
        not stop the pruning)."""
        if self.keep_last is None:
            return []
        rank = {series: i for i, series in enumerate(self._chain)}
        members = sorted(
            (m for m in self._scan() if m.series in rank),
            key=lambda m: (rank[m.series], m.order),
        )
        horizon = self._clock() - self.keep_last
        deleted: list[Path] = []
        for older, newer in itertools.pairwise(members):
            if self._writer.path in (older.path, newer.path):
                break
            start = self._starts.get(newer.path, newer.header.created_ns / 1e9)
            if start > horizon:
                break
            try:
                older.path.unlink()
            except FileNotFoundError:
                continue
            except OSError:
                continue  # (read-only, or not ours to delete after all): the next one
            deleted.append(older.path)
        self.deletions += len(deleted)
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



def parse_split(size: str | None, duration: str | None) -> tuple[int | None, float | None]:
    """``--split-size`` and ``--split-duration`` (``record``, ``cut``): bytes and seconds."""
    from xtape import units

    return (
        None if size is None else units.parse_size(size, option="--split-size"),
        None if duration is None else units.parse_seconds(duration, option="--split-duration", positive=True),
    )
