"""Replaying an opened source into Redis (or a dry-run listing), as ``xtape replay`` does.

    options = ReplayOptions(pacing=Pacing.speed(2))
    source = open_source("traffic.xtape", options)        # source.warnings
    report = replay_into(source, options, url=URL)        # report.warnings
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from xtape.errors import ReplayAborted
from xtape.observe.events import ReplayEvents
from xtape.replay.options import ReplayOptions
from xtape.replay.publish import EchoPublisher, PrintPublisher, Publisher
from xtape.replay.publishers import open_publisher
from xtape.replay.report import ReplayReport
from xtape.replay.runner import ProgressFn, replay
from xtape.replay.scheduler import FakeClock
from xtape.timeline import Source

if TYPE_CHECKING:
    pass


def replay_into(
    source: Source,
    options: ReplayOptions | None = None,
    *,
    url: str | None = None,
    out: TextIO | None = None,
    verbose: bool = False,
    progress: ProgressFn | None = None,
    warn: Callable[[str], None] | None = None,
    stop_event: threading.Event | None = None,
    cluster: bool | None = None,
    observer: ReplayEvents | None = None,
) -> ReplayReport:
    """Replay ``source`` into the Redis server at ``url`` with a publisher shaped by
    ``options`` (ids, trimming, reconnecting), or, with ``options.dry_run``, list its
    events on ``out`` (default stdout) on a clock that jumps over waits.

    ``verbose`` lists each event with its fields on ``out`` as it goes. ``warn``
    receives connection-loss lines as they happen; ``stop_event`` stops the replay
    cleanly. A URL of a Redis Cluster node replays into the cluster (routed per slot: see
    :func:`~xtape.replay.publishers.open_publisher`); ``cluster`` overrides the
    detection (``True`` requires a cluster, ``False`` treats the node as one server).
    ``observer`` hears the replay's events (:mod:`xtape.observe.events`). Raises :class:`~xtape.errors.ReplayAborted` (with the report) when a
    failure stops the replay, and any other input or connection error before it starts.
    """
    options = options or ReplayOptions()
    if options.dry_run:
        printer = PrintPublisher(out or sys.stdout, verbose=verbose, keep_ids=options.keep_ids)
        if observer is not None:
            observer.begin(None)
        return replay(
            source, printer, options, clock=FakeClock.starting_now(), stop_event=stop_event,
            observer=observer,
        )
    redis_publisher = open_publisher(
        url,
        cluster=cluster,
        maxlen=options.maxlen,
        keep_ids=options.keep_ids,
        reconnect=options.reconnect,
        stop_event=stop_event,
        warn=warn,
    )
    with redis_publisher:
        publisher: Publisher = redis_publisher
        if verbose:
            echo = PrintPublisher(out or sys.stdout, verbose=True, keep_ids=options.keep_ids)
            publisher = EchoPublisher(redis_publisher, echo)
        if observer is not None:
            observer.begin(redis_publisher)
        try:
            report = replay(
                source, publisher, options, progress=progress, stop_event=stop_event, observer=observer
            )
        except ReplayAborted as exc:
            exc.report.reconnects = redis_publisher.reconnects
            raise
    report.reconnects = redis_publisher.reconnects
    return report
