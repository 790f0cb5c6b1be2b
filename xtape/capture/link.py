"""Connections the recorder manages itself: it knows of every reconnect, and a stop is
never held by the network.

redis-py's client reconnects silently (its pool opens a new socket when it finds the old
one closed, and retries), which hides exactly what the recorder must notice: after a
reconnect the server may have restarted or been flushed. A :class:`Link` is one
:class:`~xtape.nodes.NodeConnection`, opened once, never reopened: after any fault it is
dead and the recorder opens a new one (and then checks the server's ``run_id`` and every
stream it records).

Stops take effect within a fraction of a second whatever the network does: a connect
(TCP, TLS, AUTH, SELECT) runs on a helper thread the caller stops waiting for, and a
read blocked on a frozen network is ended by :meth:`Link.interrupt` from another thread
(``shutdown`` of the socket wakes a blocked ``recv`` at once).

Errors are xtape's (converted by :mod:`xtape.nodes`): a refused command is a
:class:`~xtape.errors.CommandRefused`, a fault one of :data:`FAULTS`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from xtape.errors import CommandRefused
from xtape.nodes import NodeConnection, NodeFault
from xtape.sockets import BACKOFF_MAX_S, BACKOFF_START_S

__all__ = ["BACKOFF_MAX_S", "BACKOFF_START_S", "FAULTS", "ConnectFn", "Link", "Stopped", "run_stoppable"]

#: Makes a connected :class:`~xtape.nodes.NodeConnection` (it may block: it runs on a
#: helper thread).
ConnectFn = Callable[[], NodeConnection]
#: Connection faults: the link is dead after any of them (a :class:`~xtape.nodes.NodeFault`
#: is a ``ConnectionError``, so an ``OSError``, as socket timeouts are).
FAULTS = (OSError,)
_POLL_S = 0.05
T = TypeVar("T")


class Stopped(Exception):
    """A stop was requested while waiting for the network."""


def run_stoppable(work: Callable[[], T], *, should_stop: Callable[[], bool]) -> T:
    """``work()`` on a helper thread; raises :class:`Stopped` as soon as ``should_stop()``
    holds (checked every 50 ms), else returns (or raises) what ``work`` did. The helper
    is abandoned on a stop (it must clean up after itself)."""
    outcome: list[tuple[Any, BaseException | None]] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((work(), None))
        except BaseException as exc:  # handed to the waiting thread
            outcome.append((None, exc))
        done.set()

    threading.Thread(target=run, name="xtape-connect", daemon=True).start()
    while not done.wait(_POLL_S):
        if should_stop():
            raise Stopped
    value, error = outcome[0]
    if error is not None:
        raise error
    result: T = value
    return result


class Link:
    """One Redis connection (RESP2, raw replies, no retries, no silent reconnect)."""

    def __init__(self, conn: NodeConnection) -> None:
        self._conn = conn
        self.alive = True
        self._interrupted = False

    @classmethod
    def open(cls, make: ConnectFn, *, should_stop: Callable[[], bool]) -> Link:
        """A link over ``make()`` (a connected :class:`~xtape.nodes.NodeConnection`), run on a helper
        thread; raises :class:`Stopped` as soon as ``should_stop()`` holds (checked every
        50 ms), or what ``make`` raised."""
        outcome: list[Any] = []
        lock = threading.Lock()
        done = threading.Event()

        def work() -> None:
            result: Any
            try:
                result = (make(), None)
            except BaseException as exc:  # handed to the waiting thread
                result = (None, exc)
            with lock:
                outcome.append(result)
                abandoned = len(outcome) > 1
            if abandoned and result[0] is not None:
                result[0].close()
            done.set()

        threading.Thread(target=work, name="xtape-connect", daemon=True).start()
        while not done.wait(_POLL_S):
            if should_stop():
                with lock:
                    if not outcome:
                        outcome.append((None, None))  # so the helper closes what it opens
                        raise Stopped
                break
        conn, error = outcome[0]
        if error is not None:
            raise error
        return cls(conn)

    def _fail(self) -> None:
        self.close()

    def _check(self) -> None:
        if not self.alive or self._interrupted:
            self._fail()
            raise NodeFault("connection closed")

    def call(self, *args: Any) -> Any:
        """One command; its raw reply (an error raised as :class:`~xtape.errors.CommandRefused`)."""
        return self.pipeline([args], raise_errors=True)[0]

    def pipeline(self, commands: Sequence[Sequence[Any]], *, raise_errors: bool = False) -> list[Any]:
        """Send ``commands`` in one write; their raw replies, errors in place (or raised)."""
        self.send(commands)
        replies = self.receive(len(commands))
        if raise_errors:
            for reply in replies:
                if isinstance(reply, CommandRefused):
                    raise reply
        return replies

    def send(self, commands: Sequence[Sequence[Any]]) -> None:
        """Write ``commands`` in one write; read their replies with :meth:`receive`
        (so several links can work at once)."""
        self._check()
        try:
            self._conn.send(commands)
        except BaseException:
            self._fail()
            raise

    def receive(self, n: int) -> list[Any]:
        """The next ``n`` raw replies (errors in place), after :meth:`send`."""
        replies: list[Any] = []
        try:
            for _ in range(n):
                replies.append(self._conn.read_reply())
        except BaseException:
            self._fail()
            raise
        if self._interrupted:
            self._fail()
            raise NodeFault("interrupted")
        return replies

    def fileno(self) -> int:
        """The socket's file descriptor (-1 when closed): for waiting on several links."""
        return self._conn.fileno()

    def buffered(self) -> bool:
        """Whether a reply has already been read off the socket (no wait needed)."""
        try:
            return self._conn.can_read(0)
        except BaseException:
            self._fail()
            raise

    def multi(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """``commands`` in one MULTI/EXEC (atomic); their replies, errors in place."""
        replies = self.pipeline([("MULTI",), *commands, ("EXEC",)])
        for reply in replies[:-1]:
            if isinstance(reply, CommandRefused):
                raise reply  # refused while queuing (ACL, unknown command)
        result = replies[-1]
        if isinstance(result, CommandRefused):
            raise result
        return list(result)

    def wait_readable(self, timeout: float) -> bool:
        """Whether a reply (or a pushed message) arrived within ``timeout`` seconds."""
        self._check()
        try:
            return self._conn.can_read(timeout)
        except BaseException:
            self._fail()
            raise

    def read(self) -> Any:
        """Read one reply or pushed message."""
        self._check()
        try:
            reply = self._conn.read_reply()
        except BaseException:
            self._fail()
            raise
        if isinstance(reply, CommandRefused):
            raise reply
        return reply

    def interrupt(self) -> None:
        """From another thread: end any read in progress now (the link is then dead)."""
        self._interrupted = True
        self._conn.shutdown()

    def close(self) -> None:
        self.alive = False
        self._conn.close()
