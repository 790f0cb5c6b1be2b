"""Process-wide state for the long-running commands (``record``, ``replay``), in one place.

The library changes no process-wide state: :func:`xtape.replay.replay` and
:func:`xtape.capture.record` stop when their ``stop_event`` is set, and collect only
young objects while they wait. The CLI wraps them in :func:`process_state`, which

* turns the first SIGINT or SIGTERM into ``stop_event.set()`` (the command then stops
  at a safe point, finishes its file or reads its replies, and reports); a second
  one raises ``KeyboardInterrupt`` to leave at once. A signal that starts *ignored*
  stays ignored: a job started with ``&`` from a script ignores SIGINT (so a Ctrl-C
  meant for the script does not reach it), but it still stops cleanly on SIGTERM;
* pauses automatic garbage collection (a full collection stalls for 10-30 ms, a
  missed deadline for a replay and lost throughput for the recorder).

Everything is restored on the way out. Signal handlers are installed only in the main
thread (Python allows no other).
"""

from __future__ import annotations

import gc
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class ProcessState:
    """What :func:`process_state` gives the command it wraps."""

    stop_event: threading.Event = field(default_factory=threading.Event)
    #: The first stop signal received (``None``: none).
    signal: int | None = None

    @property
    def exit_code(self) -> int | None:
        """``128 + signal`` as shells report a process ended by it (130 for SIGINT, 143
        for SIGTERM); ``None`` when no signal arrived."""
        return None if self.signal is None else 128 + self.signal


@contextmanager
def process_state(*, pause_gc: bool = True) -> Iterator[ProcessState]:
    """Stop signals as a stop request, and automatic garbage collection paused, for
    the duration of the block (see the module's docstring)."""
    state = ProcessState()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if state.stop_event.is_set():
            raise KeyboardInterrupt
        state.signal = signum
        state.stop_event.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, on_signal)
    gc_was_enabled = gc.isenabled()
    if pause_gc:
        gc.disable()
    try:
        yield state
    finally:
        if gc_was_enabled:
            gc.enable()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
