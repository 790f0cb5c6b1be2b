"""The recorder's clock: time comes in through it, so tests can drive the stop rules
(``--duration``, ``--until-idle``) and capture times without waiting for real time."""

from __future__ import annotations

import time
from typing import Protocol


class RecordClock(Protocol):
    def monotonic(self) -> float:
        """Seconds (only differences mean anything): stop rules, backoff, progress."""
        ...

    def time_ns(self) -> int:
        """Wall-clock nanoseconds since the epoch: capture times, ``--from -5m``."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time_ns(self) -> int:
        return time.time_ns()
