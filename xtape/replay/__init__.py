"""Replay: pace any timeline against a clock and publish it (see ``docs/replay.md``).

    replay(source, publisher, options) -> ReplayReport

``source`` is any :class:`xtape.timeline.Source` (a scenario or a recording);
``publisher`` is a :class:`RedisPublisher`, a :class:`MemoryPublisher` or a
:class:`PrintPublisher` (``--dry-run``).
"""

from xtape.replay.publish import (
    EchoPublisher,
    ErrorTally,
    MemoryPublisher,
    PrintPublisher,
    Publisher,
)
from xtape.replay.redis_publisher import RedisPublisher
from xtape.replay.report import Lateness, ReplayProgress, ReplayReport
from xtape.replay.runner import (
    KeepIdsConflict,
    KeepIdsOrder,
    ProgressFn,
    ReplayOptions,
    check_keep_ids,
    first_ids,
    replay,
)
from xtape.replay.scheduler import Batch, Clock, FakeClock, MonotonicClock, Pacing, batches

__all__ = [
    "Batch",
    "Clock",
    "EchoPublisher",
    "ErrorTally",
    "FakeClock",
    "KeepIdsConflict",
    "KeepIdsOrder",
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
    "batches",
    "check_keep_ids",
    "first_ids",
    "replay",
]
