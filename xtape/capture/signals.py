"""Turning SIGINT/SIGTERM into a clean stop of the recorder."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any


def install_signal_handlers(stop_event: threading.Event) -> Callable[[], None]:
    """Make SIGINT and SIGTERM set ``stop_event`` (the recorder then finishes its round,
    writes the END record and returns). A second signal raises KeyboardInterrupt, which
    the recorder also handles by closing the file. Call from the main thread; returns a
    function that restores the previous handlers.
    """
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop_event.is_set():
            raise KeyboardInterrupt
        stop_event.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
