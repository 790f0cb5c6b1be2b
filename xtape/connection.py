"""Redis URLs and clients: one place that opens connections and hides passwords.

Everything that talks to Redis gets its client here, so the protocol (RESP2, whose
stream reply shapes we rely on), the byte handling (never decode) and the error
message for an unreachable server are the same everywhere.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

import redis

from xtape.errors import RedisUnavailable, UsageError

DEFAULT_URL = "redis://localhost:6379/0"
#: ``?password=...`` (redis-py reads credentials from the query string too).
_SECRET_QUERY = re.compile(r"((?:^|&)(?:password|pass|pwd)=)[^&]*", re.IGNORECASE)
_SCHEMES = ("redis", "rediss", "unix")


def resolve_url(url: str | None) -> str:
    """The URL to use: the one given, else ``$REDIS_URL``, else the local default."""
    return url or os.environ.get("REDIS_URL") or DEFAULT_URL


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``: the only way URLs are shown."""
    try:
        parts = urlsplit(url)
        shown = url
        if parts.password is not None:
            user = parts.username or ""
            host_port = parts.netloc.rpartition("@")[2]
            shown = shown.replace(parts.netloc, f"{user}:***@{host_port}", 1)
        if parts.query:
            query = _SECRET_QUERY.sub(r"\1***", parts.query)
            shown = shown.replace("?" + parts.query, "?" + query, 1)
        return shown
    except ValueError:
        return "<invalid url>"


def connect(
    url: str | None = None,
    *,
    socket_timeout: float | None = 30.0,
    check: bool = True,
) -> redis.Redis:
    """A bytes-only RESP2 client for ``url`` (see :func:`resolve_url`).

    With ``check`` the server is pinged, so an unreachable server fails here with a
    :class:`RedisUnavailable` that names the redacted URL, before any work starts.
    """
    url = resolve_url(url)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in _SCHEMES:
        raise UsageError(
            f"invalid Redis URL {redact_url(url)!r}: it must start with "
            + ", ".join(f"{s}://" for s in _SCHEMES)
        )
    try:
        client = redis.Redis.from_url(
            url,
            protocol=2,
            decode_responses=False,
            socket_timeout=socket_timeout,
            socket_connect_timeout=5.0,
            health_check_interval=0,
        )
    except ValueError as exc:
        raise UsageError(f"invalid Redis URL {redact_url(url)!r}: {exc}") from None
    keep_stream_replies_raw(client)
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            client.close()
            raise RedisUnavailable(redact_url(url), error_reason(exc)) from None
    return client


_RAW_COMMANDS = ("XRANGE", "XREVRANGE", "XREAD")


def _identity(response: object, **options: object) -> object:
    return response


def keep_stream_replies_raw(client: redis.Redis) -> None:
    """Turn off redis-py's dict parsing of stream replies on ``client``.

    redis-py builds a ``dict`` per entry, which silently drops duplicate field names;
    with this, XRANGE/XREAD replies stay the nested lists the server sent:
    ``[[id, [f1, v1, f1, v2, ...]], ...]``.
    """
    for command in _RAW_COMMANDS:
        client.set_response_callback(command, _identity)


def error_reason(exc: BaseException) -> str:
    """The first line of an exception's message (or its type): for one-line errors."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def server_version(client: redis.Redis) -> str:
    """The server's ``redis_version``, or ``"unknown"``."""
    try:
        info = client.info("server")
    except redis.RedisError:
        return "unknown"
    version = info.get("redis_version", "unknown")
    return version.decode() if isinstance(version, bytes) else str(version)


def command(client: redis.Redis, *args: Any) -> Any:
    """``client.execute_command`` with a type: the raw reply of one command."""
    return client.execute_command(*args)  # type: ignore[no-untyped-call]
