"""``--metrics ADDR`` of ``record`` and ``replay`` put together: a registry, the
metrics and ``/healthz`` observers, the listener, and (``record --snapshot``)
``POST /snapshot`` and SIGUSR1. Used by the CLI; a library user can do the same with
the parts.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from xtape.errors import XtapeError
from xtape.observe.events import RecordEvents, RecordObservers, ReplayEvents, ReplayObservers
from xtape.observe.health import UNHEALTHY_AFTER_S, Health

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from xtape.capture.snapshot import Snapshots

T = TypeVar("T")


@contextmanager
def watching_record(
    addr: str | None,
    *,
    stop_event: threading.Event,
    unhealthy_after: float = UNHEALTHY_AFTER_S,
    linger: float = 0.0,
    snapshots: Snapshots | None = None,
) -> Iterator[RecordEvents | None]:
    """The observer a recorder is given (``None`` without ``addr``), served on ``addr``
    for the block and ``linger`` after it (cut short by ``stop_event``)."""

    def observers(registry: CollectorRegistry, health: Health) -> RecordEvents:
        from xtape.observe.metrics import RecordMetrics

        return RecordObservers([RecordMetrics(registry), health])

    with _snapshot_signal(snapshots), _served(
        addr, stop_event, unhealthy_after, linger, observers, snapshots
    ) as observer:
        yield observer


@contextmanager
def watching_replay(
    addr: str | None,
    *,
    stop_event: threading.Event,
    unhealthy_after: float = UNHEALTHY_AFTER_S,
    linger: float = 0.0,
) -> Iterator[ReplayEvents | None]:
    """The observer a replay is given (``None`` without ``addr``), as :func:`watching_record`."""

    def observers(registry: CollectorRegistry, health: Health) -> ReplayEvents:
        from xtape.observe.metrics import ReplayMetrics

        return ReplayObservers([ReplayMetrics(registry), health])

    with _served(addr, stop_event, unhealthy_after, linger, observers) as observer:
        yield observer


@contextmanager
def _served(
    addr: str | None,
    stop_event: threading.Event,
    unhealthy_after: float,
    linger: float,
    observers: Callable[[CollectorRegistry, Health], T],
    snapshots: Snapshots | None = None,
) -> Iterator[T | None]:
    """The listener on ``addr`` with a new registry and /healthz, and the observers made
    for them; nothing without ``addr``."""
    if addr is None:
        yield None
        return
    from xtape.observe.listener import Listener
    from xtape.observe.metrics import new_registry

    registry = new_registry()
    health = Health(unhealthy_after)
    made = observers(registry, health)
    listener = Listener(addr, registry, health, None if snapshots is None else _taker(snapshots))
    try:
        yield made
    finally:
        _linger(linger, stop_event)
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
