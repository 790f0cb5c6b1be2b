"""Which streams changed: Redis's own invalidation messages, so that an idle stream costs
the source nothing.

``CLIENT TRACKING ON REDIRECT <id> BCAST PREFIX p...`` (Redis 6.0+, read-only, no server
configuration) makes the server send, to a connection subscribed to
``__redis__:invalidate``, the name of every key modified under the prefixes: XADD, XTRIM,
DEL, RENAME, expiry... and a null for FLUSHALL/FLUSHDB. The server sends them after the
write is applied, in one message per event-loop cycle, so its cost is in proportion to
the writes. The recorder reads only the streams named (plus those it has not finished),
instead of asking every stream every round.

Where tracking is refused (an ACL without ``CLIENT``/``SUBSCRIBE``, an old server, a
proxy), :func:`start_hints` returns ``None`` and the recorder falls back to one blocking
XREAD over all its streams per wait.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from xtape.capture.link import ConnectFn, Link
from xtape.capture.options import is_glob
from xtape.errors import CommandRefused

_CHANNEL = b"__redis__:invalidate"
#: Glob characters in Redis patterns: the prefix of a glob ends at the first of them.
_GLOB_CHARS = b"*?[\\"


@dataclass
class Changes:
    """What the server said changed since the last look."""

    keys: set[bytes] = field(default_factory=set)
    #: A FLUSHALL/FLUSHDB happened (on some database: the message does not say which).
    flushed: bool = False

    def __bool__(self) -> bool:
        return self.flushed or bool(self.keys)


def prefixes(patterns: Iterable[str]) -> list[bytes]:
    """The key prefixes to track for ``patterns`` (no prefix is a prefix of another,
    as Redis requires); ``[b""]`` means every key."""
    out: set[bytes] = set()
    for pattern in patterns:
        raw = pattern.encode("utf-8", "surrogateescape")
        if is_glob(pattern):
            cut = min((i for i, ch in enumerate(raw) if ch in _GLOB_CHARS), default=len(raw))
            raw = raw[:cut]
        out.add(raw)
    kept: list[bytes] = []
    for p in sorted(out, key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return kept


class Hints:
    """A subscribed connection receiving the invalidation messages of a tracking one."""

    def __init__(self, link: Link) -> None:
        self.link = link

    def take(self, timeout: float = 0.0) -> Changes:
        """Everything received, waiting up to ``timeout`` seconds for the first message."""
        changes = Changes()
        wait = timeout
        while self.link.wait_readable(wait):
            self._add(self.link.read(), changes)
            wait = 0.0
        return changes

    @staticmethod
    def _add(message: Any, changes: Changes) -> None:
        if not isinstance(message, list) or len(message) != 3 or message[0] != b"message":
            return
        keys = message[2]
        if keys is None:
            changes.flushed = True
        else:
            changes.keys.update(bytes(k) for k in keys)

    def close(self) -> None:
        self.link.close()


def start_hints(
    tracker: Link,
    make: ConnectFn,
    patterns: Iterable[str],
    *,
    should_stop: Callable[[], bool],
    on_refused: Callable[[str], None],
) -> Hints | None:
    """Subscribe a new connection and turn tracking on for ``tracker`` (which must stay
    open as long as the hints are wanted); ``None`` if the server refuses."""
    link = Link.open(make, should_stop=should_stop)
    try:
        client_id = link.call("CLIENT", "ID")
        link.call("SUBSCRIBE", _CHANNEL)
        args: list[Any] = ["CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST"]
        for prefix in prefixes(patterns):
            if prefix:
                args += ["PREFIX", prefix]
        tracker.call(*args)
    except CommandRefused as exc:
        link.close()
        on_refused(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return None
    except BaseException:
        link.close()
        raise
    return Hints(link)
