"""Append-only, buffered writing of ``.xtape`` files.

Records are packed into a memory buffer and written out at least every
``flush_interval`` seconds (1 s by default; and whenever the buffer grows large), so a
crash loses at most about that much; anything written reads back.

Version 2 (the default) writes each flush of records as one chunk, compressed with
zstd (or not: ``compression="none"``) and checksummed, and a clean close writes a
summary with a chunk index and a trailer (see :mod:`xtape.recording.chunks`). The
batches of one recorder round may span two chunks; the reader reads across them.
``version=1`` writes the old plain format.

With ``background=True`` the packing and writing happen on a thread of their own, in
the order the records were given, so a recorder can wait for its next reply from Redis
while the previous batch is being packed (msgpack holds the GIL, a socket read does
not). At most :data:`QUEUE_BATCHES` batches wait, so memory stays bounded.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import msgpack

from xtape.errors import RuntimeFailure, UsageError, WriteFailed
from xtape.ids import id_ms
from xtape.recording.chunks import (
    DEFAULT_ZSTD_LEVEL,
    MAX_CHUNK_BYTES,
    MAX_CHUNK_ITEMS,
    ChunkMeta,
    Compressor,
    IndexEntry,
    Summary,
    check_batch,
    summary_frame,
    trailer,
)
from xtape.recording.compression import codec_named
from xtape.recording.destination import open_output
from xtape.recording.records import (
    VERSION,
    End,
    Entries,
    Gap,
    Header,
    Malformed,
    Marker,
    RawEntry,
    SeriesTag,
    StreamDef,
)
from xtape.version import __version__

_BUFFER_LIMIT = 1 << 20
#: Default flush interval: the most recent data a crash can lose, in seconds.
FLUSH_INTERVAL_S = 1.0
#: Batches that may wait for the background thread.
QUEUE_BATCHES = 16

def _ms(entry_id: bytes) -> int:
    """An id's milliseconds for a chunk's time range (a malformed id, which the reader
    refuses anyway, counts as 0)."""
    try:
        return id_ms(entry_id)
    except (ValueError, TypeError, AttributeError):
        return 0


_Job = tuple[Callable[..., None], tuple[Any, ...]]


def _exact(obj: Any) -> Any:
    """What :func:`packer` packs in place of a value whose type is not exactly a
    msgpack type (a tuple, an ``IntEnum`` tag, a subclass of ``bytes``...): the value
    as its base type, so it packs to the bytes the default packer writes for it."""
    if isinstance(obj, (list, tuple)):
        return list(obj)
    base: type[Any]
    for base in (int, float, bytes, str, dict):
        if isinstance(obj, base):
            return base(obj)
    raise TypeError(f"can not serialize {type(obj).__name__!r} object")


def packer() -> msgpack.Packer:
    """A packer that writes exactly the bytes of ``msgpack.Packer(use_bin_type=True)``,
    with less work per value: values of exact types (all that a Redis reply holds:
    lists, bytes, ints) take msgpack's strict path, which skips the subclass checks
    (about 30% of the time of packing a batch of entries); others go through
    :func:`_exact` first."""
    return msgpack.Packer(use_bin_type=True, strict_types=True, default=_exact)


class RecordingWriter:
    """Writes a recording: header first, then records as they are given.

    ``fsync`` makes every flush durable on disk (slower; for the careful).
    ``background`` packs and writes on a thread (see the module's docstring); a failure
    there is raised by the next call. ``series`` goes into the header (a file of a
    split recording); ``exclusive`` creates the file or raises :class:`FileExistsError`.
    """

    def __init__(
        self,
        path: str | Path | BinaryIO,
        *,
        source: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        fsync: bool = False,
        flush_interval: float = FLUSH_INTERVAL_S,
        background: bool = False,
        version: int = VERSION,
        compression: str = "zstd",
        level: int = DEFAULT_ZSTD_LEVEL,
        series: SeriesTag | None = None,
        exclusive: bool = False,
        on_entries: Callable[[bytes, int, int], None] | None = None,
    ) -> None:
        if version not in (1, 2):
            raise UsageError(f"cannot write recording format version {version}")
        codec_named(compression)  # (an unknown name: one usage error naming the known ones)
        self.flush_interval = flush_interval
        #: Told ``(stream, entries, bytes)`` of each batch packed (on the writer's thread).
        self.on_entries = on_entries
        self.version = version
        self._compressor = Compressor(compression, level) if version == 2 else None
        self._chunk_streams: dict[int, bytes] = {}
        #: Entries per stream id in the chunk being filled (the meta's counts).
        self._chunk_counts: dict[int, int] = {}
        self._chunk_first_ns = self._chunk_last_ns = -1
        self._chunk_min_ms = self._chunk_max_ms = -1
        self._chunk_entries = 0
        #: Gaps and markers in the chunk being filled (the meta's events).
        self._chunk_events = 0
        #: What the summary of a version-2 file says: per stream [sid, name, n, first, last].
        self._stream_rows: list[list[Any]] = []
        self._gap_rows: list[list[Any]] = []
        self._marker_rows: list[list[Any]] = []
        self._index: list[IndexEntry] = []
        self._out, self.name, self._owned = open_output(path, exclusive)
        #: The file written, or None for standard output or a stream.
        self.path = Path(path) if isinstance(path, (str, Path)) and self._owned else None
        # fsync is for files; a pipe or terminal refuses it.
        self.fsync = fsync and self._owned
        self._packer = packer()
        self._buffer = bytearray()
        self._stream_ids: dict[bytes, int] = {}
        self._last_flush = time.monotonic()
        self.entries_written = 0
        self.bytes_written = 0
        self.closed = False
        self._broken: RuntimeFailure | None = None
        header = Header(
            version=version,
            created_ns=time.time_ns(),
            tool=f"xtape {__version__}",
            source=source or {},
            options=options or {},
            series=series,
        )
        try:
            self._write_out(self._packer.pack(header.encode()))
        except BaseException:
            self._close_fd()
            raise
        self._queue: queue.Queue[_Job | None] | None = None
        self._failure: BaseException | None = None
        if background:
            self._queue = queue.Queue(maxsize=QUEUE_BATCHES)
            self._thread = threading.Thread(
                target=self._work, name="xtape-writer", daemon=True
            )
            self._thread.start()

    # -- what callers give ---------------------------------------------------------

    def write_entries(self, stream: bytes, entries: list[RawEntry], capture_ns: int) -> None:
        """Append a batch of raw entries (``[[id, [f, v, ...]], ...]``) of one stream."""
        if entries:
            self._do(self._entries, stream, entries, capture_ns)

    def write_gap(
        self, stream: bytes, after_id: bytes, before_id: bytes, lost: int, capture_ns: int
    ) -> None:
        """Record that entries of ``stream`` were lost (trimmed before they were read)."""
        self._do(self._gap, stream, after_id, before_id, lost, capture_ns)

    def write_marker(self, kind: str, text: str, capture_ns: int | None = None) -> None:
        """Record an event of the recording itself (reconnect, server restart, note)."""
        ns = time.time_ns() if capture_ns is None else capture_ns
        self._do(self._marker, kind, text, ns)

    def flush(self) -> None:
        """Write everything given so far to the file (and to disk with ``fsync``)."""
        self._do(self._flush_now)
        self._wait()

    def close(self) -> None:
        """Write the end record, flush, and close. Safe to call twice.

        If writing fails (a full disk), what was written stays a readable recording
        without its END record, and the failure is raised as one
        :class:`~xtape.errors.RuntimeFailure`."""
        if self.closed:
            return
        try:
            if self._queue is not None:
                self._queue.put(None)
                self._thread.join()
                self._queue = None
            self._raise_failure()
            if self._broken is not None:
                raise self._broken
            if self.version == 1:
                self._buffer += self._packer.pack(
                    End(time.time_ns(), self.entries_written).encode()
                )
                self._flush_now()
            else:
                self._flush_now()
                self._write_summary()
            if self._owned and isinstance(self._out, int):
                try:
                    os.fsync(self._out)
                except OSError as exc:
                    raise WriteFailed(self.name, str(exc.strerror or exc)) from None
        finally:
            self._close_fd()
            self.closed = True

    def _close_fd(self) -> None:
        if self._owned and isinstance(self._out, int):
            # Closing unlocks; the lock told readers the file was still being written.
            os.close(self._out)

    # -- where the work happens (here, or on the background thread) --------------------

    def _do(self, fn: Callable[..., None], *args: Any) -> None:
        if self._queue is None:
            fn(*args)
            return
        self._raise_failure()
        self._queue.put((fn, args))

    def _wait(self) -> None:
        if self._queue is not None:
            self._queue.join()
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def _work(self) -> None:
        assert self._queue is not None
        jobs = self._queue
        while True:
            try:
                job = jobs.get(timeout=max(self.flush_interval, 0.01))
            except queue.Empty:
                # Idle: what waits in the buffer goes to the file within the interval.
                if self._failure is None and self._buffer:
                    try:
                        self._flush_now()
                    except BaseException as exc:
                        self._failure = exc
                continue
            try:
                if job is None:
                    return
                if self._failure is None:  # after a failure, drop the rest: it is reported
                    fn, args = job
                    fn(*args)
            except BaseException as exc:
                self._failure = exc
            finally:
                jobs.task_done()

    def stream_id(self, name: bytes) -> int:
        """The interned id of a stream name, writing its definition on first use."""
        sid = self._stream_ids.get(name)
        if sid is None:
            sid = len(self._stream_ids)
            self._stream_ids[name] = sid
            if self.version == 1:
                self._buffer += self._packer.pack(StreamDef(sid, name).encode())
            else:
                self._stream_rows.append([sid, name, 0, None, None])
        if self.version == 2:
            self._chunk_streams[sid] = name
        return sid

    def _entries(self, stream: bytes, entries: list[RawEntry], capture_ns: int) -> None:
        due = time.monotonic() - self._last_flush >= self.flush_interval
        if self.version == 1:
            sid = self.stream_id(stream)
            packed = self._packer.pack(Entries(sid, capture_ns, entries).encode())
            self._buffer += packed
            self.entries_written += len(entries)
            if self.on_entries is not None:
                self.on_entries(stream, len(entries), len(packed))
            if due or len(self._buffer) >= _BUFFER_LIMIT:
                self._flush_now()
            return
        # (the id stream_id() gives: a stream is defined only once its batch is taken)
        sid = self._stream_ids.get(stream, len(self._stream_ids))
        packed = self._packer.pack(Entries(sid, capture_ns, entries).encode())
        if len(entries) > 1 and (len(packed) > MAX_CHUNK_BYTES or len(entries) > MAX_CHUNK_ITEMS):
            # Beyond what a reader takes in one chunk: in halves (the same round).
            half = len(entries) // 2
            self._entries(stream, entries[:half], capture_ns)
            self._entries(stream, entries[half:], capture_ns)
            return
        try:
            check_batch(entries, len(packed))
            if len(packed) > MAX_CHUNK_BYTES:
                raise Malformed(f"an entry of {len(packed):,} bytes (at most {MAX_CHUNK_BYTES:,})")
        except Malformed as exc:
            raise RuntimeFailure(f"cannot write {self.name}: {exc}") from None
        self.stream_id(stream)
        if len(self._buffer) + len(packed) > MAX_CHUNK_BYTES:
            self._flush_now()
            self._chunk_streams[sid] = stream
        self._buffer += packed
        n = len(entries)
        self.entries_written += n
        if self.on_entries is not None:
            self.on_entries(stream, n, len(packed))
        self._chunk_entries += n
        self._chunk_counts[sid] = self._chunk_counts.get(sid, 0) + n
        row = self._stream_rows[sid]
        row[2] += n
        if row[3] is None:
            row[3] = entries[0][0]
        row[4] = entries[-1][0]
        lo, hi = _ms(entries[0][0]), _ms(entries[-1][0])
        if self._chunk_first_ns < 0:
            self._chunk_first_ns = capture_ns
            self._chunk_min_ms, self._chunk_max_ms = lo, hi
        else:
            self._chunk_min_ms = min(self._chunk_min_ms, lo)
            self._chunk_max_ms = max(self._chunk_max_ms, hi)
        self._chunk_last_ns = capture_ns
        if due or len(self._buffer) >= _BUFFER_LIMIT:
            self._flush_now()

    def _gap(
        self, stream: bytes, after_id: bytes, before_id: bytes, lost: int, capture_ns: int
    ) -> None:
        sid = self.stream_id(stream)
        self._buffer += self._packer.pack(Gap(sid, capture_ns, after_id, before_id, lost).encode())
        if self.version == 2:
            self._gap_rows.append([sid, capture_ns, after_id, before_id, lost])
            self._chunk_events += 1
        self._flush_now()

    def _marker(self, kind: str, text: str, capture_ns: int) -> None:
        self._buffer += self._packer.pack(Marker(capture_ns, kind, text).encode())
        if self.version == 2:
            self._marker_rows.append([capture_ns, kind, text])
            self._chunk_events += 1
        self._flush_now()

    def _flush_now(self) -> None:
        if self._compressor is None or not self._buffer or self._broken is not None:
            self._write_out(self._buffer)
        else:
            streams = tuple(sorted(self._chunk_streams.items()))
            counts = tuple(self._chunk_counts.get(sid, 0) for sid, _ in streams)
            meta = ChunkMeta(
                self._chunk_first_ns,
                self._chunk_last_ns,
                self._chunk_min_ms,
                self._chunk_max_ms,
                self._chunk_entries,
                streams,
                counts if sum(counts) == self._chunk_entries else None,
                self._chunk_events,
            )
            frame = self._compressor.frame(self._buffer, meta)
            offset = self.bytes_written
            self._write_out(frame)
            self._index.append(IndexEntry(offset, len(frame), meta))
            self._chunk_streams = {}
            self._chunk_counts = {}
            self._chunk_first_ns = self._chunk_last_ns = -1
            self._chunk_min_ms = self._chunk_max_ms = -1
            self._chunk_entries = 0
            self._chunk_events = 0
        self._buffer.clear()
        self._last_flush = time.monotonic()

    def _write_summary(self) -> None:
        summary = Summary(
            time.time_ns(),
            self.entries_written,
            self._stream_rows,
            self._gap_rows,
            self._marker_rows,
            self._index,
        )
        frame = summary_frame(summary.encode())
        offset = self.bytes_written
        self._write_out(frame + trailer(offset, len(frame)))

    def _write_out(self, data: bytes | bytearray) -> None:
        if data and self._broken is None:
            done = 0
            try:
                with memoryview(data) as view:
                    if isinstance(self._out, int):
                        while done < len(view):  # a write may be partial (a pipe, a full disk)
                            done += os.write(self._out, view[done:])
                    else:
                        self._out.write(view)
                        self._out.flush()
                        done = len(view)
                if self.fsync and isinstance(self._out, int):
                    os.fsync(self._out)
            except OSError as exc:
                # Nothing more is written after a failure: a later record after a
                # partial one would damage the file, while a partial tail only ends it.
                self._broken = WriteFailed(self.name, str(exc.strerror or exc))
                raise self._broken from None
            finally:
                self.bytes_written += done

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
