"""The recorder's reading edge (the reader seam): the server as the recorder sees it.

:class:`StreamReader` is what the recorder loop talks to: open/close the connections,
find streams (SCAN, TYPE, XINFO), read a round of streams from exact cursors (each with
its continuity checks), wait for traffic (invalidation hints, or a blocking read), and
tell a restart (``run_id``). Two implementations: :class:`ServerReader` (one server, below)
and :class:`~xtape.capture.cluster_reader.ClusterReader` (a Redis Cluster: one
:class:`ServerReader` per primary). A new kind of server is a new implementation of it.

A :class:`ServerReader` holds the two connections the recorder manages itself (:mod:`.link`):
one reads, the other receives invalidation hints (:mod:`.hints`). It knows the server's
``run_id`` and version, finds streams (SCAN, TYPE, XINFO), reads a round of dirty streams
in one MULTI (each with its continuity checks), and waits for traffic. It decides
nothing: what a reply means for the recording is the recorder's business.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from xtape.capture.cursors import StreamState
from xtape.capture.hints import Changes, Hints, start_hints
from xtape.capture.link import Link
from xtape.nodes import NodeConnection, Spec

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RoundReplies:
    """The replies of one round, per stream in the order asked."""

    #: ``XINFO STREAM`` reply (a list) or the error.
    infos: list[Any]
    #: For a verified cursor, whether its entry is still there; else ``None``.
    present: list[bool | None]
    #: The XREAD replies (``[[name, entries], ...]``, ``None`` or an error), per chunk.
    reads: list[Any]
    #: The streams these replies are for, when not all those asked could be read this
    #: round (a cluster slot moving: the others are asked again next round).
    states: list[StreamState] | None = None


@dataclass(frozen=True, slots=True)
class TopologyChange:
    """A change in which servers hold the streams (a cluster's primaries and slots), for
    the recorder to write as a marker and say on one line."""

    #: ``topology`` (primaries added or removed, slots moved: nothing lost) or
    #: ``failover`` (a replica took over: what it had not replicated is lost).
    kind: str
    text: str
    #: Addresses of primaries read from now on: their streams are to be looked for.
    added: tuple[str, ...] = ()


class StreamReader(Protocol):
    """What the recorder reads through (see the module docstring)."""

    #: Changes when the server (or, for a cluster, a shard's primary) is another one.
    run_id: str
    version: str
    #: The server's own name and version (``valkey 9.1.2``), for the header and warnings.
    server: str

    @property
    def connected(self) -> bool: ...

    @property
    def uses_hints(self) -> bool:
        """Whether waits are woken by invalidation hints (else they poll)."""
        ...

    def open(self) -> None:
        """(Re)open every connection; faults and ``Stopped`` propagate."""
        ...

    def close(self) -> None: ...

    def interrupt(self) -> None:
        """From another thread: end any wait on the network now."""
        ...

    def server_info(self) -> dict[str, str]:
        """At least ``run_id`` (compared every second) and ``redis_version``."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the recording's header keeps about the source (its topology)."""
        ...

    def restart_kind(self, old_run_id: str, new_run_id: str) -> str:
        """Called when the ``run_id`` changed: ``restart`` (the server's data may be
        older) or ``topology`` (only the set of servers changed, which
        :meth:`topology_changes` reports; no restart)."""
        ...

    def topology_changes(self) -> list[TopologyChange]:
        """What changed since the last call (re-reading the topology when due)."""
        ...

    def scan(self, pattern: bytes) -> Iterator[bytes]: ...

    def types(self, keys: Sequence[bytes]) -> list[bytes]: ...

    def infos(self, names: Sequence[bytes]) -> list[Any]: ...

    def read_round(
        self, states: Sequence[StreamState], count: int, keys_per_read: int
    ) -> RoundReplies: ...

    def changes(self, timeout: float = 0.0) -> Changes: ...

    def block(self, states: Sequence[StreamState], wait_s: float) -> set[bytes]: ...


class ServerReader:
    """One Redis server, read through connections that never reconnect on their own."""

    def __init__(
        self,
        url: str,
        patterns: Sequence[str],
        *,
        socket_timeout: float,
        should_stop: Callable[[], bool],
    ) -> None:
        self.url = url
        self.patterns = list(patterns)
        self.socket_timeout = socket_timeout
        self.should_stop = should_stop
        self.run_id = ""
        self.version = "unknown"
        self.server = "redis unknown"
        self._link: Link | None = None
        self._hints: Hints | None = None
        #: How to open a connection, learnt from the first (checked) one.
        self._spec: Spec | None = None

    # -- connections -----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._link is not None

    @property
    def uses_hints(self) -> bool:
        """Whether the server sends invalidation hints (else every wait polls all)."""
        return self._hints is not None

    @property
    def link(self) -> Link:
        assert self._link is not None
        return self._link

    def open(self) -> None:
        """Open both connections; sets :attr:`run_id` and :attr:`version` (faults and
        :class:`~xtape.capture.link.Stopped` propagate)."""
        self.close()
        first = self._spec is None
        self._link = Link.open(
            self._first if first else self._connection, should_stop=self.should_stop
        )
        info = self.server_info()
        self.version = info.get("redis_version", "unknown")
        self.server = server_label(info)
        self.run_id = info.get("run_id", "")
        self._hints = start_hints(
            self.link,
            self._connection,
            self.patterns,
            should_stop=self.should_stop,
            on_refused=lambda why: log.info(
                "no invalidation hints (%s): every wait polls all streams", why
            ),
        )

    def _first(self) -> NodeConnection:
        """The first connection: through :func:`xtape.connection.connect`, which checks
        the URL and the server and says what is wrong (auth, database, TLS, cluster)."""
        node = NodeConnection.open(self.url, socket_timeout=self.socket_timeout)
        self._spec = node.spec
        return node

    def _connection(self) -> NodeConnection:
        """A new connected connection (no pool, no retries)."""
        assert self._spec is not None
        return NodeConnection.reopen(self._spec)

    def close(self) -> None:
        for link in self._links():
            link.close()
        self._link, self._hints = None, None

    def interrupt(self) -> None:
        """From another thread: end any wait on the network now."""
        for link in self._links():
            link.interrupt()

    def _links(self) -> list[Link]:
        link, hints = self._link, self._hints
        return [x for x in (link, hints.link if hints is not None else None) if x is not None]

    def hints_fileno(self) -> int:
        """The hint connection's socket (-1 without hints): to wait on several readers."""
        return self._hints.link.fileno() if self._hints is not None else -1

    def describe(self) -> dict[str, Any]:
        return {"kind": "server"}

    def restart_kind(self, old_run_id: str, new_run_id: str) -> str:
        return "restart"

    def topology_changes(self) -> list[TopologyChange]:
        return []  # one server is one server

    def server_info(self) -> dict[str, str]:
        """``INFO server`` as text fields."""
        reply = self.link.call("INFO", "server")
        out: dict[str, str] = {}
        for line in bytes(reply).decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition(":")
            if sep and not key.startswith("#"):
                out[key] = value.strip()
        return out

    # -- finding streams -------------------------------------------------------------

    def scan(self, pattern: bytes) -> Iterator[bytes]:
        """Every stream key matching ``pattern`` (a full SCAN)."""
        cursor: Any = b"0"
        while True:
            cursor, keys = self.link.call(
                "SCAN", cursor, "MATCH", pattern, "COUNT", 1000, "TYPE", "stream"
            )
            yield from (bytes(k) for k in keys)
            if cursor in (b"0", 0):
                return

    def types(self, keys: Sequence[bytes]) -> list[bytes]:
        return self.link.pipeline([("TYPE", k) for k in keys], raise_errors=True)

    def infos(self, names: Sequence[bytes]) -> list[Any]:
        """``XINFO STREAM`` of each (a reply list, or the error in place)."""
        return self.link.pipeline([("XINFO", "STREAM", name) for name in names])

    # -- reading ---------------------------------------------------------------------

    def read_round(self, states: Sequence[StreamState], count: int, keys_per_read: int) -> RoundReplies:
        """One MULTI: per stream ``XINFO STREAM`` and, for a verified cursor, ``XRANGE
        cursor cursor``; then ``XREAD COUNT count`` from every cursor."""
        replies = self.link.multi(round_commands(states, count, keys_per_read))
        infos, present, reads = split_round(states, replies)
        return RoundReplies(infos, present, reads)

    def changes(self, timeout: float = 0.0) -> Changes:
        """Keys the server said changed (waiting up to ``timeout`` for the first)."""
        if self._hints is None:
            return Changes()
        return self._hints.take(timeout)

    def block(self, states: Sequence[StreamState], wait_s: float) -> set[bytes]:
        """Without hints: one blocking XREAD over all cursors; the streams with data."""
        reply = self.link.call(
            "XREAD", "COUNT", 1, "BLOCK", max(int(wait_s * 1000), 1), *streams_args(states)
        )
        return {bytes(name) for name, _ in reply or ()}


def server_label(info: dict[str, str]) -> str:
    """The server's own name and version from ``INFO server``: ``valkey 9.1.2``,
    ``redis 7.0.15`` (Valkey also reports a Redis compatibility ``redis_version``)."""
    name = info.get("server_name") or "redis"
    version = info.get(f"{name}_version") or info.get("redis_version") or "unknown"
    return f"{name} {version}"


def reports_trims(redis_version: str) -> bool:
    """Whether ``XINFO STREAM`` counts ``entries-added`` (Redis 7.0+, and every Valkey),
    which the recorder needs to see entries trimmed before it read them."""
    try:
        return int(redis_version.split(".")[0]) >= 7
    except ValueError:
        return True  # unknown: assume a current server (the XINFO reply says at once)


def streams_args(states: Sequence[StreamState]) -> list[bytes | str]:
    return ["STREAMS", *(s.name for s in states), *(s.cursor for s in states)]


def round_commands(states: Sequence[StreamState], count: int, keys_per_read: int) -> list[tuple[Any, ...]]:
    """The commands of one round's MULTI (one server's, or one slot's on a cluster): per
    stream ``XINFO STREAM`` and, for a verified cursor, ``XRANGE cursor cursor``; then
    ``XREAD COUNT count`` from every cursor, ``keys_per_read`` streams at a time."""
    commands: list[tuple[Any, ...]] = []
    for state in states:
        commands.append(("XINFO", "STREAM", state.name))
        if state.verified:
            commands.append(("XRANGE", state.name, state.cursor, state.cursor))
    for i in range(0, len(states), keys_per_read):
        commands.append(("XREAD", "COUNT", count, *streams_args(states[i : i + keys_per_read])))
    return commands


def split_round(states: Sequence[StreamState], replies: list[Any]) -> tuple[list[Any], list[bool | None], list[Any]]:
    """The replies of :func:`round_commands` as ``(infos, present, reads)``."""
    infos: list[Any] = []
    present: list[bool | None] = []
    at = 0
    for state in states:
        infos.append(replies[at])
        at += 1
        if state.verified:
            found = replies[at]
            present.append(bool(found) if isinstance(found, list) else None)
            at += 1
        else:
            present.append(None)
    return infos, present, replies[at:]
