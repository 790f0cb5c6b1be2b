"""Replaying a scenario or a recording into Redis (or a dry-run listing), as ``xtape replay`` does.

    report = replay("traffic.xtape", URL, ReplayOptions(pacing=Pacing.speed(2)))

or, to see the warnings before anything is published::

    source = open_source("traffic.xtape", options)        # source.warnings
    report = replay(source, URL, options)                 # report.warnings

The loop below it, with any publisher, is :func:`xtape.replay.runner.replay_through`.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from xtape.clock import FakeClock
from xtape.errors import ReplayAborted
from xtape.observe.events import ReplayEvents
from xtape.replay.options import ReplayOptions
from xtape.replay.publish import EchoPublisher, PrintPublisher, Publisher
from xtape.replay.publishers import open_publisher
from xtape.replay.report import ReplayReport
from xtape.replay.runner import ProgressFn, replay_through
from xtape.replay.source import open_source
from xtape.timeline import Source


def replay(
    source: Source | str | Path,
    url: str | None = None,
    options: ReplayOptions | None = None,
    *,
    out: TextIO | None = None,
    verbose: bool = False,
    progress: ProgressFn | None = None,
    warn: Callable[[str], None] | None = None,
    stop_event: threading.Event | None = None,
    cluster: bool | None = None,
    observer: ReplayEvents | None = None,
) -> ReplayReport:
    """Replay ``source`` (a scenario or recording file, or any opened
    :class:`~xtape.timeline.Source`) into the Redis server at ``url`` (default
    ``$REDIS_URL``, else ``redis://localhost:6379/0``) with a publisher shaped by
    ``options`` (ids, trimming, reconnecting), or, with ``options.dry_run``, list its
    events on ``out`` (default stdout) on a clock that jumps over waits. A path is
    opened with :func:`~xtape.replay.source.open_source`, and what it warns about (gaps,
    a truncated tail) comes first in the report's ``warnings``.

    ``verbose`` lists each event with its fields on ``out`` as it goes. ``warn``
    receives connection-loss lines as they happen; ``stop_event`` stops the replay
    cleanly. A URL of a Redis Cluster node replays into the cluster (routed per slot: see
    :func:`~xtape.replay.publishers.open_publisher`); ``cluster`` overrides the
    detection (``True`` requires a cluster, ``False`` treats the node as one server).
    ``observer`` hears the replay's events (:mod:`xtape.observe.events`). Raises :class:`~xtape.errors.ReplayAborted` (with the report) when a
    failure stops the replay, and any other input or connection error before it starts.
    """
    options = options or ReplayOptions()
    if isinstance(source, (str, Path)):
        opened = open_source(source, options)
        report = replay(
            opened, url, options, out=out, verbose=verbose, progress=progress, warn=warn,
            stop_event=stop_event, cluster=cluster, observer=observer,
        )  # fmt: skip
        report.warnings[:0] = opened.warnings
        return report
    if options.dry_run:
        printer = PrintPublisher(out or sys.stdout, verbose=verbose, keep_ids=options.keep_ids)
        if observer is not None:
            observer.begin(None)
        return replay_through(
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
            report = replay_through(
                source, publisher, options, progress=progress, stop_event=stop_event, observer=observer
            )
        except ReplayAborted as exc:
            exc.report.reconnects = redis_publisher.reconnects
            raise
    report.reconnects = redis_publisher.reconnects
    return report
