"""The HTTP listener of ``--metrics ADDR``: ``GET /metrics`` (Prometheus text format),
``GET /healthz`` (200 or 503 and one line: :mod:`xtape.observe.health`) and, for
``record --snapshot``, ``POST /snapshot`` (writes a snapshot, answers its path).

It runs on daemon threads of its own, so it answers while the loop waits on a frozen
server; the loop never waits for it.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from xtape.errors import RuntimeFailure, UsageError
from xtape.observe.health import Health

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

#: ``POST /snapshot``: writes one, returns ``(status, one line)``.
SnapshotFn = Callable[[], tuple[int, str]]

_ADDR = re.compile(r"^(?:\[(?P<v6>[0-9a-fA-F:.]+)\]:|(?P<host>[^:\[\]]*):)?(?P<port>\d{1,5})$")
#: How often the listener's thread looks for :meth:`Listener.close` (it waits that long).
_POLL_S = 0.05
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}


def parse_listen(text: str, *, option: str = "--metrics") -> tuple[str, int]:
    """``127.0.0.1:9464``, ``:9464`` (every interface), ``[::1]:9464`` or ``9464`` as
    ``(host, port)``."""
    match = _ADDR.match(text.strip())
    port = int(match.group("port")) if match else -1
    if match is None or not 0 <= port <= 65535:
        raise UsageError(
            f"invalid {option} {text!r}: use HOST:PORT (127.0.0.1:9464), :PORT (every interface) or [::1]:PORT"
        )
    host = match.group("v6") or match.group("host") or ""
    return host, port


class _Threads(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Threads6(_Threads):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr (stderr is the user's)."""


class Listener:
    """The listener, serving until :meth:`close`."""

    def __init__(
        self,
        addr: str,
        registry: CollectorRegistry,
        health: Health,
        snapshot: SnapshotFn | None = None,
    ) -> None:
        from prometheus_client import make_wsgi_app

        host, port = parse_listen(addr)
        self.health = health
        self.snapshot = snapshot
        self._metrics = make_wsgi_app(registry)
        server_class = _Threads6 if ":" in host else _Threads
        try:
            self._server = make_server(host, port, self._app, server_class, handler_class=_Quiet)
        except OSError as exc:
            raise RuntimeFailure(f"--metrics: cannot listen on {addr}: {exc.strerror or exc}") from None
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_S,), name="xtape-metrics", daemon=True
        )
        self._thread.start()

    def _app(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", "/"), environ.get("REQUEST_METHOD", "GET")
        if path == "/metrics":
            return self._metrics(environ, start)  # type: ignore[no-any-return]
        if path == "/healthz":
            return _text(start, *self.health.status())
        if path == "/snapshot":
            if method != "POST":
                return _text(start, 405, "POST /snapshot writes a snapshot")
            if self.snapshot is None:
                return _text(start, 404, "no snapshots here: start xtape record with --snapshot")
            return _text(start, *self.snapshot())
        return _text(start, 404, "not found: /metrics, /healthz or POST /snapshot")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _text(start: Callable[..., Any], status: int, line: str) -> list[bytes]:
    body = (line + "\n").encode()
    start(
        f"{status} {_REASONS.get(status, 'Error')}",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
