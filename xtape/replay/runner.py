"""The replay loop: any :class:`~xtape.timeline.Source`, paced, transformed, published.

Scenarios and recordings take the same path: ``source.timeline(iteration, schedule)``
-> :class:`Transform` -> :func:`batches` (pacing) -> :class:`Publisher`. With ``loop``
pass ``k`` starts ``loop_interval_ms`` after pass ``k-1``'s last deadline (at max speed:
after it actually finished), until interrupted or ``max_iterations``.

Ctrl-C stops a replay cleanly: the first SIGINT asks the loop to stop at the next
batch boundary, replies still in flight are read, and the report so far is returned
(``interrupted=True``). A second Ctrl-C raises ``KeyboardInterrupt`` at once.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from types import FrameType

from xtape.errors import UsageError
from xtape.ids import MAX_PART, parse_id
from xtape.replay.publish import Publisher
from xtape.replay.report import LatenessHistogram, ReplayProgress, ReplayReport
from xtape.replay.scheduler import Clock, MonotonicClock, Pacing, batches
from xtape.timeline import NS_PER_MS, NS_PER_S, Event, Source, display_name
from xtape.transform import Transform

log = logging.getLogger(__name__)

ProgressFn = Callable[[ReplayProgress], None]
_stream_of = attrgetter("stream")


@dataclass(frozen=True)
class ReplayOptions:
    """Everything about a replay except where it goes (the publisher decides that,
    including ``keep_ids`` and ``maxlen``)."""

    pacing: Pacing = Pacing("speed", 1.0)  # noqa: RUF009 (frozen, so sharing it is safe)
    loop: bool = False
    loop_interval_ms: int = 0
    transform: Transform = Transform()  # noqa: RUF009 (frozen; its name cache is harmless)
    #: Stop after this many passes (tests, dry runs of looped replays).
    max_iterations: int | None = None
    #: Events per pipelined round trip at most (default: per pacing).
    batch_cap: int | None = None
    #: Seconds between progress callbacks at most.
    progress_every_s: float = 0.25

    def __post_init__(self) -> None:
        if self.loop_interval_ms < 0:
            raise UsageError(f"--loop-interval must be 0 or more, not {self.loop_interval_ms}")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise UsageError("max_iterations must be at least 1")
        if self.batch_cap is not None and self.batch_cap < 1:
            raise UsageError("batch_cap must be at least 1")


class KeepIdsConflict(UsageError):
    """``--keep-ids`` would publish an id that the target stream cannot take."""

    def __init__(self, stream: bytes, first_id: bytes, top_id: bytes) -> None:
        self.stream = stream
        self.first_id = first_id
        self.top_id = top_id
        super().__init__(
            f"cannot keep ids: stream '{display_name(stream)}' already has ids up to "
            f"{top_id.decode()} and the first id to replay into it is {first_id.decode()}; "
            "replay into a fresh target (an empty database, or --prefix/--map), "
            "or drop --keep-ids"
        )


class KeepIdsOrder(UsageError):
    """``--keep-ids`` with a timeline whose ids on one stream cannot all be published
    in order (Redis takes only increasing ids)."""

    def __init__(self, stream: bytes, entry_id: bytes, previous: bytes | None) -> None:
        self.stream = stream
        self.entry_id = entry_id
        self.previous = previous
        after = (
            "an event without an id (which Redis gives the current time)"
            if previous is None
            else f"id {previous.decode()}"
        )
        super().__init__(
            f"cannot keep ids: on stream '{display_name(stream)}' id {entry_id.decode()} "
            f"comes after {after}, and Redis only takes increasing ids; give every event of "
            "the stream an increasing id (a scenario converted with --collapse-repeats has "
            "none for repeats: convert without it), or drop --keep-ids"
        )


def first_ids(events: Iterable[Event]) -> dict[bytes, bytes | None]:
    """Every stream a timeline publishes to, with the first id it publishes there
    (``None`` when that event has no id, so Redis generates one). One pass.

    It also checks that each stream's ids can all be published in order, raising
    :class:`KeepIdsOrder` before anything is sent where they cannot: ids must increase,
    and no event with an id may follow one without (Redis gives that one the current
    time, above any recorded id).
    """
    firsts: dict[bytes, bytes | None] = {}
    #: Per stream: the last id as a comparable tuple and as given; (None, None) after an
    #: event without an id.
    last: dict[bytes, tuple[tuple[int, int] | None, bytes | None]] = {}
    for event in events:
        stream = event.stream
        if stream not in firsts:
            firsts[stream] = event.id
        if event.id is None:
            last[stream] = (None, None)
            continue
        ms, seq = parse_id(event.id)
        if stream in last:
            previous, previous_id = last[stream]
            if previous is None:
                raise KeepIdsOrder(stream, event.id, None)
            fits = ms >= previous[0] if seq is None else (ms, seq) > previous
            if not fits:
                raise KeepIdsOrder(stream, event.id, previous_id)
        # After ``ms-*`` Redis picks the sequence: only a later ms (or another ``ms-*``) fits.
        last[stream] = ((ms, MAX_PART if seq is None else seq), event.id)
    return firsts


def check_keep_ids(firsts: dict[bytes, bytes | None], publisher: Publisher) -> None:
    """Raise :class:`KeepIdsConflict` unless every first id is above its stream's
    last generated id (a missing stream takes any id above ``0-0``)."""
    tops = publisher.stream_tops(firsts)
    for stream, first in firsts.items():
        if first is None:
            continue
        first_ms, first_seq = parse_id(first)
        top = tops.get(stream) or b"0-0"
        top_ms, top_seq = parse_id(top)
        fits = (
            first_ms >= top_ms
            if first_seq is None
            else (first_ms, first_seq) > (top_ms, top_seq or 0)
        )
        if not fits:
            raise KeepIdsConflict(stream, first, top)


def replay(
    source: Source,
    publisher: Publisher,
    options: ReplayOptions | None = None,
    *,
    clock: Clock | None = None,
    progress: ProgressFn | None = None,
) -> ReplayReport:
    """Pace ``source``'s timeline against ``clock`` and publish it through ``publisher``.

    Refused entries are counted in the report, not raised; a lost connection raises
    :class:`~xtape.errors.RedisUnavailable`. With ``publisher.keep_ids`` every target
    stream is checked before anything is published (:func:`check_keep_ids`).
    """
    options = options or ReplayOptions()
    if publisher.keep_ids:
        if options.loop:
            raise UsageError(
                "--keep-ids cannot be combined with --loop: a second pass would reuse the ids of the first"
            )
        firsts = first_ids(options.transform.apply(source.timeline(0, lambda seq, offset: 0)))
        check_keep_ids(firsts, publisher)
    return _Replay(source, publisher, options, clock or MonotonicClock(), progress).run()


class _Stop(Exception):
    """Raised at a safe point after a Ctrl-C to unwind the replay loop."""


class _Replay:
    """The state of one replay: counters, the schedule's origin, the stop flag."""

    def __init__(
        self,
        source: Source,
        publisher: Publisher,
        options: ReplayOptions,
        clock: Clock,
        progress: ProgressFn | None,
    ) -> None:
        self.source = source
        self.publisher = publisher
        self.options = options
        self.clock = clock
        self.progress = progress
        self.sent: Counter[bytes] = Counter()
        self.total_sent = 0
        self.lateness = LatenessHistogram()
        self.iterations = 0
        self.pass_start_sent = 0
        self.stop_requested = False
        self.t0 = clock.now_ns()
        self.wall0 = clock.wall_ns()
        self.progress_every_ns = max(1, int(options.progress_every_s * NS_PER_S))
        self.next_progress = self.t0 + self.progress_every_ns
        self.next_gc = self.t0 + NS_PER_S

    def run(self) -> ReplayReport:
        # A full collection scans every object (tens of thousands after the imports) and
        # stalls for 10-30 ms: a deadline missed. The loop makes no cycles worth chasing;
        # young generations are collected while waiting (see _idle).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            with self._sigint_as_stop_request():
                interrupted = self._run()
            self.publisher.flush()
        finally:
            if gc_was_enabled:
                gc.enable()
        return self._report(interrupted)

    def _run(self) -> bool:
        """The passes; whether a Ctrl-C stopped them."""
        try:
            self._passes()
        except _Stop:
            pass
        except KeyboardInterrupt:
            if self.stop_requested:
                raise  # a second Ctrl-C: leave now, without waiting for replies
            # raised by code, not by our handler: the state is sound
        else:
            return False
        log.info("replay of %s interrupted after %d entries", self.source.name, self.total_sent)
        return True

    def _passes(self) -> None:
        options = self.options
        pacing = options.pacing
        shift = options.transform.shift_ns
        base = 0  # this pass's start, ns after t0
        while options.max_iterations is None or self.iterations < options.max_iterations:

            def schedule(seq: int, offset_ns: int, base: int = base) -> int:
                due = base + pacing.deadline_ns(seq, offset_ns - shift)
                return (self.wall0 + due) // NS_PER_MS

            timeline = options.transform.apply(self.source.timeline(self.iterations, schedule))
            if self.iterations == 0:
                timeline = self._start_with(timeline)
            self.pass_start_sent = self.total_sent
            last_deadline = self._play(timeline, self.t0 + base)
            self.iterations += 1
            self.pass_start_sent = self.total_sent
            if not options.loop or last_deadline is None:
                return
            interval = options.loop_interval_ms * NS_PER_MS
            if pacing.is_max_speed:
                base = self.clock.now_ns() - self.t0 + interval
            else:
                base = last_deadline - self.t0 + pacing.period_ns + interval

    def _start_with(self, timeline: Iterator[Event]) -> Iterator[Event]:
        """Start the clock once the first event is at hand (opening a file, reading its
        first records, rendering a first payload take time the schedule must not lose)."""
        first = next(timeline, None)
        self.t0 = self.clock.now_ns()
        self.wall0 = self.clock.wall_ns()
        self.next_progress = self.t0 + self.progress_every_ns
        if first is None:
            return iter(())
        return chain((first,), timeline)

    def _play(self, timeline: Iterator[Event], start_ns: int) -> int | None:
        """Publish one pass; the last event's absolute deadline (``None`` if empty)."""
        publisher = self.publisher
        record_lateness = not self.options.pacing.is_max_speed
        last: int | None = None
        for batch in batches(
            timeline,
            clock=self.clock,
            pacing=self.options.pacing,
            start_ns=start_ns,
            cap=self.options.batch_cap,
            on_idle=self._idle,
            idle_every_ns=min(self.progress_every_ns, 100 * NS_PER_MS),
        ):
            events = batch.events
            publisher.publish(events)
            now = self.clock.now_ns()
            if record_lateness:
                self.lateness.record(batch.deadlines, now)
                last = batch.deadlines[-1]
            else:
                last = start_ns
            self.sent.update(map(_stream_of, events))
            self.total_sent += len(events)
            if now >= self.next_progress:
                self._report_progress(now)
            if self.stop_requested:
                raise _Stop
        return last

    def _idle(self) -> None:
        if self.stop_requested:
            raise _Stop
        self.publisher.poll()
        now = self.clock.now_ns()
        if now >= self.next_gc:
            gc.collect(0)  # cheap (well under 1 ms): the young objects only
            self.next_gc = now + NS_PER_S
        if now >= self.next_progress:
            self._report_progress(now)

    def _report_progress(self, now: int) -> None:
        self.next_progress = now + self.progress_every_ns
        if self.progress is not None:
            self.progress(
                ReplayProgress(
                    sent=self.total_sent,
                    errors=self.publisher.errors.count,
                    iteration=self.iterations,
                    elapsed_s=(now - self.t0) / NS_PER_S,
                )
            )

    def _report(self, interrupted: bool) -> ReplayReport:
        errors = self.publisher.errors
        accepted = {
            display_name(name): count - errors.by_stream.get(name, 0)
            for name, count in sorted(self.sent.items())
        }
        streams = {name: count for name, count in accepted.items() if count > 0}
        return ReplayReport(
            source=self.source.name,
            pacing=self.options.pacing.describe(),
            published=self.total_sent - errors.count,
            errors=errors.count,
            error_messages=list(errors.messages),
            streams=streams,
            # a pass cut short by Ctrl-C counts if it published anything
            iterations=self.iterations + (self.total_sent > self.pass_start_sent),
            duration_s=(self.clock.now_ns() - self.t0) / NS_PER_S,
            lateness=self.lateness.summary(),
            interrupted=interrupted,
        )

    @contextmanager
    def _sigint_as_stop_request(self) -> Iterator[None]:
        """Turn the first SIGINT (or SIGTERM) into a stop request honoured at a safe point
        (never in the middle of writing a command or reading a reply). Only in the main
        thread, and only when nobody else has replaced Python's default handler."""
        if (
            threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield
            return

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if self.stop_requested:
                raise KeyboardInterrupt
            self.stop_requested = True

        previous_term = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGINT, on_signal)
        if previous_term is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, on_signal)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            if previous_term is signal.SIG_DFL:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
