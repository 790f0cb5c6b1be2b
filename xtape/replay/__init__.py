"""Replay: pace any timeline against a clock and publish it (see ``docs/replay.md``).

    options = ReplayOptions(pacing=Pacing.speed(2))
    report = replay(path, URL, options)             # a ReplayReport, with .warnings

or, to see the warnings first, ``source = open_source(path, options)`` (an
:class:`OpenedSource`, with ``.warnings``) then ``replay(source, URL, options)``. Lower
down, ``replay_through(source, publisher, options) -> ReplayReport`` with any
:class:`xtape.timeline.Source` and a :class:`RedisPublisher`, a :class:`MemoryPublisher`
or a :class:`PrintPublisher` (``--dry-run``).
"""

from xtape.clock import Clock, FakeClock, MonotonicClock
from xtape.replay.keep_ids import check_keep_ids, first_ids
from xtape.replay.options import MAX_REFUSALS, ReplayOptions
from xtape.replay.play import replay
from xtape.replay.publish import (
    EchoPublisher,
    ErrorTally,
    MemoryPublisher,
    PrintPublisher,
    Publisher,
)
from xtape.replay.publishers import open_publisher
from xtape.replay.redis_publisher import RedisPublisher
from xtape.replay.report import Lateness, ReplayProgress, ReplayReport
from xtape.replay.runner import ProgressFn, replay_through
from xtape.replay.scheduler import Batch, Pacing, batches
from xtape.replay.source import OpenedSource, open_source, source_kind

__all__ = [
    "MAX_REFUSALS",
    "Batch",
    "Clock",
    "EchoPublisher",
    "ErrorTally",
    "FakeClock",
    "Lateness",
    "MemoryPublisher",
    "MonotonicClock",
    "OpenedSource",
    "Pacing",
    "PrintPublisher",
    "ProgressFn",
    "Publisher",
    "RedisPublisher",
    "ReplayOptions",
    "ReplayProgress",
    "ReplayReport",
    "batches",
    "check_keep_ids",
    "first_ids",
    "open_publisher",
    "open_source",
    "replay",
    "replay_through",
    "source_kind",
]
