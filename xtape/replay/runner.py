"""The replay loop: any :class:`~xtape.timeline.Source`, paced, transformed, published.

Scenarios and recordings take the same path: ``source.timeline(iteration, schedule)``
-> :class:`Transform` -> :func:`batches` (pacing) -> :class:`Publisher`. With ``loop``
pass ``k`` starts ``loop_interval`` seconds after pass ``k-1``'s last deadline (at max speed:
after it actually finished), until stopped or ``max_iterations``.

A replay stops cleanly when ``stop_event`` is set (the CLI sets it on Ctrl-C or
SIGTERM): at the next batch boundary, or within 0.1 s while it waits; the replies
still in flight are read and the report so far is returned (``interrupted=True``).
A ``KeyboardInterrupt`` raised while the event is already set (a second Ctrl-C)
leaves at once. The loop changes no process-wide state (signal handlers, the garbage
collector): that is the caller's business (see ``xtape.process``).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import replace
from itertools import chain
from operator import attrgetter

from xtape.clock import Clock, MonotonicClock
from xtape.errors import PublishFailed, RedisUnavailable, ReplayAborted, XtapeError
from xtape.observe.events import ReplayEvents
from xtape.replay.keep_ids import check_keep_ids, first_ids
from xtape.replay.options import ReplayOptions
from xtape.replay.prefetch import Prefetched
from xtape.replay.publish import Publisher
from xtape.replay.report import LatenessHistogram, ReplayProgress, ReplayReport
from xtape.replay.scheduler import batches
from xtape.replay.source import OpenedSource
from xtape.timeline import NS_PER_MS, NS_PER_S, Event, Source, display_name
from xtape.units import match_any, seconds_to_ns

log = logging.getLogger(__name__)

ProgressFn = Callable[[ReplayProgress], None]
_stream_of = attrgetter("stream")


def replay_through(
    source: Source,
    publisher: Publisher,
    options: ReplayOptions | None = None,
    *,
    clock: Clock | None = None,
    progress: ProgressFn | None = None,
    stop_event: threading.Event | None = None,
    observer: ReplayEvents | None = None,
) -> ReplayReport:
    """Pace ``source``'s timeline against ``clock`` and publish it through ``publisher``.

    Refused entries are counted in the report, not raised, until
    ``options.max_refusals`` come in a row (unless ``options.keep_going``). A failure that stops the replay (a lost
    connection, too many refusals) raises :class:`~xtape.errors.ReplayAborted`, whose
    ``report`` counts what Redis confirmed. With ``publisher.keep_ids`` every target
    stream is checked before anything is published (:func:`check_keep_ids`).
    ``observer`` hears each pass and batch (:mod:`xtape.observe.events`: metrics, health).
    """
    options = options or ReplayOptions()
    if publisher.keep_ids and not options.keep_ids:
        options = replace(options, keep_ids=True)  # the options' checks, with keep_ids
    if publisher.keep_ids:
        firsts = first_ids(options.transform.apply(source.timeline(0, lambda seq, offset: 0)))
        check_keep_ids(firsts, publisher)
    return _Replay(
        source, publisher, options, clock or MonotonicClock(), progress, stop_event, observer
    ).run()


class _Stop(Exception):
    """Raised at a safe point once a stop is requested, to unwind the replay loop."""


class _Replay:
    """The state of one replay: counters, the schedule's origin, the stop flag."""

    def __init__(
        self,
        source: Source,
        publisher: Publisher,
        options: ReplayOptions,
        clock: Clock,
        progress: ProgressFn | None,
        stop_event: threading.Event | None,
        observer: ReplayEvents | None = None,
    ) -> None:
        self.source = source
        self.publisher = publisher
        self.options = options
        self.clock = clock
        self.progress = progress
        self.stop_event = stop_event or threading.Event()
        self.sent: Counter[bytes] = Counter()
        self.total_sent = 0
        self.lateness = LatenessHistogram()
        self.iterations = 0
        self.pass_start_sent = 0
        self.t0 = clock.now_ns()
        self.wall0 = clock.wall_ns()
        self.pass_t0 = self.t0
        self.progress_every_ns = max(1, seconds_to_ns(options.progress_every))
        self.next_progress = self.t0 + self.progress_every_ns
        self.next_gc = self.t0 + NS_PER_S
        self.pass_total, self.pass_span_ns = _pass_size(source, options)
        self.observer = observer or ReplayEvents()

    def run(self) -> ReplayReport:
        try:
            return self._outcome()
        finally:
            self.observer.end()

    def _outcome(self) -> ReplayReport:
        failure: XtapeError | None = None
        interrupted = False
        try:
            interrupted = self._run()
            self.publisher.flush()
        except PublishFailed as exc:
            failure = exc
            with suppress(XtapeError):
                self.publisher.flush()  # the replies in flight complete the counts
        except RedisUnavailable as exc:
            if self.stop_event.is_set():
                interrupted = True  # stopped while reconnecting
            else:
                failure = exc
        except XtapeError as exc:  # anything else that stops a replay midway
            failure = exc
        report = self._report(interrupted or self.stop_event.is_set())
        if failure is not None:
            raise ReplayAborted(failure, report)
        return report

    def _run(self) -> bool:
        """The passes; whether a stop request (or a Ctrl-C) ended them."""
        try:
            self._passes()
        except _Stop:
            pass
        except KeyboardInterrupt:
            if self.stop_event.is_set():
                raise  # a second Ctrl-C: leave now, without waiting for replies
            # raised by code (or Python's own SIGINT handler) between two steps
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
            ready = None
            if isinstance(self.source, OpenedSource) and self.source.live:
                timeline = prefetched = Prefetched(timeline)
                ready = prefetched.ready
            if self.iterations == 0:
                timeline = self._start_with(timeline)
            self.pass_start_sent = self.total_sent
            self.pass_t0 = self.t0 + base
            self.observer.pass_started(self.iterations)
            last_deadline = self._play(timeline, self.t0 + base, ready)
            self.iterations += 1
            self.pass_start_sent = self.total_sent
            if not options.loop or last_deadline is None:
                return
            if pacing.is_max_speed:
                base = self.clock.now_ns() - self.t0 + options.interval_ns
            else:
                base = last_deadline - self.t0 + pacing.period_ns + options.interval_ns

    def _start_with(self, timeline: Iterator[Event]) -> Iterator[Event]:
        """Start the clock once the first event is at hand (opening a file, reading its
        first records, rendering a first payload take time the schedule must not lose).

        The wall clock that ``{{timestamp}}`` is read from stays where it was: the first
        payload was rendered with it, and every later one must be stamped on the same
        origin, so that stamps are spaced exactly as the schedule."""
        first = next(timeline, None)
        self.t0 = self.clock.now_ns()
        self.next_progress = self.t0 + self.progress_every_ns
        if first is None:
            return iter(())
        return chain((first,), timeline)

    def _play(
        self, timeline: Iterator[Event], start_ns: int, ready: Callable[[], bool] | None = None
    ) -> int | None:
        """Publish one pass; the last event's absolute deadline (``None`` if empty)."""
        publisher = self.publisher
        errors = publisher.errors
        max_refusals = self.options.refusal_limit
        stop = self.stop_event
        record_lateness = not self.options.pacing.is_max_speed
        observer = self.observer
        last: int | None = None
        for batch in batches(
            timeline,
            clock=self.clock,
            pacing=self.options.pacing,
            start_ns=start_ns,
            cap=self.options.batch_cap,
            on_idle=self._idle,
            idle_every_ns=min(self.progress_every_ns, 100 * NS_PER_MS),
            ready=ready,
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
            observer.published(batch.deadlines if record_lateness else None, now)
            if now >= self.next_progress:
                self._report_progress(now)
            if max_refusals is not None and errors.consecutive >= max_refusals:
                raise PublishFailed(errors.consecutive, errors.run_first)
            if stop.is_set():
                raise _Stop
        return last

    def _idle(self) -> None:
        if self.stop_event.is_set():
            raise _Stop
        self.publisher.poll()
        self.observer.idle()
        errors = self.publisher.errors
        limit = self.options.refusal_limit
        if limit is not None and errors.consecutive >= limit:
            raise PublishFailed(errors.consecutive, errors.run_first)
        now = self.clock.now_ns()
        if now >= self.next_gc:
            # With automatic collection paused (``xtape.process``), the young objects
            # only: well under 1 ms, where a full collection stalls for 10-30 ms.
            gc.collect(0)
            self.next_gc = now + NS_PER_S
        if now >= self.next_progress:
            self._report_progress(now)

    def _report_progress(self, now: int) -> None:
        self.next_progress = now + self.progress_every_ns
        if self.progress is not None:
            self.progress(self._progress(now))

    def _progress(self, now: int) -> ReplayProgress:
        pass_sent = self.total_sent - self.pass_start_sent
        in_pass_ns = max(now - self.pass_t0, 1)
        rate = pass_sent * NS_PER_S / in_pass_ns
        total = self.pass_total
        pacing = self.options.pacing
        percent: float | None = None
        eta: float | None = None
        if total is not None:
            percent = 100.0 * min(pass_sent / total, 1.0) if total else 100.0
        if self.pass_span_ns is not None:
            eta = max(self.pass_t0 + self.pass_span_ns - now, 0) / NS_PER_S
            if percent is None:
                percent = 100.0 * min(in_pass_ns / max(self.pass_span_ns, 1), 1.0)
        elif total is not None:
            eta = pacing.eta_s(in_pass_ns, pass_sent, total)
            if eta is None and rate > 0:
                eta = max(total - pass_sent, 0) / rate
        return ReplayProgress(
            sent=self.total_sent,
            errors=self.publisher.errors.count,
            iteration=self.iterations,
            elapsed_s=(now - self.t0) / NS_PER_S,
            pass_sent=pass_sent,
            pass_total=total,
            rate=rate,
            percent=percent,
            eta_s=eta,
        )

    def _report(self, interrupted: bool) -> ReplayReport:
        errors = self.publisher.errors
        unconfirmed = Counter(map(_stream_of, self.publisher.unconfirmed()))
        accepted = {
            display_name(name): count - errors.by_stream.get(name, 0) - unconfirmed.get(name, 0)
            for name, count in sorted(self.sent.items())
        }
        streams = {name: count for name, count in accepted.items() if count > 0}
        published = self.total_sent - errors.count - sum(unconfirmed.values())
        multiply = self.options.transform.multiply
        copies: dict[str, int] = {}
        if multiply is not None:
            by_stream = {
                name: count - errors.by_stream.get(name, 0) - unconfirmed.get(name, 0)
                for name, count in self.sent.items()
            }
            copies = {str(k): n for k, n in multiply.per_copy(published, by_stream).items()}
        return ReplayReport(
            source=self.source.name,
            pacing=self.options.pacing.describe(),
            published=published,
            errors=errors.count,
            error_messages=list(errors.messages),
            streams=streams,
            # a pass cut short counts if it published anything
            iterations=self.iterations + (self.total_sent > self.pass_start_sent),
            duration_s=(self.clock.now_ns() - self.t0) / NS_PER_S,
            lateness=self.lateness.summary(),
            interrupted=interrupted,
            warnings=self._warnings(published + errors.count),
            copies=copies,
        )

    def _warnings(self, answered: int) -> list[str]:
        """What the user should hear about a replay that ran through at least once."""
        if not self.iterations:
            return []
        transform = self.options.transform
        warnings = [
            f"--map {text}: no stream matched its source; nothing was renamed by it"
            for text in transform.unused_maps()
        ]
        if answered == 0 and transform.filtered:
            warnings.append(NOTHING_MATCHED)
        return warnings


#: The warning of a replay whose --stream/--since/--until/--where/--sample left nothing
#: (the command line makes it an error, as ``convert`` does: docs/cli.md).
NOTHING_MATCHED = "nothing matched --stream/--since/--until/--where/--sample; nothing was published"


def _pass_size(source: Source, options: ReplayOptions) -> tuple[int | None, int | None]:
    """Entries in one pass and how long one pass's schedule is (ns, where the pacing
    follows the offsets: ``--speed``), where the source tells; ``None`` where unknown."""
    if not isinstance(source, OpenedSource):
        return None, None
    transform = options.transform
    window = transform.since_ns is not None or transform.until_ns is not None
    total: int | None = None
    if not window and transform.keep is None:
        if not transform.streams:
            total = source.count
        elif source.stream_counts is not None:
            total = sum(
                n for name, n in source.stream_counts.items() if match_any(name, transform.streams)
            )
    if total is not None and transform.multiply is not None:
        total *= transform.multiply.copies
    span = source.span_ns
    if span is not None:
        end = span if transform.until_ns is None else min(span, transform.until_ns)
        span = options.pacing.span_ns(max(end - transform.shift_ns, 0))
    return total, span
