"""Replay and record in one run: ``xtape replay IN --capture GLOB -o OUT``.

    result = replay_and_capture("in.xtape", ["order.accepted"], "actual.xtape", url=URL)
    result.record.entries, result.stop_reason     # "settled", "expected", "timeout", ...

The capture is an ordinary recording made by :class:`xtape.capture.Recorder` on a thread
of its own. It starts from the moment the replay starts: the recorder resolves a concrete
cursor for every output stream that exists (a stream created later is recorded from its
first entry) and only then is the first input published. It stops once the replay is
done and the outputs have been quiet for ``settle``, or ``expect`` entries arrived, or
``timeout`` passed since the start, or ``stop_event`` is set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xtape.capture import Recorder, RecordOptions, RecordStats
from xtape.capture.groups import GroupState, Leftovers, group_leftovers, read_groups
from xtape.connection import connect, keep_stream_replies_raw
from xtape.errors import RuntimeFailure, UsageError
from xtape.recording import TimeBase
from xtape.replay import OpenedSource, ReplayOptions, ReplayReport, open_source, replay
from xtape.replay.runner import ProgressFn

log = logging.getLogger(__name__)

#: How long the outputs must stay quiet after the replay, when nothing else is said.
DEFAULT_SETTLE_S = 1.0
#: How long the recorder may take to resolve its start cursors.
_START_TIMEOUT_S = 30.0
_POLL_S = 0.02
#: How often the consumer groups on the inputs are read while the capture waits.
_GROUP_POLL_S = 0.1
#: Without a timeout: the groups and the outputs did not move for this long, the capture ends.
_STALL_S = 30.0


@dataclass
class CaptureResult:
    """A replay and the recording of what the outputs received meanwhile."""

    path: Path
    replay: ReplayReport
    record: RecordStats
    #: ``settled`` (quiet for the settle time), ``expected`` (``expect`` entries arrived),
    #: ``timeout``, ``stopped`` (the caller's stop event) or ``stalled`` (no timeout given,
    #: and the consumer groups on the inputs did not move for 30 s).
    stop_reason: str
    expect: int | None = None
    #: Seconds from the end of the replay to the end of the capture.
    waited_s: float = 0.0
    #: With ``groups``: per consumer group of an input stream, what it left unread or
    #: unacknowledged at the end (only groups that left something).
    leftovers: list[Leftovers] = field(default_factory=list)
    #: With ``groups``: the input streams (as published) and the groups found on them.
    inputs: dict[str, int] = field(default_factory=dict)
    groups_seen: int = 0

    @property
    def entries(self) -> int:
        """Entries captured on the output streams."""
        return self.record.entries

    @property
    def complete(self) -> bool:
        """The capture ended as planned: settled, or all ``expect`` entries arrived."""
        if self.expect is not None:
            return self.record.entries >= self.expect
        return self.stop_reason == "settled"


def check_capture_options(
    settle: float | None, expect: int | None, timeout: float | None
) -> None:
    """The checks ``--settle``/``--expect``/``--timeout`` get, for library users too."""
    if settle is not None and not settle > 0:
        raise UsageError(f"--settle must be more than zero, not {settle}")
    if expect is not None and expect < 1:
        raise UsageError(f"--expect must be at least 1, not {expect}")
    if timeout is not None and not timeout > 0:
        raise UsageError(f"--timeout must be more than zero, not {timeout}")


def _check_replay_side(outputs: Sequence[str], options: ReplayOptions) -> None:
    """Raise :class:`UsageError` unless there are outputs and the replay is a real one
    that ends."""
    if not outputs:
        raise UsageError("give at least one output stream or glob to capture")
    if options.dry_run:
        raise UsageError("--capture needs a real replay: drop --dry-run")
    if options.loop:
        raise UsageError("--capture cannot be combined with --loop: the capture ends after the replay")


def replay_and_capture(
    source: str | Path | OpenedSource,
    outputs: Sequence[str],
    output: str | Path,
    *,
    url: str | None = None,
    options: ReplayOptions | None = None,
    variables: dict[str, str] | None = None,
    seed: int | None = None,
    time_base: TimeBase | None = None,
    settle: float | None = None,
    expect: int | None = None,
    timeout: float | None = None,
    stop_event: threading.Event | None = None,
    progress: ProgressFn | None = None,
    warn: Callable[[str], None] | None = None,
    cluster: bool | None = None,
    groups: bool = False,
    at_least: int | None = None,
) -> CaptureResult:
    """Replay ``source`` into ``url`` while recording the ``outputs`` (names or globs)
    into ``output``; see the module docstring for when it stops.

    ``settle`` defaults to :data:`DEFAULT_SETTLE_S` without ``expect`` (with it, the
    capture waits for the entries, up to ``timeout``). Raises like
    :func:`xtape.replay.replay` and :func:`xtape.capture.record`; a failure of
    either side stops the other. ``cluster`` is as for both (default: detected).

    With ``groups``, the consumer groups on the input streams decide when the service is
    done: the capture waits until every group read every input and acknowledged it (then
    the outputs must be quiet for ``settle``), or for ``timeout``; what a group left
    is in :attr:`CaptureResult.leftovers`. ``at_least``: the outputs are not taken as
    settled before this many entries arrived (unless the groups are done).
    """
    options = options or ReplayOptions()
    check_capture_options(settle, expect, timeout)
    _check_replay_side(outputs, options)
    if settle is None and expect is None:
        settle = DEFAULT_SETTLE_S
    src = source if isinstance(source, OpenedSource) else open_source(
        source, options, variables=variables, seed=seed, time_base=time_base
    )
    out_path = Path(output)
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    user_stop = stop_event or threading.Event()
    replay_stop = threading.Event()
    record_stop = threading.Event()
    recorder = Recorder(
        url,
        out_path,
        RecordOptions(
            patterns=list(outputs), count=expect, scan_interval=0.2, block=0.1, cluster=cluster
        ),
        warn=_quiet_about_missing_streams(warn),
        stop_event=record_stop,
    )
    box: dict[str, object] = {}

    def run_recorder() -> None:
        try:
            box["stats"] = recorder.run()
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    thread = threading.Thread(target=run_recorder, name="xtape-capture", daemon=True)
    reason: list[str] = []

    def watch() -> None:
        """Timeout and the caller's stop reach the replay too, whatever it waits on."""
        while not record_stop.is_set():
            if user_stop.is_set():
                reason.append("stopped")
            elif deadline is not None and time.monotonic() >= deadline:
                reason.append("timeout")
            else:
                user_stop.wait(_POLL_S)
                continue
            replay_stop.set()
            record_stop.set()
            return

    thread.start()
    watcher = threading.Thread(target=watch, name="xtape-capture-watch", daemon=True)
    watcher.start()
    try:
        _wait_started(recorder, thread, box)
        if not reason:
            report = replay(
                src,
                url,
                options,
                progress=progress,
                warn=warn,
                stop_event=replay_stop,
                cluster=cluster,
            )
        else:  # stopped before anything was published
            report = ReplayReport(source=src.name, pacing=str(options.pacing), interrupted=True)
        ended = time.monotonic()
        watch_groups = _Groups(url, list(report.streams)) if groups and not reason else None
        try:
            if not reason:
                reason.append(
                    _settle(recorder, thread, settle, expect, ended, deadline, user_stop, watch_groups, at_least)
                )
            leftovers = watch_groups.leftovers() if watch_groups is not None else []
            seen = watch_groups.seen if watch_groups is not None else 0
        finally:
            if watch_groups is not None:
                watch_groups.close()
    finally:
        record_stop.set()
        thread.join()
        watcher.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    stats = box["stats"]
    assert isinstance(stats, RecordStats)
    stop = reason[0] if reason else "settled"
    if stats.stop_reason == "count":
        stop = "expected"
    return CaptureResult(
        out_path, report, stats, stop, expect, time.monotonic() - ended,
        leftovers=leftovers, inputs=dict(report.streams), groups_seen=seen,
    )  # fmt: skip


class _Groups:
    """The consumer groups on the input streams, read from the server as the capture waits."""

    def __init__(self, url: str | None, streams: list[str]) -> None:
        self.client = connect(url, socket_timeout=10.0)
        keep_stream_replies_raw(self.client)
        self.streams = streams
        self.seen = 0
        #: What the groups looked like last, and since when (a stall is no change at all).
        self.shape: tuple[object, ...] = ()
        self.changed = time.monotonic()

    def states(self) -> list[GroupState]:
        out = [g for s in self.streams for g in read_groups(self.client, s)]
        self.seen = max(self.seen, len(out))
        return out

    def done(self) -> bool | None:
        """Whether every group is done (None: no group on any input, nothing to tell)."""
        states = self.states()
        shape = tuple((g.stream, g.name, g.last_delivered, g.pending, g.undelivered) for g in states)
        if shape != self.shape:
            self.shape, self.changed = shape, time.monotonic()
        if not states:
            return None
        return all(g.done for g in states)

    def leftovers(self) -> list[Leftovers]:
        return [group_leftovers(self.client, g) for g in self.states() if not g.done]

    def close(self) -> None:
        self.client.close()


def _quiet_about_missing_streams(warn: Callable[[str], None] | None) -> Callable[[str], None]:
    """Outputs that do not exist before the service writes them are the normal case."""
    say = warn or log.warning

    def filtered(message: str) -> None:
        if "does not exist yet" not in message:
            say(message)

    return filtered


def _wait_started(recorder: Recorder, thread: threading.Thread, box: dict[str, object]) -> None:
    """Until the recorder holds a cursor for every output stream (or failed, or stopped)."""
    limit = time.monotonic() + _START_TIMEOUT_S
    while not recorder.started.wait(_POLL_S):
        if not thread.is_alive() or recorder.stop_event.is_set():
            thread.join()
            error = box.get("error")
            if isinstance(error, BaseException):
                raise error
            return
        if time.monotonic() > limit:
            recorder.stop_event.set()
            thread.join()
            raise RuntimeFailure(f"the recorder did not start within {_START_TIMEOUT_S:.0f} s")


def _settle(
    recorder: Recorder,
    thread: threading.Thread,
    settle: float | None,
    expect: int | None,
    ended: float,
    deadline: float | None,
    user_stop: threading.Event,
    groups: _Groups | None = None,
    at_least: int | None = None,
) -> str:
    """After the replay: wait for the outputs to go quiet (or the expected entries), and,
    with ``groups``, for the service's consumer groups to be done first."""
    seen = recorder.stats.entries
    last_change = ended
    groups_done: bool | None = None
    next_look = 0.0
    while True:
        if not thread.is_alive():
            return "expected" if expect is not None and recorder.stats.entries >= expect else "stopped"
        if user_stop.is_set():
            return "stopped"
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return "timeout"
        entries = recorder.stats.entries
        if entries != seen:
            seen, last_change = entries, now
        if groups is not None and not groups_done and now >= next_look:
            groups_done = groups.done()
            next_look = now + _GROUP_POLL_S
            if groups_done:
                last_change = max(last_change, now)
        stalled = groups is not None and now - max(groups.changed, last_change) >= _STALL_S
        if groups_done is False and deadline is None and stalled:
            return "stalled"  # no timeout given: the groups stopped moving, do not wait forever
        if groups_done is False or (groups_done is None and at_least is not None and entries < at_least):
            pass  # the service is still at work (or the outputs still short): not settled
        elif settle is not None and now - last_change >= settle:
            return "settled"
        time.sleep(_POLL_S)
