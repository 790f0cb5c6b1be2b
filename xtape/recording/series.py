"""Which files of a directory (or a glob) are one recording: series and runs.

A split recorder (``xtape record -o DIR/ --split-size/--split-duration``) writes numbered
files, and every file's header carries a series tag (``SeriesTag``): the random id
of that recorder run, the file's part number in it and, when the run continued the
directory's previous run of the same streams, that run's id (``after``). A series is
known by these headers, never by the digits of a name, so:

* a directory (or glob) is **one recording** when its ``*.xtape`` files are the parts of
  one series, or of runs that continue each other in one chain (each run's ``after``
  the one before it); later runs are read after earlier ones, and each run boundary
  adds a ``run`` marker and, per stream the next run recorded, a gap from the last id
  before the boundary to the first id after it (:class:`RunJoin`);
* anything else in it (a file of another series, a recording of its own, a symbolic
  link, a file that is not a recording) makes it *not* one recording: reading refuses
  with one line naming them (:class:`NotOneRecording`), unless one series is asked for
  (``series=``, the CLI's ``--series``);
* an empty or headerless numbered file (a rotation that failed on a full disk, a
  recorder killed as it created a file) is skipped and reported, not read;
* files written before series tags (numbered ``NNNNNN.xtape`` files whose header holds
  the recorder's split options) are one series named ``legacy``, in name order.
"""

from __future__ import annotations

import contextlib
import glob as globbing
import os
import re
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from xtape.errors import RecordingError
from xtape.ids import id_key
from xtape.recording.records import (
    MAGIC,
    SUPPORTED_VERSIONS,
    Header,
    Malformed,
    Marker,
)

#: The series id given to numbered files written before series tags existed.
LEGACY = "legacy"
#: How a split file is named (the number orders nothing: the header's part does).
NUMBERED = re.compile(r"^(\d{6,})\.xtape$")
#: The bytes read for a header first (it is a few hundred bytes), and at most.
_HEAD_FIRST = 16 << 10
_HEAD_LIMIT = 1 << 20
_GLOB_CHARS = frozenset("*?[")
#: The marker kind at a run boundary.
RUN_MARKER = "run"

_selected: ContextVar[str | None] = ContextVar("xtape_series", default=None)


@contextlib.contextmanager
def reading_series(series: str | None) -> Iterator[None]:
    """Within the block, a directory or glob opened as a recording reads only the
    series ``series`` (an id or a unique prefix of one; ``None``: all, as one)."""
    token = _selected.set(series)
    try:
        yield
    finally:
        _selected.reset(token)


def selected_series() -> str | None:
    """The series :func:`reading_series` asked for, if any."""
    return _selected.get()


def short(series: str) -> str:
    """A series id as messages show it (the first 8 characters)."""
    return series[:8]


@dataclass(frozen=True, slots=True)
class Member:
    """A file of a series."""

    path: Path
    header: Header

    @property
    def series(self) -> str:
        return self.header.series.id if self.header.series is not None else LEGACY

    @property
    def after(self) -> str | None:
        return self.header.series.after if self.header.series is not None else None

    @property
    def order(self) -> tuple[int, str]:
        if self.header.series is not None:
            return (self.header.series.part, self.path.name)
        match = NUMBERED.match(self.path.name)
        return (int(match.group(1)) if match else 0, self.path.name)


@dataclass
class Run:
    """The files of one series (one recorder run), in part order."""

    id: str
    files: list[Member] = field(default_factory=list)

    @property
    def after(self) -> str | None:
        return next((m.after for m in self.files if m.after is not None), None)

    @property
    def created_ns(self) -> int:
        return self.files[0].header.created_ns


@dataclass
class Layout:
    """What a directory or glob holds, by the files' headers."""

    name: str
    runs: dict[str, Run] = field(default_factory=dict)
    #: Files that are not of a series: ``(path, why)``.
    foreign: list[tuple[Path, str]] = field(default_factory=list)
    #: Empty or headerless numbered files (a failed rotation): ``(path, why)``.
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def chain(self) -> list[Run] | None:
        """The runs as one recording, oldest first; None if they are not one chain."""
        if not self.runs:
            return None
        roots = [r for r in self.runs.values() if r.after is None or r.after not in self.runs]
        if len(roots) != 1:
            return None
        following: dict[str, list[Run]] = {}
        for run in self.runs.values():
            if run.after is not None:
                following.setdefault(run.after, []).append(run)
        order = [roots[0]]
        while len(following.get(order[-1].id, ())) == 1:
            order.append(following[order[-1].id][0])
        return order if len(order) == len(self.runs) else None

    def find(self, series: str) -> Run:
        """The run ``series`` names (an id or a unique prefix), or a one-line error."""
        if series in self.runs:
            return self.runs[series]
        hits = [run for ident, run in self.runs.items() if ident.startswith(series)]
        if len(hits) == 1:
            return hits[0]
        known = ", ".join(short(i) for i in self.runs) or "none"
        what = "several series" if hits else "no series"
        raise RecordingError(self.name, f"{what} {series!r} here (series: {known})")

    def problem(self) -> str:
        """Why this is not one recording, naming what is in it (one line)."""
        said = []
        if len(self.runs) > 1:
            runs = ", ".join(
                f"{short(r.id)} ({len(r.files)} file{'s' * (len(r.files) != 1)})"
                for r in sorted(self.runs.values(), key=lambda r: r.created_ns)
            )
            said.append(f"{len(self.runs)} unrelated series: {runs}")
        elif self.runs:
            (run,) = self.runs.values()
            said.append(f"series {short(run.id)} ({len(run.files)} files)")
        if self.foreign:
            files = ", ".join(f"{p.name} ({why})" for p, why in self.foreign[:6])
            more = ", ..." if len(self.foreign) > 6 else ""
            said.append(f"{len(self.foreign)} file{'s' * (len(self.foreign) != 1)} of no series: {files}{more}")
        if not said:
            files = ", ".join(f"{p.name} ({why})" for p, why in self.skipped[:6])
            return f"no recording in it, only files with none: {files}"
        hint = "read one series with --series ID, or name a file" if self.runs else "name a file"
        return f"not one recording: it holds {' and '.join(said)}; {hint}"


class NotOneRecording(RecordingError):
    """A directory or glob whose files are not one recording (see :class:`Layout`)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        super().__init__(layout.name, layout.problem())


@dataclass(frozen=True)
class Selection:
    """The files read as one recording, in order."""

    paths: list[Path]
    #: Where a later run begins: index in ``paths`` -> its ``run`` marker.
    boundaries: dict[int, Marker]
    skipped: list[tuple[Path, str]]


def candidates(source: str | Path) -> list[Path] | None:
    """The ``*.xtape`` names of a directory, or what a glob matches, in name order
    (symbolic links included: they are told apart later); None for anything else."""
    path = Path(source)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix == ".xtape" and _file_or_link(p))
        if not found:
            raise RecordingError(str(source), "a directory without recordings (*.xtape)")
        return found
    text = str(source)
    if not path.exists() and not path.is_symlink() and _GLOB_CHARS & set(text):
        found = sorted(Path(p) for p in globbing.glob(text) if _file_or_link(Path(p)))
        if not found:
            raise RecordingError(text, "no file matches this pattern")
        return found
    return None


def _file_or_link(path: Path) -> bool:
    return path.is_symlink() or path.is_file()


def scan(name: str, paths: list[Path]) -> Layout:
    """Sort ``paths`` into series by their headers (see the module's docstring)."""
    layout = Layout(name)
    for path in paths:
        member, why = examine(path)
        if member is not None:
            layout.runs.setdefault(member.series, Run(member.series)).files.append(member)
        elif why.startswith("empty") or why.startswith("no complete header"):
            (layout.skipped if NUMBERED.match(path.name) else layout.foreign).append((path, why))
        else:
            layout.foreign.append((path, why))
    for run in layout.runs.values():
        run.files.sort(key=lambda m: m.order)
    return layout


def examine(path: Path) -> tuple[Member | None, str]:
    """``(member, "")`` for a file of a series, else ``(None, why it is not one)``.
    Never follows a symbolic link."""
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            return None, "a symbolic link"
        if not stat.S_ISREG(st.st_mode):
            return None, "not a regular file"
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            head = os.read(fd, _HEAD_FIRST)
            header, why = _header(head) if head else (None, "empty")
            if why.startswith("no complete header") and st.st_size > len(head):
                head += os.read(fd, _HEAD_LIMIT - len(head))  # a large header
                header, why = _header(head)
        finally:
            os.close(fd)
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"
    if header is None:
        return None, why
    if header.series is not None:
        return Member(path, header), ""
    options = header.options
    if NUMBERED.match(path.name) and ("split_size" in options or "split_duration_s" in options):
        return Member(path, header), ""
    return None, "a recording of its own"


def _header(head: bytes) -> tuple[Header | None, str]:
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=_HEAD_LIMIT)
    unpacker.feed(head)
    try:
        obj: Any = next(unpacker)
    except StopIteration:
        if head[0] in (0xDE, 0xDF) or 0x80 <= head[0] <= 0x8F:
            return None, "no complete header (cut short)"
        return None, "not a recording"
    except (ValueError, TypeError, msgpack.UnpackException):
        return None, "not a recording"
    if not isinstance(obj, dict) or obj.get("magic") != MAGIC:
        return None, "not a recording"
    if obj.get("version") not in SUPPORTED_VERSIONS:
        return None, f"format version {obj.get('version')!r}, not readable here"
    try:
        return Header.decode(obj), ""
    except (Malformed, KeyError) as exc:
        return None, f"a damaged header ({exc})"


def select(source: str | Path, series: str | None = None) -> Selection | None:
    """The files of ``source`` (a directory or a glob) to read as one recording, or
    None when ``source`` names one file. ``series`` (default: what
    :func:`reading_series` set) reads that series alone. Raises
    :class:`NotOneRecording` when the files are not one recording."""
    paths = candidates(source)
    if paths is None:
        return None
    layout = scan(str(source), paths)
    series = series if series is not None else selected_series()
    if series is not None:
        runs = [layout.find(series)]
    else:
        chain = layout.chain() if not layout.foreign else None
        if chain is None:
            raise NotOneRecording(layout)
        runs = chain
    files: list[Path] = []
    boundaries: dict[int, Marker] = {}
    for before, run in zip([None, *runs], runs, strict=False):
        if before is not None:
            boundaries[len(files)] = Marker(
                run.created_ns,
                RUN_MARKER,
                f"a new recorder run (series {short(run.id)}) continues series "
                f"{short(before.id)}: entries added in between were not recorded",
            )
        files += [m.path for m in run.files]
    if not files:
        raise RecordingError(str(source), "no file of a series to read")
    return Selection(files, boundaries, layout.skipped)


class RunJoin:
    """The gaps at run boundaries: the last id of each stream read so far, and after
    a boundary, a gap to the first id the next run recorded of each of them."""

    def __init__(self) -> None:
        self.last: dict[bytes, bytes] = {}
        self._waiting: set[bytes] = set()

    def boundary(self) -> None:
        """A new run begins here."""
        self._waiting = set(self.last)

    def read(self, stream: bytes, first_id: bytes, last_id: bytes) -> tuple[bytes, bytes] | None:
        """Entries ``first_id .. last_id`` of ``stream`` were read next: the
        ``(after_id, before_id)`` of the gap before them, if a boundary left one."""
        gap = None
        if stream in self._waiting:
            self._waiting.discard(stream)
            before = self.last[stream]
            if id_key(first_id) > id_key(before):
                gap = (before, first_id)
        self.last[stream] = last_id
        return gap
