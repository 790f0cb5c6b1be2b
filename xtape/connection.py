"""Redis URLs and clients: one place that opens connections and hides passwords.

Everything that talks to Redis gets its client here, so the protocol (RESP2, whose
stream reply shapes we rely on), the byte handling (never decode), the checks made
before any work starts and the wording of every connection error are the same
everywhere.

A URL is checked in two steps. :func:`connect` first refuses what cannot be used as
given (a scheme it does not know, a userinfo holding ``/``, ``?`` or ``#``, a database
that is not a number, an option the connection class does not take), then asks the
server, on a short-lived probe connection with a short timeout, whether it will serve
this URL: reachable, credentials accepted, database present (a cluster node has only
database 0), TLS handshake done. Each failure has its own error (see :mod:`xtape.errors`).

Passwords: a URL is only ever shown through :func:`redact_url`; the password may also
come from ``$XTAPE_REDIS_PASSWORD`` or ``$REDISCLI_AUTH`` (what ``redis-cli`` users
already set), so it need not appear in ``ps``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from xtape.errors import (
    InvalidRedisUrl,
    RedisAuthFailed,
    RedisClusterNode,
    RedisNoDatabase,
    RedisRefused,
    RedisTlsFailed,
    RedisUnavailable,
    UsageError,
)

DEFAULT_URL = "redis://localhost:6379/0"
#: Where a password comes from when the URL has none, first found wins.
PASSWORD_ENV = ("XTAPE_REDIS_PASSWORD", "REDISCLI_AUTH")
#: How long the probe made by :func:`connect` waits for any answer (TLS handshake included).
CHECK_TIMEOUT_S = 4.0
CONNECT_TIMEOUT_S = 5.0

#: ``?password=...`` (redis-py reads credentials from the query string too).
_SECRET_QUERY = re.compile(r"((?:^|&)(?:password|pass|pwd)=)[^&]*", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SCHEMES = ("redis", "rediss", "unix")
_UNEXPECTED_OPTION = re.compile(r"unexpected keyword argument '([^']*)'")

if TYPE_CHECKING:
    import redis

# redis-py is imported by the functions that use it (its import costs ~0.1 s): URLs are
# resolved and shown, and a plain URL connected (xtape.plain), without it.


def resolve_url(url: str | None) -> str:
    """The URL to use: the one given, else ``$REDIS_URL``, else the local default."""
    return url or os.environ.get("REDIS_URL") or DEFAULT_URL


@dataclass(frozen=True)
class SplitUrl:
    """A URL cut the way a careful reader would, without trusting ``urllib``."""

    prefix: str  # "scheme://" (or "" when there is no "://")
    userinfo: str | None  # what stands before the '@' that ends the authority
    clean: bool  # False when '/', '?' or '#' hide inside the userinfo
    host: str  # host[:port]
    path: str
    query: str | None
    fragment: str | None

    @classmethod
    def of(cls, url: str) -> SplitUrl:
        scheme, sep, rest = url.partition("://")
        prefix = scheme + sep if sep else ""
        if not sep:
            rest = url
        clean = True
        if "@" in rest[_authority_end(rest) :]:
            # '@' after a '/', '?' or '#': those belong to the userinfo, so the userinfo
            # runs to the last '@' (as a person meant it), and the URL is not usable.
            clean = False
        userinfo: str | None = None
        if "@" in rest[: _authority_end(rest)] or not clean:
            userinfo, _, rest = rest.rpartition("@")
        end = _authority_end(rest)
        host, rest = rest[:end], rest[end:]
        rest, hash_, fragment = rest.partition("#")
        path, mark, query = rest.partition("?")
        return cls(
            prefix, userinfo, clean, host, path, query if mark else None, fragment if hash_ else None
        )

    @property
    def password_shown(self) -> bool:
        """Whether the user name may be shown (as ``user:***``): only beside a password."""
        if self.userinfo is None or not self.clean:
            return False
        _, colon, password = self.userinfo.partition(":")
        return bool(colon and password)

    def secrets(self) -> list[str]:
        """The texts no message may contain: the password, or the whole hidden userinfo."""
        if self.userinfo is None:
            return []
        hidden = self.userinfo.partition(":")[2] if self.password_shown else self.userinfo
        pieces = {hidden, unquote(hidden)}
        if not self.password_shown:
            pieces.update(p for part in self.userinfo.split(":") for p in (part, unquote(part)))
        # A parser that gives up quotes a fragment cut at a separator ('[', '/', ...).
        pieces.update(word for p in list(pieces) for word in re.split(r"[\W_]+", p) if len(word) >= 3)
        return [p for p in pieces if p]


def _authority_end(rest: str) -> int:
    ends = [i for i in (rest.find(c) for c in "/?#") if i >= 0]
    return min(ends, default=len(rest))


def redact_url(url: str) -> str:
    """``url`` as it may be shown: the only way URLs are printed or stored.

    The password becomes ``***``; the user name is kept only beside a password in a URL
    that reads cleanly (``redis://app:***@host/0``). Anything else before an ``@`` is
    hidden whole (``redis://***@host/0``): a user name alone is often a password in the
    wrong place, and ``/``, ``?`` or ``#`` in a password make it impossible to tell
    where it ends. ``?password=`` values and any fragment are hidden too, and control
    characters are escaped. Never raises.
    """
    parts = SplitUrl.of(url)
    shown = parts.prefix
    if parts.userinfo is not None:
        if parts.password_shown:
            shown += parts.userinfo.partition(":")[0] + ":***@"
        else:
            shown += "***@"
    shown += parts.host + parts.path
    if parts.query is not None:
        shown += "?" + _SECRET_QUERY.sub(r"\1***", parts.query)
    if parts.fragment is not None:
        shown += "#***"
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", shown)


def _scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***`` (for messages from redis-py or the OS).

    A short secret is replaced only where it stands alone, so that a user name ``u``
    does not turn "user" into "***ser"."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 6:
            text = text.replace(secret, "***")
        else:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    return text


def password_from_env() -> tuple[str, str] | None:
    """``(password, "$NAME")`` from the first of :data:`PASSWORD_ENV` that is set."""
    for name in PASSWORD_ENV:
        value = os.environ.get(name)
        if value:
            return value, f"${name}"
    return None


# --------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TlsOptions:
    """The ``--tls-*`` options, mapped onto the URL options redis-py's TLS connection takes."""

    ca_cert: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    insecure: bool = False

    def __bool__(self) -> bool:
        return bool(self.ca_cert or self.cert or self.key or self.insecure)


def with_tls(url: str, tls: TlsOptions) -> str:
    """``url`` with ``tls`` added as its query options ``ssl_ca_certs``, ``ssl_certfile``,
    ``ssl_keyfile`` and ``ssl_cert_reqs=none``; refuses files that are missing, a plain
    ``redis://`` URL and options the URL already sets."""
    if not tls:
        return url
    shown = redact_url(url)
    if not url.startswith("rediss://"):
        raise InvalidRedisUrl(shown, "the --tls-* options need a rediss:// URL")
    if tls.insecure and tls.ca_cert:
        raise UsageError(
            "--tls-insecure turns off the certificate check that --tls-ca-cert is for; "
            "give one of them"
        )
    if tls.key and not tls.cert:
        raise UsageError("--tls-key needs --tls-cert (the certificate that goes with the key)")
    given: list[tuple[str, str, str]] = []
    for option, name, path in (
        ("--tls-ca-cert", "ssl_ca_certs", tls.ca_cert),
        ("--tls-cert", "ssl_certfile", tls.cert),
        ("--tls-key", "ssl_keyfile", tls.key),
    ):
        if path is None:
            continue
        if not path.is_file():
            raise UsageError(f"{option} {path}: no such file")
        given.append((option, name, quote(str(path), safe="/")))
    if tls.insecure:
        given.append(("--tls-insecure", "ssl_cert_reqs", "none"))
    parts = SplitUrl.of(url)
    present = {item.partition("=")[0] for item in (parts.query or "").split("&")}
    for option, name, _ in given:
        if name in present:
            raise InvalidRedisUrl(shown, f"{option} and the URL's ?{name}= both set it; give one")
    base, hash_, fragment = url.partition("#")
    if parts.query is None:
        base += "?"
    elif parts.query:
        base += "&"  # after the URL's own options ("...?" ends with an empty query)
    return base + "&".join(f"{name}={value}" for _, name, value in given) + hash_ + fragment


# --------------------------------------------------------------------------- connect


@dataclass
class _Target:
    """A URL that passed the offline checks, ready to make clients."""

    url: str
    shown: str
    kwargs: dict[str, Any]  # what redis-py parsed from the URL
    password: str | None  # from the environment, when the URL has none
    password_source: str | None  # "the URL", "$XTAPE_REDIS_PASSWORD", ... or None
    secrets: list[str]

    @classmethod
    def parse(cls, url: str) -> _Target:
        from redis.connection import parse_url

        parts = SplitUrl.of(url)
        shown = redact_url(url)
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in _SCHEMES:
            raise InvalidRedisUrl(
                shown, "it must start with " + ", ".join(f"{s}://" for s in _SCHEMES)
            )
        if not parts.clean:
            raise InvalidRedisUrl(
                shown,
                "the part before '@' holds '/', '?' or '#'; percent-encode them in the "
                "password (%2F, %3F, %23) or give the password in $XTAPE_REDIS_PASSWORD",
            )
        if parts.fragment is not None:
            raise InvalidRedisUrl(shown, "'#' has no meaning here (percent-encode it as %23)")
        if scheme != "unix" and not re.fullmatch(r"/?|/[0-9]+", parts.path):
            raise InvalidRedisUrl(
                shown, f"the database must be a number (redis://host:port/N), not {parts.path!r}"
            )
        secrets = parts.secrets()
        try:
            kwargs: dict[str, Any] = parse_url(url)  # type: ignore[no-untyped-call]
        except ValueError as exc:
            raise InvalidRedisUrl(shown, _scrub(error_reason(exc), secrets)) from None
        password: str | None = None
        source: str | None = None
        if kwargs.get("password"):
            source = "the URL"
        else:
            found = password_from_env()
            if found is not None:
                password, source = found
                secrets.append(password)
        target = cls(url, shown, kwargs, password, source, secrets)
        target._check_options(scheme)
        return target

    def _check_options(self, scheme: str) -> None:
        """Make (not open) a connection, so an option the class does not take fails here."""
        import redis

        pool = self.client(None).connection_pool
        try:
            pool.connection_class(**pool.connection_kwargs)
        except TypeError as exc:
            match = _UNEXPECTED_OPTION.search(str(exc))
            name = match.group(1) if match else error_reason(exc)
            hint = " (TLS options need a rediss:// URL)" if name.startswith("ssl") else ""
            raise InvalidRedisUrl(
                self.shown, f"{scheme}:// connections take no option {name!r}{hint}"
            ) from None
        except (ValueError, redis.RedisError) as exc:
            raise InvalidRedisUrl(self.shown, _scrub(error_reason(exc), self.secrets)) from None

    @property
    def tls(self) -> bool:
        from redis.connection import SSLConnection

        return self.kwargs.get("connection_class") is SSLConnection

    def client(self, socket_timeout: float | None, **overrides: Any) -> redis.Redis:
        """A RESP2 bytes client (not connected yet); ``overrides`` win over the URL."""
        import redis

        kwargs: dict[str, Any] = {
            "protocol": 2,
            "decode_responses": False,
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
            "health_check_interval": 0,
        }
        if self.password is not None:
            kwargs["password"] = self.password
        kwargs.update(self.kwargs)  # the URL's own options win, as in Redis.from_url
        kwargs.update(overrides)
        return redis.Redis.from_pool(redis.ConnectionPool(**kwargs))

    def check(self) -> None:
        """Ask the server, with a short timeout, whether it serves this URL; raise if not."""
        import redis

        probe = self.client(CHECK_TIMEOUT_S)
        try:
            probe.ping()
            if int(self.kwargs.get("db", 0) or 0) != 0 and is_cluster_node(probe):
                raise RedisClusterNode(self.shown)
        except redis.AuthenticationError as exc:
            reason = self._reason(exc)
            if self.password_source == "$REDISCLI_AUTH" and "without any password" in reason:
                # Set for some other server, as redis-cli users do: go on without it, as
                # redis-cli does. A password xtape was given for this URL is not dropped.
                self.password = self.password_source = None
                self.check()
                return
            if reason.startswith("invalid username-password pair"):
                reason = "WRONGPASS " + reason  # the code redis-py takes off
            user_only = bool(self.kwargs.get("username")) and self.password_source is None
            raise RedisAuthFailed(self.shown, reason, self.password_source, user_only) from None
        except redis.ResponseError as exc:
            reason = self._reason(exc)
            if "DB index is out of range" in reason:
                db = int(self.kwargs.get("db", 0))
                raise RedisNoDatabase(self.shown, db, self._databases()) from None
            if "cluster mode" in reason:
                raise RedisClusterNode(self.shown) from None
            raise RedisRefused(self.shown, f"refused PING: {reason}") from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise self._unreachable(exc) from None
        finally:
            probe.close()

    def _unreachable(self, exc: redis.RedisError) -> RedisUnavailable | RedisTlsFailed:
        import ssl

        import redis

        reason = self._reason(exc)
        cause = exc.__cause__ or exc.__context__
        if self.tls:
            if isinstance(cause, ssl.SSLCertVerificationError):
                return RedisTlsFailed(
                    self.shown,
                    self._reason(cause),
                    "; pass --tls-ca-cert FILE (the CA that signed the server's "
                    "certificate) or --tls-insecure",
                )
            if isinstance(cause, ssl.SSLError):
                return RedisTlsFailed(
                    self.shown, self._reason(cause), "; is it a plain (non-TLS) port? use redis:// for those"
                )
            if isinstance(cause, TimeoutError) and "handshake" in str(cause):
                return RedisTlsFailed(
                    self.shown,
                    f"no TLS answer within {CHECK_TIMEOUT_S:g} s",
                    "; is it a plain (non-TLS) port? use redis:// for those",
                )
        elif "closed by server" in reason or "reset by peer" in reason:
            reason += " (a TLS port? use rediss:// for those)"
        elif isinstance(exc, redis.TimeoutError):  # connected, then silence: a frozen server
            reason = f"the server did not answer within {CHECK_TIMEOUT_S:g} s"
        return RedisUnavailable(self.shown, reason)

    def _databases(self) -> int | None:
        """The server's number of databases, or None when it will not say."""
        import redis

        client = self.client(CHECK_TIMEOUT_S, db=0)
        try:
            reply = command(client, "CONFIG", "GET", "databases")
            return int(reply[1])
        except (redis.RedisError, IndexError, ValueError, TypeError):
            return None
        finally:
            client.close()

    def _reason(self, exc: BaseException) -> str:
        return _scrub(error_reason(exc), self.secrets)


def is_cluster_node(client: redis.Redis) -> bool:
    """Whether ``client``'s server is a node of a Redis Cluster (False if INFO is refused)."""
    import redis

    try:
        info = client.info("cluster")
    except redis.ResponseError:  # INFO refused (ACL): nothing to learn here
        return False
    return bool(int(info.get("cluster_enabled", 0) or 0))


def connect(url: str | None = None, *, socket_timeout: float | None = 30.0) -> redis.Redis:
    """A bytes-only RESP2 client for ``url`` (see :func:`resolve_url`), checked first.

    Raises :class:`~xtape.errors.InvalidRedisUrl` for a URL that cannot be used as
    given, :class:`~xtape.errors.RedisRefused` (or a subclass) when the server will not
    serve it, and :class:`~xtape.errors.RedisUnavailable` when it cannot be reached: all
    before any work starts, within a few seconds, naming the redacted URL.
    """
    target = _Target.parse(resolve_url(url))
    target.check()
    client = target.client(socket_timeout)
    keep_stream_replies_raw(client)
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
    for name in _RAW_COMMANDS:
        client.set_response_callback(name, _identity)


# The client type and its refusal error, for modules above the connection layer that
# read the server through a client made here (they import no redis themselves):
# ``Client`` and ``ResponseError``, imported from redis-py when first asked for.
if TYPE_CHECKING:
    from redis import Redis
    from redis import ResponseError as ResponseError

    Client = Redis
else:

    def __getattr__(name: str) -> object:
        if name in ("Client", "ResponseError"):
            import redis

            return redis.Redis if name == "Client" else redis.ResponseError
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def error_reason(exc: BaseException) -> str:
    """The first line of an exception's message (or its type): for one-line errors."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def server_version(client: redis.Redis) -> str:
    """The server's ``redis_version``, or ``"unknown"``."""
    import redis

    try:
        info = client.info("server")
    except redis.RedisError:
        return "unknown"
    version = info.get("redis_version", "unknown")
    return version.decode() if isinstance(version, bytes) else str(version)


def command(client: redis.Redis, *args: Any) -> Any:
    """``client.execute_command`` with a type: the raw reply of one command."""
    return client.execute_command(*args)  # type: ignore[no-untyped-call]


def node_url(url: str, host: str, port: int) -> str:
    """``url`` pointed at another node (credentials, TLS options and database kept)."""
    parts = SplitUrl.of(url)
    prefix = parts.prefix if not parts.prefix.startswith("unix") else "redis://"
    userinfo = f"{parts.userinfo}@" if parts.userinfo is not None else ""
    shown_host = f"[{host}]" if ":" in host else host
    path = parts.path if not parts.prefix.startswith("unix") else ""
    query = f"?{parts.query}" if parts.query is not None else ""
    return f"{prefix}{userinfo}{shown_host}:{port}{path}{query}"
