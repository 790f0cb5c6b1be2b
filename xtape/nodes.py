"""One pipelined connection to one Redis server (a node), shared by every reader and writer.

The recorder's reads (:mod:`xtape.capture.link`), the cluster reader, the cluster
publisher and the single-server publisher all drive their connections the same way:
commands are written in one go, replies read later (a pipeline that several nodes can
work through at once), never behind a pool that reconnects or retries on its own. A
:class:`NodeConnection` is that connection: opened once (checked by
:func:`xtape.connection.connect` the first time, reopened from its :class:`Spec` without
the check), dead after any fault. A single server at a plain ``redis://`` URL is
connected without redis-py (:class:`xtape.plain.PlainConnection`, checked by
:func:`xtape.plain.open_plain`; its import alone is ~0.06 s of a recorder's start).

Two ways to read it: :meth:`~NodeConnection.read_reply` (redis-py's parser: any reply,
errors in place) for the recorder, and the socket itself (:attr:`~NodeConnection.sock`,
read with :meth:`~NodeConnection.recv` into a ``hiredis.Reader``) for the publishers'
raw XADD replies. One connection is read one way only.

This is the seam where redis-py's exceptions become xtape's (as httpx maps transport
exceptions): a refused command is a :class:`~xtape.errors.CommandRefused` (its text
as redis-py words it, its error code kept), anything else that goes wrong with the
connection a :class:`NodeFault` (a ``ConnectionError``, so ``except OSError`` sees it).
Nothing above this module needs to know redis-py's exception classes.

Constants used by everything that reconnects: :data:`BACKOFF_START_S` doubling to
:data:`BACKOFF_MAX_S` (short enough that a restarted server is seen within seconds,
long enough that a dead one costs little).
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xtape.connection import connect, error_reason
from xtape.errors import CommandRefused
from xtape.plain import PlainConnection
from xtape.sockets import RECV_SIZE, REFUSAL_CODES, NodeFault, socket_readable

if TYPE_CHECKING:
    import redis

__all__ = ["NodeConnection", "NodeFault", "Spec", "fault", "refusal", "socket_of"]


def _redis(name: str) -> type[BaseException] | tuple[type[BaseException], ...]:
    """redis-py's exception class ``name`` (of ``redis.exceptions``), or nothing to
    catch when redis-py was never imported (then nothing could have raised one: a
    :class:`~xtape.plain.PlainConnection` raises xtape's own)."""
    module = sys.modules.get("redis.exceptions")
    found = getattr(module, name, None) if module is not None else None
    return found if isinstance(found, type) and issubclass(found, BaseException) else ()


def _failures() -> tuple[type[BaseException], ...]:
    """What a connection raises when it fails: a :class:`NodeFault` (a
    :class:`~xtape.plain.PlainConnection`'s), or redis-py's errors."""
    found = _redis("RedisError")
    return (NodeFault, found) if isinstance(found, type) else (NodeFault,)


def refusal(exc: BaseException) -> CommandRefused:
    """redis-py's exception for an error reply, as xtape's (same text, code kept)."""
    code = next((c for name, c in REFUSAL_CODES if isinstance(exc, _redis(name))), "")
    return CommandRefused(str(exc), code)


def fault(exc: BaseException) -> NodeFault:
    """Any failure of a connection, as one :class:`NodeFault`."""
    if isinstance(exc, NodeFault):
        return exc
    return NodeFault(error_reason(exc))


def socket_of(conn: Any) -> socket.socket:
    """The socket of a connected redis-py ``Connection`` (the one read of its private
    ``_sock``: redis-py offers no public way to write raw bytes and select on it)."""
    sock = getattr(conn, "_sock", None)
    if sock is None:
        raise NodeFault("the connection is closed")
    assert isinstance(sock, socket.socket)
    return sock


@dataclass(frozen=True)
class Spec:
    """How to open another connection to a node already checked (no probe)."""

    connection_class: Any
    kwargs: dict[str, Any]


class NodeConnection:
    """One connection to one node, driven as a pipeline (see the module docstring)."""

    def __init__(self, conn: Any, spec: Spec, client: redis.Redis | None = None) -> None:
        self._conn = conn
        self.spec = spec
        #: A client on the same node for side commands (its own connections), if kept.
        self.client = client
        self.sock = socket_of(conn)
        #: False after a fault or :meth:`close`: then every use faults (redis-py would
        #: reconnect behind the caller's back).
        self.alive = True

    @classmethod
    def open(cls, url: str, *, socket_timeout: float | None, keep_client: bool = False) -> NodeConnection:
        """A connection to ``url``, checked first by :func:`~xtape.connection.connect`
        (whose errors it raises); ``keep_client`` keeps that client for side commands."""
        if not keep_client:  # a single server at a plain URL: without redis-py
            plain = cls.open_plain(url, socket_timeout=socket_timeout)
            if plain is not None:
                return plain
        client = connect(url, socket_timeout=socket_timeout)
        pool = client.connection_pool
        spec = Spec(pool.connection_class, dict(pool.connection_kwargs))
        try:
            return cls.reopen(spec, client if keep_client else None)
        finally:
            if not keep_client:
                client.close()

    @classmethod
    def open_plain(cls, url: str, *, socket_timeout: float | None) -> NodeConnection | None:
        """A connection to the single server at a plain ``url``, without redis-py (checked
        by :func:`xtape.plain.open_plain`: not a cluster node); None for any other URL or
        server, which :meth:`open` connects as usual (and which says what is wrong)."""
        plain = PlainConnection.open(url, socket_timeout=socket_timeout)
        return None if plain is None else cls(plain[0], Spec(PlainConnection, plain[1]))

    @classmethod
    def reopen(cls, spec: Spec, client: redis.Redis | None = None) -> NodeConnection:
        """Another connection made like ``spec`` says (no check first; faults raised)."""
        conn = spec.connection_class(**spec.kwargs)
        try:
            conn.connect()
        except _failures() as exc:
            if client is not None:
                client.close()
            raise fault(exc) from None
        return cls(conn, spec, client)

    # -- writing -----------------------------------------------------------------------

    def _dead(self, exc: BaseException) -> NodeFault:
        self.alive = False
        return fault(exc)

    def _check(self) -> None:
        if not self.alive:
            raise NodeFault("the connection is closed")

    def send(self, commands: Sequence[Sequence[Any]]) -> None:
        """Write ``commands`` in one write (their replies are read later)."""
        self._check()
        try:
            self._conn.send_packed_command(self._conn.pack_commands(commands), check_health=False)
        except _failures() as exc:
            raise self._dead(exc) from None

    def send_bytes(self, data: bytes) -> None:
        """Write RESP already packed."""
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise self._dead(exc) from None

    # -- reading: parsed -----------------------------------------------------------------

    def read_reply(self) -> Any:
        """The next reply as redis-py parses it (an error reply is returned, as a
        :class:`~xtape.errors.CommandRefused`, and so are those in an ``EXEC`` reply)."""
        self._check()
        try:
            reply = self._conn.read_response(disconnect_on_error=True)
        except _redis("ResponseError") as exc:
            return refusal(exc)
        except _failures() as exc:
            raise self._dead(exc) from None
        refused = _redis("ResponseError")
        if type(reply) is list and any(isinstance(r, refused) for r in reply):
            # (an EXEC reply holds the errors of the commands it ran)
            return [refusal(r) if isinstance(r, refused) else r for r in reply]
        return reply

    def can_read(self, timeout: float) -> bool:
        """Whether a reply (or a pushed message) is there within ``timeout`` seconds."""
        self._check()
        try:
            return bool(self._conn.can_read(timeout=timeout))
        except _failures() as exc:
            raise self._dead(exc) from None

    # -- reading: raw --------------------------------------------------------------------

    def readable(self) -> bool:
        """Whether :meth:`recv` has bytes to return without waiting."""
        return socket_readable(self.sock)

    def recv(self) -> bytes:
        """What arrived (waiting up to the socket timeout); a closed connection faults."""
        try:
            data = self.sock.recv(RECV_SIZE)
        except OSError as exc:
            reason = "no answer within the socket timeout" if isinstance(exc, TimeoutError) else error_reason(exc)
            raise self._dead(NodeFault(reason)) from None
        if not data:
            raise self._dead(NodeFault("the server closed the connection"))
        return data

    # -- the end -------------------------------------------------------------------------

    def fileno(self) -> int:
        """The socket's descriptor (-1 once closed)."""
        return self.sock.fileno()

    def shutdown(self) -> None:
        """From another thread: end any read in progress now (the connection is dead)."""
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def close(self) -> None:
        """Close the connection (unread replies are dropped with it) and the client."""
        self.alive = False
        try:
            with contextlib.suppress(Exception):
                self._conn.disconnect()
        finally:
            if self.client is not None:
                self.client.close()
