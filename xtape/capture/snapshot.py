"""Snapshots on demand (``record --snapshot 5m -o incidents/``), as rosbag2's snapshot
mode: the recorder keeps the last few minutes of what it records in memory instead of
writing a file, and writes them into a new file of the folder when asked.

:class:`Snapshots` stands where the recorder's writer stands (it takes the same entries,
gaps and markers) and holds them for ``window`` seconds of capture time, at most
``max_bytes`` of entries (ids, field names and values; oldest dropped first). Asked
(:meth:`Snapshots.request` from a signal handler or the key watch, or
:meth:`Snapshots.snapshot` from the HTTP listener) it writes what it holds into
``FOLDER/snapshot-<UTC time>.xtape``: a normal recording, its header the recorder's
plus the window, gaps and markers where they happened, and a ``note`` marker first
when the byte bound dropped entries still inside the window.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xtape.errors import RuntimeFailure
from xtape.recording.records import RawEntry
from xtape.recording.writer import RecordingWriter
from xtape.units import seconds_to_ns

log = logging.getLogger(__name__)

#: Default of ``--snapshot-max-bytes``.
MAX_BYTES = 256 << 20
#: How often the worker looks for a request (signal handlers only set a flag).
_POLL_S = 0.1

# One record held: ("entries", stream, entries, capture_ns, nbytes) | ("gap", stream,
# after, before, lost, capture_ns) | ("marker", kind, text, capture_ns).
_Held = tuple[Any, ...]


class Snapshots:
    """The last ``window`` (seconds) of a recording, in memory, written on request into ``folder``.

    ``key``: a key whose appearance in the source asks for a snapshot (the recorder
    looks every second; ``None``: not watched). ``warn`` gets one line per snapshot
    written or failed. Thread-safe: the recorder adds, the listener and the worker
    thread write snapshots.
    """

    def __init__(
        self,
        folder: str | Path,
        window: float,
        *,
        max_bytes: int = MAX_BYTES,
        key: bytes | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        if not window > 0 or max_bytes <= 0:
            raise RuntimeFailure("a snapshot window and its byte bound must be above zero")
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RuntimeFailure(f"cannot write {folder}: {exc.strerror or exc}") from None
        self.window_ns = seconds_to_ns(window)
        self.max_bytes = max_bytes
        self.key = key
        self.warn = warn or log.warning
        #: Snapshots written, in order.
        self.written: list[Path] = []
        self.bytes_written = 0
        self.entries_written = 0
        self._held: deque[_Held] = deque()
        self._held_bytes = 0
        #: Capture time of the newest entries the byte bound dropped (0: none).
        self._cut_ns = 0
        self._lock = threading.Lock()
        self._options: dict[str, Any] = {}
        self._on_entries: Callable[[bytes, int, int], None] | None = None
        self._on_held: Callable[[int], None] | None = None
        self._on_written: Callable[[Path, int], None] | None = None
        self._pending = False
        self._key_present = False
        self._closed = threading.Event()
        self._worker: threading.Thread | None = None

    # -- set up by the recorder ----------------------------------------------------------

    def open(
        self,
        writer_options: dict[str, Any],
        *,
        on_entries: Callable[[bytes, int, int], None] | None = None,
        on_held: Callable[[int], None] | None = None,
        on_written: Callable[[Path, int], None] | None = None,
    ) -> Snapshots:
        """Start holding records; snapshots get ``writer_options`` (their header)."""
        self._options = dict(writer_options, background=False)
        self._options.pop("on_entries", None)
        header_options = dict(self._options.get("options") or {})
        header_options["snapshot"] = {"window_s": self.window_ns / 1e9, "max_bytes": self.max_bytes}
        self._options["options"] = header_options
        self._on_entries, self._on_held, self._on_written = on_entries, on_held, on_written
        self._worker = threading.Thread(target=self._work, name="xtape-snapshot", daemon=True)
        self._worker.start()
        return self

    @property
    def path(self) -> Path | None:
        """The last snapshot written."""
        return self.written[-1] if self.written else None

    # -- the writer's interface ----------------------------------------------------------

    def write_entries(self, stream: bytes, entries: list[RawEntry], capture_ns: int) -> None:
        nbytes = sum(len(e[0]) + sum(map(len, e[1])) for e in entries)
        self._hold(("entries", stream, entries, capture_ns, nbytes), capture_ns, nbytes)
        if self._on_entries is not None:
            self._on_entries(stream, len(entries), nbytes)

    def write_gap(
        self, stream: bytes, after_id: bytes, before_id: bytes, lost: int, capture_ns: int
    ) -> None:
        self._hold(("gap", stream, after_id, before_id, lost, capture_ns), capture_ns, 0)

    def write_marker(self, kind: str, text: str, capture_ns: int | None = None) -> None:
        ns = time.time_ns() if capture_ns is None else capture_ns
        self._hold(("marker", kind, text, ns), ns, 0)

    def flush(self) -> None:
        """Nothing to flush: what is held is written by a snapshot."""

    def close(self) -> None:
        """Stop the worker (what is held stays: :meth:`snapshot` still writes it)."""
        self._closed.set()
        if self._worker is not None:
            self._worker.join()

    def _hold(self, item: _Held, capture_ns: int, nbytes: int) -> None:
        with self._lock:
            held = self._held
            held.append(item)
            self._held_bytes += nbytes
            horizon = capture_ns - self.window_ns
            while held and _when(held[0]) < horizon:
                self._drop()
            while self._held_bytes > self.max_bytes and len(held) > 1:
                self._cut_ns = max(self._cut_ns, _when(held[0]))
                self._drop()
            total = self._held_bytes
        if self._on_held is not None:
            self._on_held(total)

    def _drop(self) -> None:
        first = self._held.popleft()
        if first[0] == "entries":
            self._held_bytes -= first[4]

    # -- snapshots -----------------------------------------------------------------------

    def request(self) -> None:
        """Ask for a snapshot, written soon by the worker thread (safe in a signal
        handler: it only sets a flag)."""
        self._pending = True

    def key_seen(self, present: bool) -> None:
        """The watched key is there or not: its appearance (or its presence when first
        looked for) asks for a snapshot."""
        if present and not self._key_present:
            self.request()
        self._key_present = present

    def _work(self) -> None:
        while not self._closed.wait(_POLL_S):
            if self._pending:
                self._pending = False
                try:
                    self.snapshot()
                except RuntimeFailure as exc:
                    self.warn(f"snapshot failed: {exc}")

    def snapshot(self) -> Path:
        """Write what is held (the last ``window``) into a new file; its path."""
        with self._lock:
            horizon = time.time_ns() - self.window_ns
            items = [item for item in self._held if _when(item) >= horizon]
            cut = self._cut_ns if self._cut_ns >= horizon else 0
        path, writer = self._create()
        with writer:
            if cut:
                writer.write_marker(
                    "note",
                    f"snapshot: entries captured before {_utc(cut)} and within the window were "
                    f"dropped to hold at most {self.max_bytes:,} bytes (--snapshot-max-bytes)",
                    _when(items[0]) if items else cut,
                )
            for item in items:
                if item[0] == "entries":
                    writer.write_entries(item[1], item[2], item[3])
                elif item[0] == "gap":
                    writer.write_gap(*item[1:])
                else:
                    writer.write_marker(*item[1:])
        size = writer.bytes_written
        self.written.append(path)
        self.bytes_written += size
        self.entries_written += writer.entries_written
        self.warn(f"snapshot written: {path} ({writer.entries_written:,} entries)")
        if self._on_written is not None:
            self._on_written(path, size)
        return path

    def _create(self) -> tuple[Path, RecordingWriter]:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        for n in range(1, 1000):
            path = self.folder / f"snapshot-{stamp}{'' if n == 1 else f'-{n}'}.xtape"
            try:
                return path, RecordingWriter(path, exclusive=True, **self._options)
            except FileExistsError:
                continue
        raise RuntimeFailure(f"cannot write a snapshot into {self.folder}: every name is taken")


def _when(item: _Held) -> int:
    """The capture time of a held record."""
    return int(item[-2] if item[0] == "entries" else item[-1])


def _utc(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc).isoformat(timespec="milliseconds")
