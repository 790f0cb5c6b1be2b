"""Prometheus metrics of a recorder and of a replay, as observers of their events.

The names, their help and units are listed in docs/metrics.md (keep the two in step:
a test compares them). Per-stream series are labelled ``stream``; the first
:data:`MAX_STREAM_LABELS` streams get a label each and the rest share ``_other``
(counters summed, gauges the worst of them), so a recorder of a million streams does
not make a million series.

``prometheus_client`` is an optional extra (``pip install 'xtape[metrics]'``),
imported by :func:`require` only when ``--metrics`` is given.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xtape.errors import UsageError
from xtape.observe.events import (
    MARKER_KINDS,
    FileState,
    PublisherCounts,
    RecordEvents,
    ReplayEvents,
)
from xtape.timeline import NS_PER_S, display_name

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

#: Streams with a label of their own; the others are counted under :data:`OTHER`.
MAX_STREAM_LABELS = 100
OTHER = "_other"
#: Lateness buckets of a replay (seconds).
LATENESS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: How often the file gauges are sampled from the loop at most (seconds).
_SAMPLE_EVERY_S = 0.5


def require() -> Any:
    """The ``prometheus_client`` module, or one line saying how to install it."""
    try:
        import prometheus_client
    except ImportError:
        raise UsageError(
            "--metrics needs the prometheus_client package: pip install 'xtape[metrics]'"
        ) from None
    return prometheus_client


def new_registry() -> CollectorRegistry:
    """A registry with the process's own metrics (CPU, memory, open files) and Python's.
    (Counters' ``_created`` series are turned off, for the whole process.)"""
    pc = require()
    pc.disable_created_metrics()
    registry: CollectorRegistry = pc.CollectorRegistry(auto_describe=True)
    pc.ProcessCollector(registry=registry)
    pc.PlatformCollector(registry=registry)
    pc.GCCollector(registry=registry)
    return registry


class StreamLabels:
    """Stream name -> label value: the first ``cap`` names as themselves, then ``_other``."""

    def __init__(self, cap: int = MAX_STREAM_LABELS) -> None:
        self.cap = cap
        self._labels: dict[bytes, str] = {}
        self._own = 0
        self._lock = threading.Lock()

    def __call__(self, name: bytes) -> str:
        label = self._labels.get(name)
        if label is None:
            with self._lock:
                label = self._labels.get(name)
                if label is None:
                    if self._own < self.cap:
                        label = display_name(name)
                        self._own += 1
                    else:
                        label = OTHER
                    self._labels[name] = label
        return label


class RecordMetrics(RecordEvents):
    """A recorder's metrics (docs/metrics.md) in ``registry``."""

    def __init__(self, registry: CollectorRegistry, *, max_streams: int = MAX_STREAM_LABELS) -> None:
        pc = require()
        self.label = StreamLabels(max_streams)
        c, g, r = pc.Counter, pc.Gauge, registry
        self.entries = c("xtape_record_entries", "Entries written into the recording.", ["stream"], registry=r)
        self.bytes = c("xtape_record_bytes", "Bytes of entry records written (ids, field names and values, before compression).", ["stream"], registry=r)
        self.gaps = c("xtape_record_gaps", "Gaps: entries trimmed from a stream before the recorder read them.", ["stream"], registry=r)
        self.lost_entries = c("xtape_record_lost_entries", "Entries known lost in gaps (gaps of unknown size add nothing).", ["stream"], registry=r)
        self.markers = c("xtape_record_markers", "Markers written, by kind.", ["kind"], registry=r)
        self.reconnects = c("xtape_record_reconnects", "Times the connection to the server was lost and made again.", registry=r)
        self.rotated = c("xtape_record_files_rotated", "Files of a split recording closed for the next one.", registry=r)
        self.deleted = c("xtape_record_files_deleted", "Files of a split recording deleted by --keep-last.", registry=r)
        self.write_errors = c("xtape_record_write_errors", "Writes of the recording that failed (a full disk).", registry=r)
        self.snapshots = c("xtape_record_snapshots", "Snapshots written (record --snapshot).", registry=r)
        self.lag_entries = g("xtape_record_lag_entries", "Entries a stream's head is ahead of the recording (from XINFO entries-added).", ["stream"], registry=r)
        self.lag_seconds = g("xtape_record_lag_seconds", "How far the recording is behind a stream's head, by the ids' milliseconds.", ["stream"], registry=r)
        self.last_entry = g("xtape_record_last_entry_timestamp_seconds", "When the last entry was written (Unix time).", registry=r)
        self.file_bytes = g("xtape_record_file_bytes", "Size of the file being written.", registry=r)
        self.file_info = g("xtape_record_file_info", "The file being written (its path in the label).", ["path"], registry=r)
        self.connected = g("xtape_record_connected", "1 while connected to the server, else 0.", registry=r)
        self.buffer_bytes = g("xtape_record_snapshot_buffer_bytes", "Bytes held in memory for the next snapshot.", registry=r)
        for kind in MARKER_KINDS:
            self.markers.labels(kind)
        #: Per stream: its counters' children (a label lookup once per stream).
        self._children: dict[bytes, tuple[Any, Any]] = {}
        #: Lag of the streams counted under _other, and the worst of it (the gauges').
        self._other_lag: dict[bytes, tuple[int | None, float]] = {}
        self._other_worst: tuple[int | None, float] = (None, 0.0)
        self._path: str | None = None
        self._file: FileState | None = None
        self._rotations = self._deletions = 0
        self._next_sample = 0.0

    def started(self) -> None:
        self.connected.set(1)

    def written(self, stream: bytes, entries: int, nbytes: int) -> None:
        children = self._children.get(stream)
        if children is None:
            label = self.label(stream)
            children = self._children[stream] = (self.entries.labels(label), self.bytes.labels(label))
        children[0].inc(entries)
        children[1].inc(nbytes)
        self.last_entry.set(time.time())

    def lag(self, stream: bytes, entries: int | None, seconds: float) -> None:
        label = self.label(stream)
        if label == OTHER:
            entries, seconds = self._worst_other(stream, entries, seconds)
        if entries is not None:
            self.lag_entries.labels(label).set(entries)
        self.lag_seconds.labels(label).set(seconds)

    def _worst_other(self, stream: bytes, entries: int | None, seconds: float) -> tuple[int | None, float]:
        """The worst lag under _other once ``stream``'s is this one (called per stream
        per round: all of them are looked at again only when the worst one went down)."""
        old_entries, old_seconds = self._other_lag.get(stream, (None, 0.0))
        self._other_lag[stream] = (entries, seconds)
        worst_entries, worst_seconds = self._other_worst
        if old_seconds == worst_seconds and seconds < worst_seconds:
            worst_seconds = max(s for _, s in self._other_lag.values())
        else:
            worst_seconds = max(worst_seconds, seconds)
        if old_entries is not None and old_entries == worst_entries and (entries is None or entries < old_entries):
            known = [e for e, _ in self._other_lag.values() if e is not None]
            worst_entries = max(known) if known else None
        elif entries is not None and (worst_entries is None or entries > worst_entries):
            worst_entries = entries
        self._other_worst = (worst_entries, worst_seconds)
        return self._other_worst

    def gap(self, stream: bytes, lost: int) -> None:
        label = self.label(stream)
        self.gaps.labels(label).inc()
        if lost > 0:
            self.lost_entries.labels(label).inc(lost)

    def marker(self, kind: str) -> None:
        self.markers.labels(kind).inc()

    def lost(self, reason: str) -> None:
        self.connected.set(0)

    def reconnected(self) -> None:
        self.reconnects.inc()
        self.connected.set(1)

    def tick(self, file: FileState) -> None:
        self._file = file
        now = time.monotonic()
        if now < self._next_sample:
            return
        self._next_sample = now + _SAMPLE_EVERY_S
        self._sample(file)

    def _sample(self, file: FileState) -> None:
        path = None if file.path is None else str(file.path)
        if path != self._path:
            if self._path is not None:
                self.file_info.remove(self._path)
            if path is not None:
                self.file_info.labels(path).set(1)
            self._path = path
        size = getattr(file, "file_bytes", None)
        self.file_bytes.set(file.bytes_written if size is None else size)
        rotations, deletions = getattr(file, "rotations", 0), getattr(file, "deletions", 0)
        self.rotated.inc(rotations - self._rotations)
        self.deleted.inc(deletions - self._deletions)
        self._rotations, self._deletions = rotations, deletions

    def write_failed(self, message: str) -> None:
        self.write_errors.inc()
        self.connected.set(0)  # (the recording stops)

    def finished(self, reason: str) -> None:
        self.connected.set(0)
        if self._file is not None:
            self._sample(self._file)  # (the last rotations and deletions)

    def snapshot(self, path: Path, nbytes: int) -> None:
        self.snapshots.inc()

    def buffered(self, nbytes: int) -> None:
        self.buffer_bytes.set(nbytes)


class ReplayMetrics(ReplayEvents):
    """A replay's metrics (docs/metrics.md) in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        pc = require()
        c, r = pc.Counter, registry
        self.published_total = c("xtape_replay_entries_published", "Entries the target accepted.", registry=r)
        self.refused = c("xtape_replay_entries_refused", "Entries the target refused (an error reply).", registry=r)
        self.resent = c("xtape_replay_entries_resent", "Entries sent again after a reconnect (unconfirmed when the connection was lost).", registry=r)
        self.reconnects = c("xtape_replay_reconnects", "Times the connection to the target was lost and made again.", registry=r)
        self.lateness = pc.Histogram("xtape_replay_lateness_seconds", "How late entries went out against their schedule (not at --max-speed).", buckets=LATENESS_BUCKETS, registry=r)
        self.pass_ = pc.Gauge("xtape_replay_pass", "The pass being replayed (1 for the first; --loop counts up).", registry=r)
        self._counts: PublisherCounts | None = None
        self._seen = [0, 0, 0, 0]

    def begin(self, counts: PublisherCounts | None) -> None:
        self._counts = counts

    def pass_started(self, iteration: int) -> None:
        self.pass_.set(iteration + 1)

    def published(self, deadlines: Sequence[int] | None, now_ns: int) -> None:
        if deadlines:
            observe = self.lateness.observe
            for deadline in deadlines:
                observe(max(now_ns - deadline, 0) / NS_PER_S)
        self._sample()

    def idle(self) -> None:
        self._sample()

    def end(self) -> None:
        self._sample()

    def _sample(self) -> None:
        counts = self._counts
        if counts is None:
            return
        now = [counts.accepted, counts.refused, counts.resent, counts.reconnects]
        for counter, new, old in zip(
            (self.published_total, self.refused, self.resent, self.reconnects), now, self._seen, strict=True
        ):
            if new > old:
                counter.inc(new - old)
        self._seen = now
