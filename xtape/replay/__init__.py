"""Replay: pace any timeline against a clock and publish it (see ``docs/replay.md``).

    options = ReplayOptions(pacing=Pacing.speed(2))
    source = open_source(path, options)             # a ReplaySource, with .warnings
    report = replay_into(source, options, url=URL)  # a ReplayReport, with .warnings

or, lower down, ``replay(source, publisher, options) -> ReplayReport`` with any
:class:`xtape.timeline.Source` and a :class:`RedisPublisher`, a :class:`MemoryPublisher`
or a :class:`PrintPublisher` (``--dry-run``).
"""

from xtape.replay.keep_ids import check_keep_ids, first_ids
from xtape.replay.options import MAX_REFUSALS, ReplayOptions
from xtape.replay.play import replay_into
from xtape.replay.publish import (
    EchoPublisher,
    ErrorTally,
    MemoryPublisher,
    PrintPublisher,
    Publisher,
)
from xtape.replay.redis_publisher import RedisPublisher
from xtape.replay.report import Lateness, ReplayProgress, ReplayReport
from xtape.replay.runner import ProgressFn, replay
from xtape.replay.scheduler import Batch, Clock, FakeClock, MonotonicClock, Pacing, batches
from xtape.replay.source import ReplaySource, is_recording, open_source

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
    "Pacing",
    "PrintPublisher",
    "ProgressFn",
    "Publisher",
    "RedisPublisher",
    "ReplayOptions",
    "ReplayProgress",
    "ReplayReport",
    "ReplaySource",
    "batches",
    "check_keep_ids",
    "first_ids",
    "is_recording",
    "open_source",
    "replay",
    "replay_into",
]
