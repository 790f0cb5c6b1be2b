"""A checked connection to a plain Redis URL, made without redis-py.

The replay's publisher writes RESP straight onto its socket and reads the replies with
hiredis; only the socket came from redis-py, whose import alone costs ~0.1 s of every
replay (``bench/startup.py``). :func:`open_plain` makes that socket for the common case
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
import socket
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
from xtape.errors import RedisUnavailable

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
    if target is None:
        return None
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
