"""The recorder: tail a set of streams into a recording until a stop rule fires.

One loop, one connection. Every round is a single MULTI holding, for the streams that
had data last round, ``XINFO STREAM`` (for gap detection, see :mod:`.cursors`) and
``XREAD COUNT batch``, and for the others ``XREAD COUNT 1`` as a probe. Data is only
written from the first kind; a probe that finds data makes its stream *active* for the
next round. When a round finds nothing, the writer is flushed and one ``XREAD BLOCK``
over all cursors waits for traffic. Cursors are concrete ids (never ``$``), so a
reconnect resumes exactly where the file ends.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from xtape.capture.cursors import StreamInfo, StreamState
from xtape.capture.options import RecordOptions, is_glob
from xtape.capture.redact import Redactor
from xtape.connection import connect, error_reason, redact_url, resolve_url, server_version
from xtape.errors import RedisUnavailable, RuntimeFailure, UsageError
from xtape.recording.records import by_id
from xtape.recording.writer import RecordingWriter
from xtape.timeline import display_name

log = logging.getLogger(__name__)

_FAULTS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, TimeoutError)
_BACKOFF_START_S = 0.1
_BACKOFF_MAX_S = 5.0
_PROGRESS_EVERY_S = 0.25
_GC_EVERY_S = 1.0
_ROUND_BYTES = 32 << 20


@dataclass(frozen=True, slots=True)
class Progress:
    """What the recorder reports to a progress callback (at most 4 times a second)."""

    entries: int
    #: Entries per second since the previous report.
    rate: float
    streams: int
    #: Bytes written to the file so far.
    bytes: int
    elapsed_s: float


ProgressFn = Callable[[Progress], None]
WarnFn = Callable[[str], None]


@dataclass
class RecordStats:
    """What a finished recording holds and why it stopped."""

    path: str
    entries: int = 0
    streams: dict[bytes, int] = field(default_factory=dict)
    gaps: int = 0
    #: Entries known lost in gaps (gaps of unknown size not counted).
    lost: int = 0
    reconnects: int = 0
    restarts: int = 0
    duration_s: float = 0.0
    bytes: int = 0
    #: ``count``, ``duration``, ``idle``, ``stopped`` (stop event) or ``interrupted``.
    stop_reason: str = ""


def record(
    url: str | None,
    path: str | Path,
    options: RecordOptions,
    *,
    progress: ProgressFn | None = None,
    warn: WarnFn | None = None,
    stop_event: threading.Event | None = None,
) -> RecordStats:
    """Record ``options.patterns`` from ``url`` into ``path``; see :class:`Recorder`."""
    recorder = Recorder(url, path, options, progress=progress, warn=warn, stop_event=stop_event)
    return recorder.run()


class Recorder:
    """Records streams into a file. Nothing is ever written to the server.

    Stops on the first of: ``count`` entries, ``duration_s``, ``until_idle_s`` without a
    new entry, ``stop_event`` set, or KeyboardInterrupt; in every case the file is
    closed cleanly (END record). Connection faults are retried with backoff for ever
    (until a stop rule fires) and leave a ``reconnect`` marker (``restart`` if the
    server's run_id changed). ``warn`` receives one-line messages for the user; without
    it they go to the ``xtape.capture`` logger.
    """

    def __init__(
        self,
        url: str | None,
        path: str | Path,
        options: RecordOptions,
        *,
        progress: ProgressFn | None = None,
        warn: WarnFn | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.url = resolve_url(url)
        self.shown_url = redact_url(self.url)
        self.path = Path(path)
        self.opt = options
        self.progress = progress
        self.warn: WarnFn = warn or log.warning
        self.stop_event = stop_event or threading.Event()
        self.redactor = Redactor(options.redact, options.redact_key) if options.redact else None
        self.states: dict[bytes, StreamState] = {}
        self.active: set[bytes] = set()
        self.stats = RecordStats(str(path))
        self._client: redis.Redis | None = None
        self._writer: RecordingWriter | None = None
        self._run_id = ""
        self._waiting: set[bytes] = set()
        self._socket_timeout = options.block_ms / 1000 + 10.0
        self._count = options.batch
        self._t0 = time.monotonic()
        self._start_cursor: bytes | None = None

    # -- the run -------------------------------------------------------------------

    def run(self) -> RecordStats:
        """Record until a stop rule fires; returns what was recorded."""
        self._client = connect(self.url, socket_timeout=self._socket_timeout)
        try:
            try:
                self._run_id = self._server_run_id()
                self._start_cursor = self.opt.start.cursor(time.time_ns() // 1_000_000)
                self._discover(initial=True)
                source = {
                    "url": self.shown_url,
                    "server_version": server_version(self.client),
                    "patterns": list(self.opt.patterns),
                }
            except _FAULTS as exc:
                raise RedisUnavailable(self.shown_url, error_reason(exc)) from None
            except redis.ResponseError as exc:
                raise _refused(self.shown_url, exc) from None
            self._writer = RecordingWriter(
                self.path,
                source=source,
                options=self.opt.header(),
                fsync=self.opt.fsync,
                background=True,
            )
            self._last_data = self._last_report = time.monotonic()
            self._reported_entries = 0
            gc_was_enabled = gc.isenabled()
            # Each entry read is a few short-lived lists; automatic collections triggered
            # by them cost ~20% of the throughput. The loop collects young objects itself.
            gc.disable()
            try:
                self.stats.stop_reason = self._loop()
            except KeyboardInterrupt:
                self.stats.stop_reason = "interrupted"
            except redis.ResponseError as exc:
                raise _refused(self.shown_url, exc) from None
            finally:
                if gc_was_enabled:
                    gc.enable()
        finally:
            if self._writer is not None:
                self._writer.close()
                self.stats.bytes = self._writer.bytes_written
            if self._client is not None:
                self._client.close()
        self.stats.duration_s = time.monotonic() - self._t0
        self.stats.streams.update({name: s.recorded for name, s in self.states.items()})
        return self.stats

    @property
    def client(self) -> redis.Redis:
        assert self._client is not None
        return self._client

    @property
    def writer(self) -> RecordingWriter:
        assert self._writer is not None
        return self._writer

    def _loop(self) -> str:
        next_scan = time.monotonic() + self.opt.scan_interval_s
        next_gc = time.monotonic() + _GC_EVERY_S
        while True:
            if time.monotonic() >= next_gc:
                gc.collect(1)
                next_gc = time.monotonic() + _GC_EVERY_S
            reason = self._stop_reason()
            if reason:
                return reason
            try:
                if time.monotonic() >= next_scan:
                    self._discover(initial=False)
                    next_scan = time.monotonic() + self.opt.scan_interval_s
                if not self.states:
                    self.stop_event.wait(self._wait_s(next_scan))
                elif not self._round():
                    self._block(self._wait_s(next_scan))
            except _FAULTS as exc:
                self._reconnect(exc)
            self._report()

    def _stop_reason(self) -> str:
        if self.stop_event.is_set():
            return "stopped"
        if self.opt.count is not None and self.stats.entries >= self.opt.count:
            return "count"
        now = time.monotonic()
        if self.opt.duration_s is not None and now - self._t0 >= self.opt.duration_s:
            return "duration"
        if self.opt.until_idle_s is not None and now - self._last_data >= self.opt.until_idle_s:
            return "idle"
        return ""

    def _wait_s(self, next_scan: float) -> float:
        """How long a blocking wait may last before a stop rule or a rescan is due."""
        now = time.monotonic()
        limits = [self.opt.block_ms / 1000, next_scan - now]
        if self.opt.duration_s is not None:
            limits.append(self._t0 + self.opt.duration_s - now)
        if self.opt.until_idle_s is not None:
            limits.append(self._last_data + self.opt.until_idle_s - now)
        return max(min(limits), 0.001)

    # -- reading -------------------------------------------------------------------

    def _round(self) -> bool:
        """One MULTI: check and read active streams, probe the others. True if any data."""
        active = [s for s in self.states.values() if s.name in self.active]
        idle = [s for s in self.states.values() if s.name not in self.active]
        pipe: Any = self.client.pipeline(transaction=True)
        for state in active:
            pipe.execute_command("XINFO", "STREAM", state.name)
        count = self._count
        for chunk in _chunks(active, self.opt.keys_per_read):
            pipe.execute_command("XREAD", "COUNT", count, *_streams_args(chunk))
        for chunk in _chunks(idle, self.opt.keys_per_read):
            pipe.execute_command("XREAD", "COUNT", 1, *_streams_args(chunk))
        replies = pipe.execute(raise_on_error=False)
        capture_ns = time.time_ns()
        infos = replies[: len(active)]
        reads = replies[len(active) :]
        for reply in reads:
            if isinstance(reply, Exception):
                self._drop_non_streams(reply)
                return True
        batches: dict[bytes, list[Any]] = {}
        probed: set[bytes] = set()
        n_active_reads = len(list(_chunks(active, self.opt.keys_per_read)))
        for i, reply in enumerate(reads):
            for name, entries in reply or ():
                if i < n_active_reads:
                    batches[bytes(name)] = entries
                else:
                    probed.add(bytes(name))
        checked: dict[bytes, StreamInfo] = {}
        for state, reply in zip(active, infos, strict=True):
            if isinstance(reply, list):
                info = checked[state.name] = StreamInfo.parse(reply)
                loss = state.check(info)
                if loss is not None:
                    self._gap(state.name, loss.after_id, loss.before_id, loss.lost, capture_ns)
        self.active = {name for name, e in batches.items() if len(e) >= count} | probed
        if batches:
            self._write(batches, checked, capture_ns)
        return bool(batches or probed)

    def _write(
        self, batches: dict[bytes, list[Any]], infos: dict[bytes, StreamInfo], capture_ns: int
    ) -> None:
        if self.opt.count is not None:
            _trim_to(batches, self.opt.count - self.stats.entries)
        entries_before = self.stats.entries
        for name, entries in batches.items():
            if not entries:
                continue
            if self.redactor is not None:
                self.redactor.apply(entries)
            self.writer.write_entries(name, entries, capture_ns)
            self.states[name].advance(entries, infos.get(name))
            self.stats.entries += len(entries)
        self._last_data = time.monotonic()
        # Large values: fewer entries per read, so one round stays near _ROUND_BYTES.
        # (Sized from each batch's first entry: the writer packs on its own thread.)
        firsts = [entries[0] for entries in batches.values() if entries]
        if self.stats.entries > entries_before and firsts:
            per_entry = sum(len(e[0]) + sum(map(len, e[1])) for e in firsts) / len(firsts)
            self._count = max(16, min(self.opt.batch, int(_ROUND_BYTES / max(per_entry, 1))))

    def _block(self, wait_s: float) -> None:
        """Wait for traffic on any stream; the streams that have some become active."""
        self.writer.flush()
        states = list(self.states.values())
        client: Any = self.client
        reply = client.execute_command(
            "XREAD", "COUNT", 1, "BLOCK", max(int(wait_s * 1000), 1), *_streams_args(states)
        )
        self.active = {bytes(name) for name, _ in reply or ()}

    def _gap(self, name: bytes, after: bytes, before: bytes, lost: int, capture_ns: int) -> None:
        self.writer.write_gap(name, after, before, lost, capture_ns)
        self.stats.gaps += 1
        self.stats.lost += max(lost, 0)
        how_many = f"{lost} entries" if lost >= 0 else "entries"
        self.warn(
            f"gap in {_show(name)}: {how_many} between {after.decode()} and {before.decode()} "
            "were trimmed before they could be read"
        )

    def _drop_non_streams(self, error: Exception) -> None:
        pipe = self.client.pipeline(transaction=False)
        for name in self.states:
            pipe.type(name)
        dropped = False
        for name, kind in zip(list(self.states), pipe.execute(), strict=True):
            if kind not in (b"stream", b"none"):
                self.warn(
                    f"{_show(name)} is no longer a stream ({kind.decode()}); not recording it"
                )
                self.stats.streams[name] = self.states.pop(name).recorded
                self.active.discard(name)
                dropped = True
        if not dropped:
            raise RuntimeFailure(f"XREAD failed on {self.shown_url}: {error_reason(error)}")

    # -- discovery -----------------------------------------------------------------

    def _discover(self, *, initial: bool) -> None:
        """Find the streams to record: globs by SCAN, literal names by TYPE."""
        found: list[bytes] = []
        literals = [
            p.encode("utf-8", "surrogateescape") for p in self.opt.patterns if not is_glob(p)
        ]
        for pattern in self.opt.patterns:
            if not is_glob(pattern):
                continue
            match = pattern.encode("utf-8", "surrogateescape")
            for key in self.client.scan_iter(match=match, count=1000, _type="stream"):
                if key not in self.states and key not in found:
                    found.append(bytes(key))
        missing = [n for n in literals if n not in self.states and n not in found]
        if missing:
            pipe: Any = self.client.pipeline(transaction=False)
            for name in missing:
                pipe.type(name)
            for name, kind in zip(missing, pipe.execute(), strict=True):
                if kind == b"stream":
                    found.append(name)
                elif kind == b"none":
                    if name not in self._waiting:
                        self._waiting.add(name)
                        self.warn(f"stream {_show(name)} does not exist yet; waiting for it")
                elif initial:
                    raise UsageError(f"{_show(name)} is a {kind.decode()}, not a stream")
        if not found:
            return
        pipe = self.client.pipeline(transaction=False)
        for name in found:
            pipe.execute_command("XINFO", "STREAM", name)
        for name, reply in zip(found, pipe.execute(raise_on_error=False), strict=True):
            if not isinstance(reply, list):
                continue  # deleted between SCAN and XINFO: found again if it comes back
            info = StreamInfo.parse(reply)
            if initial:
                self.states[name] = StreamState.at_start(name, info, self._start_cursor)
            elif self.opt.start.kind in ("now", "start"):
                # Created after the recording started: all of it is new traffic.
                self.states[name] = StreamState(name, b"0-0", 0)
            else:
                assert self._start_cursor is not None
                self.states[name] = StreamState.at_start(name, info, self._start_cursor)
            self.active.add(name)
            self._waiting.discard(name)
            log.debug("recording %s from %s", _show(name), self.states[name].cursor)

    # -- faults --------------------------------------------------------------------

    def _server_run_id(self) -> str:
        info = self.client.info("server")
        run_id = info.get("run_id", "")
        return run_id.decode() if isinstance(run_id, bytes) else str(run_id)

    def _reconnect(self, exc: BaseException) -> None:
        reason = error_reason(exc)
        self.warn(f"lost the connection to {self.shown_url} ({reason}); reconnecting")
        if self._writer is not None:
            self.writer.flush()
        if self._client is not None:
            self._client.close()
            self._client = None
        delay = _BACKOFF_START_S
        down_since = time.monotonic()
        while True:
            if self._stop_reason() or self.stop_event.wait(delay):
                return
            try:
                self._client = connect(self.url, socket_timeout=self._socket_timeout)
                run_id = self._server_run_id()
                break
            except (RedisUnavailable, *_FAULTS) as again:
                if self._client is not None:
                    self._client.close()
                    self._client = None
                log.debug("reconnect failed: %s", again)
                delay = min(delay * 2, _BACKOFF_MAX_S)
        self.stats.reconnects += 1
        down = time.monotonic() - down_since
        self.writer.write_marker("reconnect", f"reconnected after {down:.1f}s: {reason}")
        self.active = set(self.states)
        if run_id != self._run_id:
            self.stats.restarts += 1
            self.writer.write_marker(
                "restart", f"server restarted (run_id {self._run_id} -> {run_id})"
            )
            self.warn(
                f"the server at {self.shown_url} restarted; resuming from the last recorded ids"
            )
            self._run_id = run_id
        else:
            self.warn(f"reconnected to {self.shown_url}")

    # -- progress ------------------------------------------------------------------

    def _report(self) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if now - self._last_report < _PROGRESS_EVERY_S:
            return
        rate = (self.stats.entries - self._reported_entries) / (now - self._last_report)
        self._last_report, self._reported_entries = now, self.stats.entries
        self.progress(
            Progress(
                entries=self.stats.entries,
                rate=rate,
                streams=len(self.states),
                bytes=self.writer.bytes_written,
                elapsed_s=now - self._t0,
            )
        )


def _chunks(states: list[StreamState], size: int) -> Iterator[list[StreamState]]:
    for i in range(0, len(states), size):
        yield states[i : i + size]


def _streams_args(states: list[StreamState]) -> list[bytes | str]:
    return ["STREAMS", *(s.name for s in states), *(s.cursor for s in states)]


def _trim_to(batches: dict[bytes, list[Any]], remaining: int) -> None:
    """Keep only the ``remaining`` oldest entries (by id) of one round, across streams."""
    total = sum(len(e) for e in batches.values())
    if total <= remaining:
        return
    names = list(batches)
    keep: dict[bytes, int] = {}
    for i, _ in by_id([batches[name] for name in names]):
        if remaining <= 0:
            break
        keep[names[i]] = keep.get(names[i], 0) + 1
        remaining -= 1
    for name in batches:
        del batches[name][keep.get(name, 0) :]


def _refused(url: str, exc: redis.ResponseError) -> RuntimeFailure:
    return RuntimeFailure(
        f"Redis at {url} refused a command: {error_reason(exc)}; the recorder needs INFO, SCAN, "
        "TYPE, XINFO, XREAD and MULTI/EXEC (e.g. ACL +@read +info +multi +exec +@connection)"
    )


def _show(name: bytes) -> str:
    return f"'{display_name(name)}'"
