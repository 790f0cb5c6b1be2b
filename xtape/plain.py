"""A checked connection to a plain Redis URL, made without redis-py.

The replay's publisher writes RESP straight onto its socket and reads the replies with
hiredis; only the socket came from redis-py, whose import alone costs ~0.1 s of every
replay and every recording (``bench/startup.py``); the recorder's connections to a single
server are :class:`PlainConnection` s over such sockets (see its docstring). :func:`open_plain` makes that socket for the common case
-- ``redis://host[:port][/db]``, with or without credentials (or the password from the
environment, as :func:`xtape.connection.connect` takes it), on a single server -- and
checks it as ``connect`` does: AUTH, SELECT, PING, and ``INFO cluster`` (not a cluster
node). For anything else -- TLS, a unix socket, URL options, any refusal or error reply,
a cluster node, a connection that fails -- it returns None and the caller takes the usual
path through redis-py, which then says what is wrong in its usual words. Only silence is
told here, as that path tells it (the server did not answer within
:data:`~xtape.connection.CHECK_TIMEOUT_S`), so a frozen server is not waited for twice.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
from collections.abc import Sequence
from urllib.parse import unquote

import hiredis

from xtape.connection import (
    CHECK_TIMEOUT_S,
    CONNECT_TIMEOUT_S,
    SplitUrl,
    password_from_env,
    redact_url,
    resolve_url,
)
from xtape.errors import CommandRefused, RedisUnavailable
from xtape.sockets import RECV_SIZE, REFUSAL_CODES, NodeFault

_HOST_PORT = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?\Z")
_DB = re.compile(r"/?\Z|/(?P<db>[0-9]{1,6})\Z")


def _plain_target(url: str) -> tuple[str, int, int, list[bytes]] | None:
    """``(host, port, db, AUTH arguments)`` of a plain ``redis://`` URL, else None."""
    if not url.startswith("redis://"):
        return None
    parts = SplitUrl.of(url)
    if not parts.clean or parts.query is not None or parts.fragment is not None:
        return None
    place = _HOST_PORT.match(parts.host)
    db = _DB.match(parts.path)
    if place is None or db is None:
        return None
    host = place.group("v6") or place.group("host")
    port = int(place.group("port") or 6379)
    if not 0 < port < 65536:
        return None
    auth: list[bytes] = []
    if parts.userinfo is not None:
        user, colon, password = parts.userinfo.partition(":")
        if not colon:
            return None  # (redis-py reads a lone name as a user name with no password)
        if user:
            auth.append(unquote(user).encode())
        if password:
            auth.append(unquote(password).encode())
        elif user:
            return None
    if not auth:
        found = password_from_env()
        if found is not None:
            auth = [found[0].encode()]
    return host, port, int(db.group("db") or 0), auth


def _command(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def _replies(sock: socket.socket, count: int) -> list[object]:
    reader = hiredis.Reader()
    replies: list[object] = []
    while len(replies) < count:
        while (reply := reader.gets()) is not False:
            replies.append(reply)
        if len(replies) >= count:
            break
        data = sock.recv(1 << 16)
        if not data:
            raise ConnectionError("closed by the server")
        reader.feed(data)
    return replies


def open_plain(url: str | None, *, socket_timeout: float | None) -> socket.socket | None:
    """A connected socket to the single Redis server at ``url``, checked (see the
    module's docstring), with ``socket_timeout`` set; None to take the usual path.
    Raises :class:`~xtape.errors.RedisUnavailable` when the server does not answer."""
    resolved = resolve_url(url)
    target = _plain_target(resolved)
    return None if target is None else _checked_socket(resolved, target, socket_timeout)


def _checked_socket(
    resolved: str, target: tuple[str, int, int, list[bytes]], socket_timeout: float | None
) -> socket.socket | None:
    """:func:`open_plain` for the URL ``resolved``, whose :func:`_plain_target` is ``target``."""
    host, port, db, auth = target
    try:
        sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
    except TimeoutError:
        raise _silent(resolved) from None
    except OSError:
        return None
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.settimeout(CHECK_TIMEOUT_S)
        commands = [_command(b"AUTH", *auth)] if auth else []
        if db:
            commands.append(_command(b"SELECT", b"%d" % db))
        commands += [_command(b"PING"), _command(b"INFO", b"cluster")]
        sock.sendall(b"".join(commands))
        replies = _replies(sock, len(commands))
        info = replies[-1]
        if (
            any(isinstance(reply, hiredis.ReplyError) for reply in replies)
            or replies[-2] != b"PONG"
            or not isinstance(info, bytes)
            or b"cluster_enabled:0" not in info
        ):
            sock.close()
            return None
        sock.settimeout(socket_timeout)
        return sock
    except TimeoutError:
        sock.close()
        raise _silent(resolved) from None
    except (OSError, hiredis.ProtocolError):
        with contextlib.suppress(OSError):
            sock.close()
        return None


def _silent(url: str) -> RedisUnavailable:
    """As :func:`xtape.connection.connect` tells a server that says nothing."""
    return RedisUnavailable(redact_url(url), f"the server did not answer within {CHECK_TIMEOUT_S:g} s")


# --------------------------------------------------------------------------- the recorder's


#: redis-py's words for an error reply: codes whose replies it raises as a fault (the
#: connection is dead), its message without the code (see :func:`_error`).
_FAULT_CODES = frozenset({"WRONGPASS", "NOAUTH", "LOADING"})
_FAULT_ERR = frozenset({"max number of clients reached", "invalid password"})
#: Codes redis-py takes off the message (the others keep it: ``WRONGTYPE ...``).
_CODES = frozenset(
    {"ERR", "OOM", "WRONGPASS", "EXECABORT", "LOADING", "NOSCRIPT", "READONLY", "NOAUTH", "NOPERM", "ASK",
     "TRYAGAIN", "MOVED", "CLUSTERDOWN", "CROSSSLOT", "MASTERDOWN"}
)  # fmt: skip
#: The codes a refusal keeps (as :mod:`xtape.nodes` keeps redis-py's).
_KEPT = frozenset(code for _, code in REFUSAL_CODES)
_CLOSED = "Connection closed by server."


def _error(reply: hiredis.ReplyError) -> CommandRefused | NodeFault:
    """An error reply as :mod:`xtape.nodes` makes redis-py's exception for it: a
    refusal (the message as redis-py words it, the code kept), or a fault."""
    text = str(reply)
    code = text.split(" ")[0]
    if code in _CODES:
        text = text[len(code) + 1 :]
        if code in _FAULT_CODES or (code == "ERR" and text in _FAULT_ERR):
            return NodeFault(text.splitlines()[0] if text.strip() else "ConnectionError")
    return CommandRefused(text, code if code in _KEPT else "")


def _encode(arg: object) -> bytes:
    """One argument as redis-py's encoder writes it."""
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, (bytearray, memoryview)):
        return bytes(arg)
    if isinstance(arg, str):
        return arg.encode("utf-8")
    if isinstance(arg, bool):
        raise NodeFault("Invalid input of type: 'bool'. Convert to a bytes, string, int or float first.")
    if isinstance(arg, int):
        return b"%d" % arg
    if isinstance(arg, float):
        return repr(arg).encode("ascii")
    raise NodeFault(f"Invalid input of type: '{type(arg).__name__}'. Convert to a bytes, string, int or float first.")


class PlainConnection:
    """One connection to a single server at a plain URL, without redis-py: what
    :class:`xtape.nodes.NodeConnection` drives (``connect``, ``pack_commands``,
    ``send_packed_command``, ``read_response``, ``can_read``, ``disconnect``, ``_sock``),
    as redis-py's ``Connection`` with hiredis does for a RESP2 bytes client: replies as
    hiredis parses them, an error reply returned as :class:`~xtape.errors.CommandRefused`
    (in an ``EXEC`` reply too), and every failure raised as
    :class:`~xtape.nodes.NodeFault`, in redis-py's words."""

    def __init__(
        self, host: str, port: int, db: int, auth: list[bytes], socket_timeout: float | None, sock: socket.socket | None = None
    ) -> None:
        self.host, self.port, self.db, self.auth = host, port, db, auth
        self.socket_timeout = socket_timeout
        self._sock = sock
        self._reader = hiredis.Reader()

    @classmethod
    def open(cls, url: str | None, *, socket_timeout: float | None) -> tuple[PlainConnection, dict[str, object]] | None:
        """A connection to ``url`` checked by :func:`open_plain` and the keyword arguments
        that make another like it; None when ``url`` takes the usual path."""
        resolved = resolve_url(url)
        target = _plain_target(resolved)
        if target is None:
            return None
        sock = _checked_socket(resolved, target, socket_timeout)
        if sock is None:
            return None
        host, port, db, auth = target
        kwargs: dict[str, object] = {"host": host, "port": port, "db": db, "auth": auth, "socket_timeout": socket_timeout}
        return cls(host, port, db, auth, socket_timeout, sock), kwargs

    def connect(self) -> None:
        """Connect, AUTH and SELECT (the server was checked with the first connection)."""
        where = f"{self.host}:{self.port}"
        try:
            sock = socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise NodeFault("Timeout connecting to server") from None
        except OSError as exc:
            raise NodeFault(_connect_error(where, exc)) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self.socket_timeout)
        except OSError as exc:
            sock.close()
            raise NodeFault(_connect_error(where, exc)) from None
        self._sock, self._reader = sock, hiredis.Reader()
        commands = ([("AUTH", *self.auth)] if self.auth else []) + ([("SELECT", self.db)] if self.db else [])
        if not commands:
            return
        try:
            self.send_packed_command(self.pack_commands(commands))
            for _ in commands:
                reply = self.read_response()
                if isinstance(reply, CommandRefused):
                    raise NodeFault(str(reply))
        except NodeFault:
            self.disconnect()
            raise

    def pack_commands(self, commands: Sequence[Sequence[object]]) -> bytes:
        out: list[bytes] = []
        for command in commands:
            args = [_encode(arg) for arg in command]
            out.append(b"*%d\r\n" % len(args))
            out.extend(b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in args)
        return b"".join(out)

    def send_packed_command(self, data: bytes, check_health: bool = False) -> None:
        sock = self._live()
        try:
            sock.sendall(data)
        except TimeoutError:
            self.disconnect()
            raise NodeFault("Timeout writing to socket") from None
        except OSError as exc:
            self.disconnect()
            number, message = (exc.args[0], exc.args[1]) if len(exc.args) > 1 else ("UNKNOWN", exc.args[0] if exc.args else exc)
            raise NodeFault(f"Error {number} while writing to socket. {message}.") from None

    def read_response(self, disconnect_on_error: bool = True) -> object:
        reader = self._reader
        reply = reader.gets()
        while reply is False:
            self._fill()
            reply = reader.gets()
        if isinstance(reply, hiredis.ReplyError):
            found = _error(reply)
            if isinstance(found, NodeFault):
                self.disconnect()
                raise found
            return found
        if type(reply) is list and any(isinstance(r, hiredis.ReplyError) for r in reply):
            return [_error(r) if isinstance(r, hiredis.ReplyError) else r for r in reply]
        return reply

    def _fill(self) -> None:
        sock = self._live()
        try:
            data = sock.recv(RECV_SIZE)
        except TimeoutError:
            self.disconnect()
            raise NodeFault(f"Timeout reading from {self.host}:{self.port}") from None
        except OSError as exc:
            self.disconnect()
            raise NodeFault(f"Error while reading from {self.host}:{self.port} : {exc.args}") from None
        if not data:
            self.disconnect()
            raise NodeFault(_CLOSED)
        try:
            self._reader.feed(data)
        except hiredis.ProtocolError as exc:  # (gets raises it for bytes that are not RESP)
            self.disconnect()
            raise NodeFault(f"Protocol error: {exc}") from None

    def can_read(self, timeout: float = 0) -> bool:
        sock = self._live()
        if self._reader.has_data():
            return True
        try:
            readable, _, _ = select.select([sock], [], [], timeout)
            if not readable:
                return False
            if not sock.recv(1, socket.MSG_PEEK):
                raise NodeFault(_CLOSED)
        except (OSError, ValueError) as exc:
            self.disconnect()
            raise exc if isinstance(exc, NodeFault) else NodeFault(f"Error while reading from {self.host}:{self.port} : {exc.args}") from None
        return True

    def _live(self) -> socket.socket:
        if self._sock is None:
            raise NodeFault(_CLOSED)
        return self._sock

    def disconnect(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


def _connect_error(where: str, exc: OSError) -> str:
    """redis-py's words for a connection that could not be made."""
    if not exc.args:
        return f"Error connecting to {where}."
    if len(exc.args) == 1:
        return f"Error {exc.args[0]} connecting to {where}."
    return f"Error {exc.args[0]} connecting to {where}. {exc.args[1]}."
