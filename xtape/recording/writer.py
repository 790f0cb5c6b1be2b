"""Append-only, buffered writing of ``.xtape`` files.

Records are packed into a memory buffer and written out at least every
``flush_interval`` seconds (and whenever the buffer grows large), so a crash loses at
most the last fraction of a second; anything written reads back record by record.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import msgpack

from xtape import __version__
from xtape.errors import RuntimeFailure
from xtape.recording.records import VERSION, End, Gap, Header, Marker, RawEntry, StreamDef, Tag

_BUFFER_LIMIT = 1 << 20


class RecordingWriter:
    """Writes a recording: header first, then records as they are given.

    ``fsync`` makes every flush durable on disk (slower; for the careful).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        source: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        fsync: bool = False,
        flush_interval: float = 0.2,
    ) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.flush_interval = flush_interval
        try:
            self._file: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise RuntimeFailure(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self._packer = msgpack.Packer(use_bin_type=True)
        self._buffer = bytearray()
        self._stream_ids: dict[bytes, int] = {}
        self._last_flush = time.monotonic()
        self.entries_written = 0
        self.bytes_written = 0
        self.closed = False
        header = Header(
            version=VERSION,
            created_ns=time.time_ns(),
            tool=f"xtape {__version__}",
            source=source or {},
            options=options or {},
        )
        self._buffer += self._packer.pack(header.encode())
        self.flush()

    @property
    def buffered(self) -> int:
        """Bytes packed but not yet written to the file."""
        return len(self._buffer)

    def stream_id(self, name: bytes) -> int:
        """The interned id of a stream name, writing its definition on first use."""
        sid = self._stream_ids.get(name)
        if sid is None:
            sid = len(self._stream_ids)
            self._stream_ids[name] = sid
            self._buffer += self._packer.pack(StreamDef(sid, name).encode())
        return sid

    def write_entries(self, stream: bytes, entries: list[RawEntry], capture_ns: int) -> None:
        """Append a batch of raw entries (``[[id, [f, v, ...]], ...]``) of one stream."""
        if not entries:
            return
        sid = self.stream_id(stream)
        self._buffer += self._packer.pack([Tag.ENTRIES, sid, capture_ns, entries])
        self.entries_written += len(entries)
        self._maybe_flush()

    def write_gap(
        self, stream: bytes, after_id: bytes, before_id: bytes, lost: int, capture_ns: int
    ) -> None:
        """Record that entries of ``stream`` were lost (trimmed before they were read)."""
        sid = self.stream_id(stream)
        self._buffer += self._packer.pack(Gap(sid, capture_ns, after_id, before_id, lost).encode())
        self.flush()

    def write_marker(self, kind: str, text: str, capture_ns: int | None = None) -> None:
        """Record an event of the recording itself (reconnect, server restart, note)."""
        ns = time.time_ns() if capture_ns is None else capture_ns
        self._buffer += self._packer.pack(Marker(ns, kind, text).encode())
        self.flush()

    def _maybe_flush(self) -> None:
        if (
            len(self._buffer) >= _BUFFER_LIMIT
            or time.monotonic() - self._last_flush >= self.flush_interval
        ):
            self.flush()

    def flush(self) -> None:
        """Write the buffer to the file (and to disk with ``fsync``)."""
        if self._buffer:
            try:
                self._file.write(self._buffer)
                self._file.flush()
                if self.fsync:
                    os.fsync(self._file.fileno())
            except OSError as exc:
                raise RuntimeFailure(f"cannot write {self.path}: {exc.strerror or exc}") from None
            self.bytes_written += len(self._buffer)
            self._buffer.clear()
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Write the end record, flush, and close. Safe to call twice."""
        if self.closed:
            return
        self._buffer += self._packer.pack(End(time.time_ns(), self.entries_written).encode())
        try:
            self.flush()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()
            self.closed = True

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

