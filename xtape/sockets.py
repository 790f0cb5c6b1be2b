"""What both publishers and the recorder's links share about sockets, without
redis-py (a replay into a plain URL starts without it: ``xtape.plain``)."""

from __future__ import annotations

import select
import socket

#: Bytes read from a socket at once.
RECV_SIZE = 1 << 18
#: The first wait before reconnecting; it doubles after each failed attempt ...
BACKOFF_START_S = 0.1
#: ... up to this.
BACKOFF_MAX_S = 5.0


def socket_readable(sock: socket.socket) -> bool:
    """Whether a reply can be read from ``sock`` without waiting (TLS buffers included)."""
    pending = getattr(sock, "pending", None)  # (an ssl.SSLSocket's, without importing ssl)
    if pending is not None and pending():
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


#: The error codes a refusal keeps (:class:`~xtape.errors.CommandRefused`'s ``code``):
#: those redis-py takes off the messages of its own exception classes, by their names
#: (redis-py is imported only by the connections that use it: :mod:`xtape.nodes`).
REFUSAL_CODES: tuple[tuple[str, str], ...] = (
    ("MovedError", "MOVED"),  # (a subclass of AskError: first)
    ("AskError", "ASK"),
    ("TryAgainError", "TRYAGAIN"),
    ("ClusterDownError", "CLUSTERDOWN"),
    ("ReadOnlyError", "READONLY"),
    ("NoPermissionError", "NOPERM"),
    ("BusyLoadingError", "LOADING"),
    ("ExecAbortError", "EXECABORT"),
    ("OutOfMemoryError", "OOM"),
    ("NoScriptError", "NOSCRIPT"),
)


class NodeFault(ConnectionError):
    """The connection to a node failed (closed, reset, timed out, interrupted): it is
    dead; the message is the one line redis-py or the OS gave."""
