"""What every reader of one ``.xtape`` file shares: opening it, its header, a record's
shape check, and what a full pass found (:class:`ReadSummary`).

A :class:`FileReader` is opened on a file or a stream whose header has been read (a
:class:`Pass`); :mod:`.read_v1` and :mod:`.read_v2` read the records after it, each
as a generator that returns its :class:`ReadSummary` when it ends.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import msgpack

from xtape.errors import DamagedRecording, RecordingError
from xtape.recording.chunks import Summary
from xtape.recording.records import (
    DECODERS,
    MAGIC,
    SUPPORTED_VERSIONS,
    End,
    Entries,
    Gap,
    Header,
    Malformed,
    Record,
    StreamDef,
    Tag,
)

#: The largest single record accepted (a batch of entries with large values).
MAX_RECORD_BYTES = 1 << 30
#: The most elements an array may declare (an array is allocated before its elements
#: are read, so a damaged length must not ask for gigabytes).
MAX_ARRAY_ITEMS = 1 << 24
#: The most keys a map (only in the header) may declare.
MAX_MAP_KEYS = 1 << 16
READ_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class ReadSummary:
    """What a full pass over a recording found besides its records.

    ``size`` is the bytes read; ``truncated_bytes`` of them, at the end, were an
    incomplete record (a recorder killed mid-write) and were skipped; ``end`` is the
    END record a clean close writes, if there was one; ``gaps`` are the pass's gap
    records with their streams' names.
    """

    size: int
    truncated_bytes: int
    end: End | None
    gaps: tuple[tuple[bytes, Gap], ...] = ()
    #: Format v2: the file had no intact summary at its end (a recorder killed, a lost
    #: tail), so what is known about it came from reading every chunk.
    rebuilt: bool = False

    @property
    def complete(self) -> bool:
        return self.end is not None


#: Absolute bounds of a seek: ``(lo, hi, by_ids)``, times in ns on the clock the
#: timeline follows (entry ids' ms as ns, or capture ns); either bound may be None.
Bounds = tuple[int | None, int | None, bool]

#: The records of one pass, and what it found when it ends.
Pass = Generator[Record, None, ReadSummary]


class Counted:
    """A reader that counts the bytes it hands out, and returns what a pipe has
    (``read1``) rather than waiting for a full buffer, so a live stream reads live."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.total = 0
        self._read: Callable[[int], bytes] = getattr(fh, "read1", fh.read)

    def read(self, n: int) -> bytes:
        data = self._read(n)
        self.total += len(data)
        return data


class Opened:
    """One open reading: the stream, its unpacker, the header it began with."""

    def __init__(self, name: str, fh: BinaryIO, owned: bool) -> None:
        self.fh = fh
        self.owned = owned
        self.counted = Counted(fh)
        self.in_records = False
        self.unpacker = msgpack.Unpacker(
            self.counted,
            raw=False,
            use_list=False,  # tuples: an entry's fields become an Event's ``flat`` as they are
            strict_map_key=False,
            object_pairs_hook=self._map,
            max_buffer_size=MAX_RECORD_BYTES,
            max_array_len=MAX_ARRAY_ITEMS,
            max_map_len=MAX_MAP_KEYS,
            read_size=READ_SIZE,
        )
        try:
            obj = next(self.unpacker)
        except (StopIteration, ValueError, TypeError, msgpack.UnpackException):
            obj = None
        try:
            self.header = check_header(name, obj)
        except BaseException:
            self.close()
            raise
        self.in_records = True

    def _map(self, pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
        # Maps belong to the header only; in a record one is damage (and refusing it
        # here saves the entry checks a type test per entry).
        if self.in_records:
            raise Malformed("a map inside a record")
        for key, _ in pairs:
            if type(key) is not str:
                raise Malformed("a header key that is not text")
        return dict(pairs)

    def close(self) -> None:
        if self.owned:
            self.fh.close()


def open_file(name: str, path: Path) -> BinaryIO:
    """The file of recording ``name`` opened for reading (unbuffered: passes buffer)."""
    try:
        return open(path, "rb", buffering=0)
    except OSError as exc:
        raise RecordingError(name, f"cannot open: {exc.strerror or exc}") from None


def check_header(name: str, obj: Any) -> Header:
    """The header of recording ``name`` from its first unpacked object, or why not."""
    if not isinstance(obj, dict) or obj.get("magic") != MAGIC:
        raise RecordingError(name, "not an xtape recording (no xtape header)")
    version = obj.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        known = ", ".join(str(v) for v in sorted(SUPPORTED_VERSIONS))
        raise RecordingError(
            name,
            f"recording format version {version!r} is not supported by this xtape "
            f"(it reads version {known}); upgrade xtape to read it",
        )
    try:
        return Header.decode(obj)
    except Malformed as exc:
        raise DamagedRecording(name, 0, str(exc)) from None


def decode_record(
    name: str, obj: Any, at: int, defined: dict[int, bytes], where: str = ""
) -> Record | None:
    """A checked record from an unpacked object (None for an unknown tag); ``defined``
    (stream ids to names) learns the streams it defines."""
    if type(obj) is not tuple or not obj or type(obj[0]) is not int:
        raise DamagedRecording(name, at, f"{where}a record that is not a tagged array")
    decode = DECODERS.get(obj[0])
    if decode is None:
        return None
    try:
        record: Record = decode(obj)
    except Malformed as exc:
        raise DamagedRecording(name, at, f"{where}{Tag(obj[0]).name} record: {exc}") from None
    if isinstance(record, StreamDef):
        defined[record.stream_id] = record.name
    elif isinstance(record, (Entries, Gap)) and record.stream_id not in defined:
        raise DamagedRecording(
            name, at, f"{where}{Tag(obj[0]).name} record of stream {record.stream_id}, never defined"
        )
    return record


def why(exc: BaseException) -> str:
    """What went wrong reading, in words (a :class:`Malformed`'s own, else the error's)."""
    text = str(exc).strip()
    if isinstance(exc, Malformed):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def stream_name(stream: BinaryIO) -> str:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else "<stream>"


def is_regular(fh: BinaryIO) -> bool:
    """Whether ``fh`` is a regular file (which can be read again and seek)."""
    try:
        return stat.S_ISREG(os.fstat(fh.fileno()).st_mode)
    except (OSError, ValueError):
        return False


class FileReader:
    """The reader of one file or stream, made from its first :class:`Opened` (whose
    header tells which reader). A regular file is opened again for each pass; a pipe or
    a stream has one pass, the first."""

    def __init__(self, name: str, path: Path | None, first: Opened) -> None:
        self.name = name
        self.path = path
        self.header = first.header
        #: Where the records (v2: the chunks) start, after the header.
        self.records_at = first.unpacker.tell()
        #: Standard input, a pipe or a stream: it can be read only once.
        self.one_pass = path is None or not is_regular(first.fh)
        self._pending: Opened | None = first if self.one_pass else None
        #: Whether the stored summary's gaps and markers were held against the chunks
        #: that hold them (format v2: see :func:`~xtape.recording.audit.event_problems`).
        self.events_checked = False
        if not self.one_pass:
            first.close()

    def open(self) -> BinaryIO:
        assert self.path is not None
        return open_file(self.name, self.path)

    def start(self) -> Opened:
        """The reading of a pass: the first (a stream's only one) or a new one."""
        if self._pending is not None:
            reading, self._pending = self._pending, None
            return reading
        if self.one_pass:
            raise RecordingError(self.name, "a recording read from a stream can be read only once")
        return Opened(self.name, self.open(), owned=True)

    def close(self) -> None:
        """Close a stream opened for the one pass that was never read (a FIFO path)."""
        if self._pending is not None:
            self._pending.close()
            self._pending = None

    def records(self, bounds: Bounds | None) -> Pass:
        """Every record after the header, in file order, each checked for its shape."""
        raise NotImplementedError

    def stored_summary(self) -> Summary | None:
        """The summary a clean close stored (format v2, a file); None here."""
        return None


__all__ = [
    "MAX_ARRAY_ITEMS",
    "MAX_MAP_KEYS",
    "MAX_RECORD_BYTES",
    "Bounds",
    "Counted",
    "FileReader",
    "Opened",
    "Pass",
    "ReadSummary",
    "check_header",
    "decode_record",
    "is_regular",
    "open_file",
    "stream_name",
    "why",
]
