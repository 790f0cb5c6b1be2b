"""``--metrics ADDR`` of ``record`` and ``replay`` put together: a registry, the
metrics and ``/healthz`` observers, the listener, and (``record --snapshot``)
``POST /snapshot`` and SIGUSR1. Used by the CLI; a library user can do the same with
the parts.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from xtape.errors import XtapeError
from xtape.observe.events import RecordEvents, RecordObservers, ReplayEvents, ReplayObservers
from xtape.observe.health import UNHEALTHY_AFTER_S, Health

if TYPE_CHECKING:
    from xtape.capture.snapshot import Snapshots


@contextmanager
def watching_record(
    addr: str | None,
    *,
    stop_event: threading.Event,
    unhealthy_after_s: float = UNHEALTHY_AFTER_S,
    linger_s: float = 0.0,
    snapshots: Snapshots | None = None,
) -> Iterator[RecordEvents | None]:
    """The observer a recorder is given (``None`` without ``addr``), served on ``addr``
    for the block and ``linger_s`` after it (cut short by ``stop_event``)."""
    with _snapshot_signal(snapshots):
        if addr is None:
            yield None
            return
        from xtape.observe.listener import Listener
        from xtape.observe.metrics import RecordMetrics, new_registry

        registry = new_registry()
        health = Health(unhealthy_after_s)
        metrics = RecordMetrics(registry)
        listener = Listener(addr, registry, health, None if snapshots is None else _taker(snapshots))
        try:
            yield RecordObservers([metrics, health])
        finally:
            _linger(linger_s, stop_event)
            listener.close()


@contextmanager
def watching_replay(
    addr: str | None,
    *,
    stop_event: threading.Event,
    unhealthy_after_s: float = UNHEALTHY_AFTER_S,
    linger_s: float = 0.0,
) -> Iterator[ReplayEvents | None]:
    """The observer a replay is given (``None`` without ``addr``), as :func:`watching_record`."""
    if addr is None:
        yield None
        return
    from xtape.observe.listener import Listener
    from xtape.observe.metrics import ReplayMetrics, new_registry

    registry = new_registry()
    health = Health(unhealthy_after_s)
    listener = Listener(addr, registry, health)
    try:
        yield ReplayObservers([ReplayMetrics(registry), health])
    finally:
        _linger(linger_s, stop_event)
        listener.close()


def _linger(seconds: float, stop_event: threading.Event) -> None:
    """Keep answering a while after the end, so that a last scrape sees how it ended."""
    if seconds > 0 and not stop_event.is_set():
        stop_event.wait(seconds)


def _taker(snapshots: Snapshots) -> Any:
    def take() -> tuple[int, str]:
        try:
            path = snapshots.snapshot()
        except XtapeError as exc:
            return 500, f"snapshot failed: {exc}"
        return 200, str(path)

    return take


@contextmanager
def _snapshot_signal(snapshots: Snapshots | None) -> Iterator[None]:
    """SIGUSR1 asks ``snapshots`` for a snapshot during the block (main thread only)."""
    if snapshots is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        snapshots.request()

    previous = signal.signal(signal.SIGUSR1, on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, previous)
