"""The recorder: tail a set of streams into a recording until a stop rule fires.

One loop over a reader (:class:`~xtape.capture.server_reader.StreamReader`, chosen by
:func:`~xtape.capture.readers.open_reader`: one server, or a cluster); for one server,
two connections it manages itself (:mod:`.link`): one reads, the other
receives the server's invalidation messages (:mod:`.hints`), which name the streams
that changed. A round is one MULTI holding, for each *dirty* stream (named by a hint,
or not finished last round), ``XINFO STREAM`` and (for a cursor that is a recorded entry)
``XRANGE cursor cursor`` for the continuity checks of :mod:`.cursors`, and ``XREAD COUNT
batch``. With nothing dirty the file is flushed and the recorder waits for the next
hint; idle streams cost the server nothing. Cursors are concrete ids (never ``$``).

Every reconnect is the recorder's own (a dead connection is never reopened behind its
back): it writes a ``reconnect`` marker, compares the server's ``run_id`` (``restart``
marker) and checks every stream again, so a restart, a flush or a stream deleted and
recreated while the recorder was stalled is noticed and the new stream recorded from
its start.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from xtape.capture.cursors import StreamInfo, StreamState
from xtape.capture.discovery import Discovery
from xtape.capture.journal import Journal, RecordStats, WarnFn, quoted, refused
from xtape.capture.link import BACKOFF_MAX_S, BACKOFF_START_S, FAULTS, Stopped
from xtape.capture.options import RecordOptions
from xtape.capture.output import open_writer
from xtape.capture.progress import Backlog, ProgressFn, Reporter
from xtape.capture.readers import open_reader
from xtape.capture.redact import Redactor
from xtape.capture.rounds import Rounds, trim_to
from xtape.capture.server_reader import StreamReader, reports_trims
from xtape.capture.snapshot import Snapshots
from xtape.clock import Clock, MonotonicClock
from xtape.connection import error_reason, redact_url, resolve_url
from xtape.errors import CommandRefused, RedisUnavailable, WriteFailed
from xtape.observe.events import RecordEvents
from xtape.recording.split import SplitWriter
from xtape.recording.writer import RecordingWriter
from xtape.timeline import NS_PER_S

log = logging.getLogger(__name__)

_PROGRESS_EVERY_S = 0.25
_ROUND_BYTES = 32 << 20
#: How often the server's run_id is compared (a proxy may hide a restart).
_RUN_ID_EVERY_S = 1.0
#: With hints, the full SCAN is only a safety net.
_SAFETY_SCAN_S = 60.0
#: How often hints are read while rounds are busy (always before a wait).
_HINTS_EVERY_S = 0.05
#: How often the watchdog looks at the stop rules while the loop waits on the network.
_WATCH_S = 0.05

def record(
    url: str | None,
    path: str | Path,
    options: RecordOptions,
    *,
    progress: ProgressFn | None = None,
    warn: WarnFn | None = None,
    stop_event: threading.Event | None = None,
    observer: RecordEvents | None = None,
) -> RecordStats:
    """Record ``options.patterns`` from ``url`` into ``path``; see :class:`Recorder`."""
    recorder = Recorder(
        url, path, options, progress=progress, warn=warn, stop_event=stop_event, observer=observer
    )
    return recorder.run()


class Recorder:
    """Records streams into a file. Nothing is ever written to the server.

    Stops on the first of: ``count`` entries, ``duration``, ``until_idle`` without a
    new entry, ``stop_event`` set, or KeyboardInterrupt; in every case within a fraction
    of a second whatever the network does, and the file is closed cleanly (END record).
    Connection faults are retried with backoff until a stop rule fires. ``warn`` receives
    one-line messages for the user; without it they go to the ``xtape.capture`` logger.
    The recorder changes no process-wide state (no signal handlers, no gc switches).
    ``observer`` hears what happens (:mod:`xtape.observe.events`: metrics, health).
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
        clock: Clock | None = None,
        observer: RecordEvents | None = None,
    ) -> None:
        self.clock: Clock = clock or MonotonicClock()
        self.url = resolve_url(url)
        self.shown_url = redact_url(self.url)
        self.path = Path(path)
        self.opt = options
        self.progress = progress
        self.warn: WarnFn = warn or log.warning
        self.stop_event = stop_event or threading.Event()
        self.redactor = (
            Redactor(options.redact, options.redact_key, case_sensitive=options.redact_case_sensitive)
            if options.redact
            else None
        )
        self.stats = RecordStats(str(path))
        self.observer = observer
        self.journal = Journal(self.stats, self.warn, lambda: self.writer, observer)
        self.rounds = Rounds(self.journal, self.stats)
        #: The streams recorded, and those to read in the next rounds (the rounds' own).
        self.states, self.dirty = self.rounds.states, self.rounds.dirty
        #: The reader seam: one server until :meth:`_choose_reader` asks what it is.
        self.reader: StreamReader = open_reader(
            self.url,
            options.patterns,
            cluster=False,
            socket_timeout=options.block + 10.0,
            should_stop=lambda: bool(self._stop_reason()),
        )
        self._writer: RecordingWriter | SplitWriter | Snapshots | None = None
        self._run_id = ""
        self.discovery = Discovery(
            self.reader,
            options.patterns,
            warn=self.warn,
            recheck_s=options.scan_interval,
            exclude=options.exclude,
        )
        self._count = options.batch
        self._t0 = self._now_s()
        self._last_data = self._t0
        self._start_cursor: bytes | None = None
        self._backlog: Backlog | None = None
        self._finished = threading.Event()
        #: Set once every stream's start cursor is resolved and the file is open: entries
        #: added from then on are recorded (``replay --capture`` publishes only after it).
        self.started = threading.Event()
        self._reporter = Reporter(progress, self._t0)
        self._lost_reason = ""
        self._down_since = self._t0
        self._delay = BACKOFF_START_S

    # -- the run -------------------------------------------------------------------

    def run(self) -> RecordStats:
        """Record until a stop rule fires; returns what was recorded."""
        observer = self.observer or RecordEvents()
        try:
            stats = self._run()
        except WriteFailed as exc:
            observer.write_failed(str(exc))
            raise
        except BaseException:
            observer.finished("failed")
            raise
        observer.finished(stats.stop_reason)
        return stats

    def _run(self) -> RecordStats:
        existed = self.path.exists()
        watchdog = threading.Thread(target=self._watch, name="xtape-record-watch", daemon=True)
        watchdog.start()
        try:
            if self._start():
                self._writer = open_writer(self.path, self.opt, self.reader, self.shown_url, self.observer)
                if isinstance(self._writer, SplitWriter):
                    self.stats.series, self.stats.continues = self._writer.series, self._writer.after
                self._reporter.last = self._last_data = self._now_s()
                self.started.set()
                if self.observer is not None:
                    self.observer.started()
                try:
                    self.stats.stop_reason = self._loop()
                except KeyboardInterrupt:
                    self.stats.stop_reason = "interrupted"
                except CommandRefused as exc:
                    raise refused(self.shown_url, exc) from None
        except BaseException:
            self._close()
            if self.stats.entries == 0 and isinstance(self._writer, SplitWriter):
                self._writer.remove_created()
            elif not existed and self.stats.entries == 0 and str(self.path) != "-":
                # A failed recording that holds nothing: leave no stub behind.
                self.path.unlink(missing_ok=True)
            raise
        self._close()
        if self.redactor is not None and self._writer is not None:
            for glob in self.redactor.unmatched():
                self.warn(f"--redact {glob!r} matched no field name in this recording")
        self.stats.duration_s = self._now_s() - self._t0
        self.stats.streams.update({name: s.recorded for name, s in self.states.items()})
        return self.stats

    def _start(self) -> bool:
        """Connect and resolve the start; False if stopped meanwhile."""
        try:
            self._choose_reader()
            self._open(initial=True)
            if not reports_trims(self.reader.version):
                self.warn(
                    f"{self.reader.server} does not count the entries added to a stream (Redis 7.0+ "
                    "does): entries trimmed before they are recorded cannot be detected as gaps"
                )
            self._start_cursor = self.opt.start_spec.cursor(self.clock.wall_ns() // 1_000_000)
            self._discover(initial=True)
            return True
        except (*FAULTS, Stopped) as exc:
            reason = self._stop_reason()
            if reason == "stopped":
                self.stats.stop_reason = reason
                return False
            if reason:  # --duration or --count ran out while the server said nothing
                waited = self._now_s() - self._t0
                raise RedisUnavailable(
                    self.shown_url, f"the server did not answer within {waited:.1f} s"
                ) from None
            raise RedisUnavailable(self.shown_url, error_reason(exc)) from None
        except CommandRefused as exc:
            raise refused(self.shown_url, exc) from None

    def _choose_reader(self) -> None:
        """The reader for what the URL points at (one server, a cluster): see
        :func:`~xtape.capture.readers.open_reader`."""
        if self.opt.cluster is False:
            return
        self.reader = open_reader(
            self.url,
            self.opt.patterns,
            cluster=self.opt.cluster,
            socket_timeout=self.opt.block + 10.0,
            should_stop=lambda: bool(self._stop_reason()),
        )
        self.discovery.reader = self.reader

    def _close(self) -> None:
        self._finished.set()
        try:
            if self._writer is not None:
                self._writer.close()
                self.stats.bytes = self._writer.bytes_written
        finally:
            self.reader.close()

    @property
    def uses_hints(self) -> bool:
        """Whether the server sends invalidation hints (else every wait polls all)."""
        return self.reader.uses_hints

    @property
    def writer(self) -> RecordingWriter | SplitWriter | Snapshots:
        assert self._writer is not None
        return self._writer

    def _watch(self) -> None:
        """Stop rules take effect even while the loop waits on a frozen network."""
        while not self._finished.wait(_WATCH_S):
            if self._stop_reason():
                self.reader.interrupt()

    def _loop(self) -> str:
        next_scan = self._now_s() + self._scan_every()
        next_run_id = self._now_s() + _RUN_ID_EVERY_S
        next_hints = 0.0
        while True:
            reason = self._stop_reason()
            if reason:
                return reason
            try:
                if not self.reader.connected:
                    self._reopen()
                    next_scan = self._now_s() + self._scan_every()
                    continue
                now = self._now_s()
                self._topology()
                if now >= next_scan:
                    self._discover(initial=False)
                    next_scan = self._now_s() + self._scan_every()
                if now >= next_run_id:
                    self._check_run_id()
                    next_run_id = self._now_s() + _RUN_ID_EVERY_S
                if not self.dirty or now >= next_hints:
                    # While rounds are busy, hints are read now and then: each look is a
                    # syscall that gives the GIL to the writer thread. Streams they name
                    # for the first time join after the streams already dirty were read.
                    if self.discovery.pending:
                        self._add_streams(self.discovery.named(self.states), initial=False)
                    if self.reader.uses_hints:
                        self.rounds.apply(self.reader.changes(), self.discovery.note)
                    next_hints = now + _HINTS_EVERY_S
                if self.dirty:
                    self._round()
                elif self.discovery.pending:
                    self._add_streams(self.discovery.named(self.states), initial=False)
                else:
                    self._wait(self._wait_s(next_scan))
            except (*FAULTS, Stopped) as exc:
                if not self._stop_reason():
                    self._lost(exc)
            self._report()

    def _stop_reason(self) -> str:
        if self.stop_event.is_set():
            return "stopped"
        if self.opt.count is not None and self.stats.entries >= self.opt.count:
            return "count"
        now = self._now_s()
        if self.opt.duration is not None and now - self._t0 >= self.opt.duration:
            return "duration"
        if (
            self.opt.until_idle is not None
            and self.started.is_set()  # (before, the server's answers are awaited)
            and now - self._last_data >= self.opt.until_idle
        ):
            return "idle"
        return ""

    def _wait_s(self, next_scan: float) -> float:
        """How long a wait may last before a stop rule or a rescan is due."""
        now = self._now_s()
        limits = [self.opt.block, next_scan - now]
        if self.opt.duration is not None:
            limits.append(self._t0 + self.opt.duration - now)
        if self.opt.until_idle is not None:
            limits.append(self._last_data + self.opt.until_idle - now)
        return max(min(limits), 0.001)

    def _scan_every(self) -> float:
        if not self.reader.uses_hints:
            return self.opt.scan_interval
        return max(self.opt.scan_interval, _SAFETY_SCAN_S)

    # -- waiting -------------------------------------------------------------------

    def _wait(self, wait_s: float) -> None:
        """Wait for traffic: for a hint, or (without hints) one XREAD BLOCK over all."""
        if self._writer is not None:
            self.writer.flush()
        if not self.states:
            self.stop_event.wait(wait_s)
            return
        if self.reader.uses_hints:
            self.rounds.apply(self.reader.changes(wait_s), self.discovery.note)
        else:
            self.dirty.update(self.reader.block(list(self.states.values()), wait_s))

    # -- reading -------------------------------------------------------------------

    def _round(self) -> None:
        """One MULTI: check and read (up to a limit of) the dirty streams; write what came."""
        found = self.rounds.read(
            self.reader, self._count, self.opt.keys_per_read, self.clock.wall_ns, self.shown_url
        )
        if found is not None:
            self._write(*found)

    def _write(
        self, batches: dict[bytes, list[Any]], infos: dict[bytes, StreamInfo], capture_ns: int
    ) -> None:
        if self.opt.count is not None:
            trim_to(batches, self.opt.count - self.stats.entries)
        entries_before = self.stats.entries
        for name, entries in batches.items():
            if not entries:
                continue
            if self.redactor is not None:
                self.redactor.apply(entries)
            self.writer.write_entries(name, entries, capture_ns)
            state = self.states[name]
            state.advance(entries, infos.get(name))
            if self._backlog is not None:
                self._backlog.advance(name, state.cursor, len(entries))
            self.stats.entries += len(entries)
        if self.observer is not None:
            for name, info in infos.items():
                if name in self.states:
                    self.observer.lag(name, *self.states[name].behind(info))
        self._last_data = self._now_s()
        # Large values: fewer entries per read, so one round stays near _ROUND_BYTES.
        # (Sized from each batch's first entry: the writer packs on its own thread.)
        firsts = [entries[0] for entries in batches.values() if entries]
        if self.stats.entries > entries_before and firsts:
            per_entry = sum(len(e[0]) + sum(map(len, e[1])) for e in firsts) / len(firsts)
            self._count = max(16, min(self.opt.batch, int(_ROUND_BYTES / max(per_entry, 1))))

    # -- discovery -----------------------------------------------------------------

    def _discover(self, *, initial: bool) -> None:
        """Find the streams to record (all of them: SCAN and TYPE)."""
        self._add_streams(self.discovery.scan(self.states, initial=initial), initial=initial)

    def _add_streams(self, found: list[tuple[bytes, StreamInfo]], *, initial: bool) -> None:
        for name, info in found:
            if initial:
                self.states[name] = StreamState.at_start(name, info, self._start_cursor)
                if self._start_cursor is not None:
                    if self._backlog is None:
                        self._backlog = Backlog()
                    self._backlog.add(name, info, self._start_cursor)
            elif self.opt.start_spec.kind in ("now", "start"):
                # Created after the recording started: all of it is new traffic.
                self.states[name] = StreamState(name, b"0-0", 0)
            else:
                assert self._start_cursor is not None
                self.states[name] = StreamState.at_start(name, info, self._start_cursor)
            self.rounds.track(name)
            log.debug("recording %s from %s", quoted(name), self.states[name].cursor)

    # -- connections and faults ----------------------------------------------------

    def _open(self, *, initial: bool) -> None:
        """Open the reader's connections; after a reconnect, compare the run_id."""
        self.reader.open()
        if initial:
            self._run_id = self.reader.run_id
        elif self.reader.run_id != self._run_id:
            self._restarted(self.reader.run_id)

    def _check_run_id(self) -> None:
        run_id = self.reader.server_info().get("run_id", "")
        if run_id != self._run_id:
            self._restarted(run_id)
        if (snapshots := self.opt.snapshots) is not None and snapshots.key is not None:
            snapshots.key_seen(self.reader.types([snapshots.key])[0] != b"none")

    def _restarted(self, run_id: str) -> None:
        kind = self.reader.restart_kind(self._run_id, run_id)
        if kind == "topology":  # other primaries, not a restart: see _topology
            self._run_id = run_id
            return
        self.journal.restarted(self._run_id, run_id, self.shown_url)
        self._run_id = run_id
        self.rounds.recheck(failover=False)

    def _topology(self) -> None:
        """A cluster changed shape (primaries added or removed, slots moved, a failover): a marker
        and a line each; every stream checked again from its cursor; new primaries searched."""
        changes = self.reader.topology_changes()
        for change in changes:
            if self.journal.cluster_changed(change.kind, change.text):
                self.rounds.recheck(failover=True)
        if changes:
            self.dirty.update(self.states)
            if any(change.added for change in changes):
                self._discover(initial=False)

    def _lost(self, exc: BaseException) -> None:
        """The connection failed: note it, reconnect with backoff (see :meth:`_reopen`)."""
        self._lost_reason = error_reason(exc)
        self._down_since = self._now_s()
        self.journal.lost(self._lost_reason, self.shown_url)
        if self._writer is not None:
            self.writer.flush()
        self.reader.close()
        self._delay = BACKOFF_START_S

    def _reopen(self) -> None:
        """One reconnection attempt (after a backoff wait that a stop cuts short)."""
        self._sleep(self._delay)
        if self._stop_reason():
            return
        try:
            self._open(initial=False)
        except FAULTS as again:
            self.reader.close()
            log.debug("reconnect failed: %s", again)
            self._delay = min(self._delay * 2, BACKOFF_MAX_S)
            return
        down = self._now_s() - self._down_since
        self.journal.reconnected(down, self._lost_reason, self.shown_url)
        # Hints sent while we were away are lost: every stream is checked again.
        self.dirty.update(self.states)
        self._discover(initial=False)

    def _now_s(self) -> float:
        """The clock's monotonic time in seconds (what the stop rules and backoff count)."""
        return self.clock.now_ns() / NS_PER_S

    def _sleep(self, seconds: float) -> None:
        deadline = self._now_s() + seconds
        while not self._stop_reason():
            left = deadline - self._now_s()
            if left <= 0:
                return
            self.stop_event.wait(min(left, _WATCH_S * 2))

    def _report(self) -> None:
        if self.observer is not None:
            self.observer.tick(self.writer)
        if self._backlog is not None and self._backlog.finished():
            self._backlog = None
        now, nbytes = self._now_s(), self.writer.bytes_written
        self._reporter.report(now, self.stats.entries, len(self.states), nbytes, self._backlog, _PROGRESS_EVERY_S)
