"""When the service under test is ready for input, asked of the server and its output.

    wait_ready(service, Readiness(inputs=("order.request",)))   # a group on each input

By default (see :class:`~xtape.regress.case.Readiness`) every input stream must have a
consumer group: a service that creates its group at ``$`` misses whatever was published
before, so the replay must not start earlier. The groups are read with XINFO GROUPS
through :mod:`xtape.capture.groups`, never guessed from a delay.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import partial
from typing import Protocol

from xtape.capture.groups import has_group
from xtape.connection import command, connect
from xtape.errors import ServiceFailed
from xtape.regress.case import Readiness
from xtape.report.diff_text import strip_ansi


class RunningService(Protocol):
    """What waiting needs of a running service (:class:`xtape.regress.service.Service`,
    whose ``wait_ready`` calls :func:`wait_ready`)."""

    url: str

    @property
    def output(self) -> str: ...

    def tail(self) -> str: ...

    def check_alive(self) -> None: ...


_POLL_S = 0.05

_NO_GROUP_HINT = (
    "; a service that reads without a consumer group needs ready: key: or ready: log: in its case"
)


def wait_ready(service: RunningService, ready: Readiness | None, should_stop: Callable[[], bool] | None = None) -> None:
    """Until ``ready`` holds; raises :class:`ServiceFailed` if the service exits first or
    it does not hold within ``ready.timeout``. Returns early (within 50 ms) once
    ``should_stop()`` holds."""
    stopping = should_stop or (lambda: False)
    if ready is None:
        service.check_alive()
        return
    deadline = time.monotonic() + ready.timeout

    def poll(what: str, check: Callable[[], bool], hint: str = "") -> None:
        while True:
            service.check_alive()
            if stopping() or check():
                return
            if time.monotonic() >= deadline:
                raise ServiceFailed(
                    f"did not become ready within {ready.timeout:g} s (no {what}{hint})", service.tail()
                )
            time.sleep(_POLL_S)

    client = connect(service.url, socket_timeout=5.0)
    try:
        for stream, name in ready.groups:
            want = None if name is None else name.encode()
            what = f"consumer group {name!r} on {stream!r}" if name else f"consumer group on {stream!r}"
            poll(what, partial(has_group, client, stream, want))
        if not ready.explicit:
            for stream in ready.inputs:
                poll(f"consumer group on the input stream {stream!r}", partial(has_group, client, stream, None), _NO_GROUP_HINT)
        if ready.key is not None:
            key = ready.key
            poll(f"key {key!r}", lambda: bool(command(client, "EXISTS", key)))
        if ready.log is not None:
            pattern = re.compile(ready.log, re.MULTILINE)
            poll(f"line of its output matching {ready.log!r}", lambda: pattern.search(strip_ansi(service.output)) is not None)
    finally:
        client.close()
    if ready.delay:
        end = time.monotonic() + ready.delay
        while time.monotonic() < end and not stopping():
            service.check_alive()
            time.sleep(min(_POLL_S, max(end - time.monotonic(), 0)))
    service.check_alive()


__all__ = ["wait_ready"]
