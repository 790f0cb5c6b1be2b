"""Reading a Redis Cluster: one :class:`~xtape.capture.server_reader.ServerReader` per primary.

A cluster refuses what the single-server reader relies on across slots: a MULTI or a
multi-key XREAD whose keys are in different slots (``CROSSSLOT``). So a round is split
by node, then by slot: for each slot that has streams to read, one ``MULTI`` holding
the same continuity checks and ``XREAD`` as on one server (atomic per stream, as the
checks of :mod:`.cursors` need). All the slot groups of a node go out in one pipelined
write on that node's own connection, every node is written to before any is read, so
the nodes work in parallel and a round costs one round trip.

Waiting: every primary sends its own invalidation hints (``CLIENT TRACKING ... BCAST``
is per node), and a wait is one ``select`` over the hint connections of all primaries:
an idle cluster costs nothing, and a write wakes the recorder at once. Without hints
(refused by an ACL) the recorder polls: every wait becomes a sleep of at most
:data:`POLL_S` followed by a round over every stream (cost in proportion to the streams,
so hints are the normal case).

Resharding: a slot group refused with ``MOVED`` makes the reader read the slot map
again and ask the new owner in the same round; ``ASK`` (a slot half-way through a
migration) sends that group to the importing node after ``ASKING``; ``TRYAGAIN`` leaves
the group for the next round. A refused MULTI reads nothing, so cursors stay exact:
nothing is lost or read twice. Failover: a primary's connection failing is a fault like
any other; on reopening, the slot map is read again from any node that answers (until a
replica has been promoted) and a changed primary shows as a ``failover``.

Topology: the slot map is read again every :data:`TOPOLOGY_EVERY_S` (``CLUSTER SLOTS`` on
a primary already open), at once after ``MOVED`` and a fault, and soon after ``ASK``. A
primary that appears is opened (with its hints) and its streams are looked for; one that
serves no slot any more is closed and dropped; streams go on from their cursors wherever
their slot now is. Each change is reported by :meth:`ClusterReader.topology_changes`
(see :mod:`.topology`), for the recorder to write as a marker.
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from xtape.capture.cursors import StreamState
from xtape.capture.hints import Changes
from xtape.capture.server_reader import (
    RoundReplies,
    ServerReader,
    TopologyChange,
    round_commands,
    split_round,
)
from xtape.capture.topology import compare
from xtape.cluster import SlotMap, SlotMapUnavailable, redirect_of, split_address
from xtape.errors import CommandRefused, RedisRefused, RedisUnavailable
from xtape.nodes import NodeFault
from xtape.topology import ClusterNode, Topology

log = logging.getLogger(__name__)

#: Without hints, the longest a wait lasts before every stream is read again.
POLL_S = 0.1
#: How many times one round follows MOVED/ASK before leaving a group for later.
_REDIRECTS = 3
#: How often the slot map is read again (a primary added, slots moved, a failover).
TOPOLOGY_EVERY_S = 1.0
#: After ``ASK`` (a slot on the move), the next read of the slot map is this soon.
_ASK_RECHECK_S = 0.1


class ClusterReader:
    """A Redis Cluster, read through one :class:`ServerReader` per primary."""

    def __init__(
        self,
        url: str,
        topology: Topology,
        patterns: Sequence[str],
        *,
        socket_timeout: float,
        should_stop: Callable[[], bool],
    ) -> None:
        self.url = url
        self.slots = SlotMap(url, topology)
        self.patterns = list(patterns)
        self.socket_timeout = socket_timeout
        self.should_stop = should_stop
        self.run_id = ""
        self.version = "unknown"
        self.server = "redis unknown"
        #: The primaries' readers, by address (kept across reconnects).
        self._readers: dict[str, ServerReader] = {}
        self._open_ones: dict[str, ServerReader] = {}
        #: Changes of the slot map not yet taken by :meth:`topology_changes`.
        self._changes: list[TopologyChange] = []
        self._next_check = time.monotonic() + TOPOLOGY_EVERY_S
        #: Slot groups sent elsewhere after MOVED or ASK (a measure of resharding seen).
        self.redirects = 0

    @property
    def topology(self) -> Topology:
        return self.slots.topology

    # -- connections -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return bool(self._open_ones) and all(s.connected for s in self._open_ones.values())

    @property
    def uses_hints(self) -> bool:
        return bool(self._open_ones) and all(s.uses_hints for s in self._open_ones.values())

    def open(self) -> None:
        """Read the slot map (from any node that answers) and open every primary."""
        self.close()
        self._read_topology(fresh=bool(self._readers))
        for node in self.topology.primaries:
            self._open_node(node)
        infos = {a: s.run_id for a, s in sorted(self._open_ones.items())}
        self.run_id = ",".join(f"{a}={r}" for a, r in infos.items())
        first = next(iter(self._open_ones.values()))
        self.version, self.server = first.version, first.server

    def _open_node(self, node: ClusterNode) -> ServerReader:
        reader = self._readers.get(node.address)
        if reader is None:
            reader = self._readers[node.address] = ServerReader(
                self.slots.node_url(node),
                self.patterns,
                socket_timeout=self.socket_timeout,
                should_stop=self.should_stop,
            )
        if not reader.connected:
            try:
                reader.open()
            except (RedisUnavailable, RedisRefused) as exc:
                # a node not up (yet): a fault the recorder retries with backoff
                raise NodeFault(str(exc)) from None
        self._open_ones[node.address] = reader
        return reader

    def _read_topology(self, *, fresh: bool) -> None:
        """The slot map, from the nodes known (primaries, then replicas, then the URL)."""
        if not fresh:
            return
        try:
            old = self.slots.refresh(should_stop=self.should_stop)
        except SlotMapUnavailable as exc:
            raise NodeFault(str(exc)) from None  # a fault the recorder retries
        self._changed(old, after_fault=True)

    def _changed(self, old: Topology, *, after_fault: bool = False) -> None:
        """The slot map changed from ``old``: note what changed, and drop the primaries
        that serve no slot any more (their streams are read where their slots went)."""
        topology = self.topology
        self._changes.extend(compare(old, topology, after_fault=after_fault))
        kept = {node.address for node in topology.primaries}
        for node in old.primaries:
            if node.address not in kept:
                self._open_ones.pop(node.address, None)
                gone = self._readers.pop(node.address, None)
                if gone is not None:
                    gone.close()

    def _refresh(self) -> None:
        """After MOVED, and on schedule: the slot map from a node already open (no new
        connection); a new primary is opened."""
        for reader in list(self._open_ones.values()):
            try:
                reply = reader.link.call("CLUSTER", "SLOTS")
            except CommandRefused:
                continue
            host = reader.url.split("://", 1)[-1].rpartition("@")[2].rpartition(":")[0]
            topology = Topology.parse(reply, host or "127.0.0.1")
            if topology.ranges:
                self._changed(self.slots.use(topology))
                for node in topology.primaries:
                    if node.address not in self._open_ones:
                        self._open_node(node)  # a new primary (scaled out)
                return

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._open_ones = {}

    def interrupt(self) -> None:
        for reader in list(self._open_ones.values()):
            reader.interrupt()

    def describe(self) -> dict[str, Any]:
        return {"kind": "cluster", **self.topology.header()}

    def restart_kind(self, old_run_id: str, new_run_id: str) -> str:
        """``restart`` when a primary still there has another run_id, else ``topology``
        (primaries came or went: :meth:`topology_changes` says how, failovers included)."""
        def run_ids(run_id: str) -> dict[str, str]:
            return dict(part.partition("=")[::2] for part in run_id.split(",") if part)

        old, new = run_ids(old_run_id), run_ids(new_run_id)
        return "restart" if any(new.get(a, r) != r for a, r in old.items()) else "topology"

    def topology_changes(self) -> list[TopologyChange]:
        """The changes of the slot map seen since the last call; reads it again first
        when due (every :data:`TOPOLOGY_EVERY_S`, sooner after ``ASK``)."""
        now = time.monotonic()
        if self._open_ones and now >= self._next_check:
            self._next_check = now + TOPOLOGY_EVERY_S
            self._refresh()
        changes, self._changes = self._changes, []
        return changes

    def server_info(self) -> dict[str, str]:
        parts = []
        version = self.version
        for address, reader in sorted(self._open_ones.items()):
            info = reader.server_info()
            parts.append(f"{address}={info.get('run_id', '')}")
            version = info.get("redis_version", version)
        return {"run_id": ",".join(parts), "redis_version": version}

    # -- routing -----------------------------------------------------------------------

    def _reader_of(self, key: bytes) -> ServerReader:
        try:
            owner = self.slots.owner_of(key)
        except SlotMapUnavailable:
            self._refresh()
            try:
                owner = self.slots.owner_of(key)
            except SlotMapUnavailable as exc:
                raise NodeFault(str(exc)) from None
        reader = self._open_ones.get(owner.address)
        return reader if reader is not None else self._open_node(owner)

    def _per_key(self, commands: Sequence[tuple[Any, ...]], *, raise_errors: bool) -> list[Any]:
        """Single-key commands (the key is the last argument), each sent to the owner of
        its key's slot (following MOVED and ASK); the replies in order."""
        replies: list[Any] = [None] * len(commands)
        todo: list[tuple[int, str | None]] = [(i, None) for i in range(len(commands))]
        for attempt in range(_REDIRECTS + 1):
            by_reader: dict[int, tuple[ServerReader, list[tuple[int, bool]]]] = {}
            for i, ask in todo:
                reader = self._ask_reader(ask) if ask else self._reader_of(commands[i][-1])
                by_reader.setdefault(id(reader), (reader, []))[1].append((i, ask is not None))
            for reader, idx in by_reader.values():
                out: list[tuple[Any, ...]] = []
                for i, asking in idx:
                    out.extend([("ASKING",), commands[i]] if asking else [commands[i]])
                reader.link.send(out)
            todo = []
            moved = False
            for reader, idx in by_reader.values():
                got = reader.link.receive(sum(1 + asking for _, asking in idx))
                at = 0
                for i, asking in idx:
                    at += asking
                    reply = replies[i] = got[at]
                    at += 1
                    if attempt < _REDIRECTS and isinstance(reply, CommandRefused):
                        kind, target = redirect_of(reply)
                        if kind == "moved":
                            moved = True
                            todo.append((i, None))
                        elif kind == "ask":
                            self._recheck_soon()
                            todo.append((i, target))
            if moved:
                self._refresh()
            if not todo:
                break
        if raise_errors:
            for reply in replies:
                if isinstance(reply, CommandRefused):
                    raise reply
        return replies

    # -- finding streams -----------------------------------------------------------------

    def scan(self, pattern: bytes) -> Iterator[bytes]:
        """Every stream matching ``pattern`` on every primary."""
        for reader in list(self._open_ones.values()):
            yield from reader.scan(pattern)

    def types(self, keys: Sequence[bytes]) -> list[bytes]:
        return self._per_key([("TYPE", k) for k in keys], raise_errors=True)

    def infos(self, names: Sequence[bytes]) -> list[Any]:
        return self._per_key([("XINFO", "STREAM", n) for n in names], raise_errors=False)

    # -- reading -----------------------------------------------------------------------

    def read_round(
        self, states: Sequence[StreamState], count: int, keys_per_read: int
    ) -> RoundReplies:
        """Per slot one MULTI (checks + XREAD of its streams), all slot groups of a node in
        one pipelined write, all nodes written before any is read."""
        groups: dict[int, list[StreamState]] = {}
        for state in states:
            groups.setdefault(SlotMap.slot_of(state.name), []).append(state)
        done: list[tuple[list[StreamState], list[Any]]] = []
        todo: list[tuple[list[StreamState], str | None]] = [(g, None) for g in groups.values()]
        for attempt in range(_REDIRECTS + 1):
            sent: list[tuple[ServerReader, list[tuple[list[StreamState], int, bool]]]] = []
            by_reader: dict[int, tuple[ServerReader, list[tuple[list[StreamState], bool]]]] = {}
            for group, ask in todo:
                reader = self._ask_reader(ask) if ask else self._reader_of(group[0].name)
                by_reader.setdefault(id(reader), (reader, []))[1].append((group, ask is not None))
            for reader, items in by_reader.values():
                commands: list[tuple[Any, ...]] = []
                plan: list[tuple[list[StreamState], int, bool]] = []
                for group, asking in items:
                    body = round_commands(group, count, keys_per_read)
                    if asking:
                        commands.append(("ASKING",))
                    commands.extend([("MULTI",), *body, ("EXEC",)])
                    plan.append((group, len(body), asking))
                reader.link.send(commands)
                sent.append((reader, plan))
            todo = []
            moved = False
            for reader, plan in sent:
                total = sum(n + 2 + asking for _, n, asking in plan)
                replies = reader.link.receive(total)
                at = 0
                for group, n, asking in plan:
                    at += asking
                    queued = replies[at : at + n + 1]
                    result = replies[at + n + 1]
                    at += n + 2
                    refusal = _refusal_in(queued, result)
                    if refusal is None:
                        done.append((group, list(result)))
                        continue
                    kind, target = redirect_of(refusal)
                    log.debug("round: slot of %r: %s %s", group[0].name, kind or refusal, target)
                    if kind == "":
                        raise refusal  # refused while queuing (ACL, unknown command)
                    if attempt >= _REDIRECTS or kind == "retry":
                        continue  # left for the next round
                    self.redirects += 1
                    if kind == "moved":
                        moved = True
                        todo.append((group, None))
                    else:
                        self._recheck_soon()
                        todo.append((group, target))
            if moved:
                self._refresh()
            if not todo:
                break
        return _assemble(done)

    def _recheck_soon(self) -> None:
        self._next_check = min(self._next_check, time.monotonic() + _ASK_RECHECK_S)

    def _ask_reader(self, address: str) -> ServerReader:
        reader = self._open_ones.get(address)
        return reader if reader is not None else self._open_node(ClusterNode(*split_address(address), ""))

    def changes(self, timeout: float = 0.0) -> Changes:
        """The hints of every primary (waiting up to ``timeout`` for the first)."""
        out = Changes()
        readers = list(self._open_ones.values())
        for reader in readers:
            _merge(out, reader.changes(0.0))
        if out or timeout <= 0:
            return out
        fds = [fd for fd in (s.hints_fileno() for s in readers) if fd >= 0]
        ready, _, _ = select.select(fds, [], [], timeout)
        if ready:
            for reader in readers:
                _merge(out, reader.changes(0.0))
        return out

    def block(self, states: Sequence[StreamState], wait_s: float) -> set[bytes]:
        """Without hints: a short sleep, then every stream is read (polling)."""
        if self.should_stop():
            return set()
        time.sleep(min(wait_s, POLL_S))
        return {s.name for s in states}


def _refusal_in(queued: list[Any], result: Any) -> CommandRefused | None:
    """The refusal of one slot's MULTI: of a command while queuing, else of the EXEC."""
    refusal = next((r for r in queued if isinstance(r, CommandRefused)), None)
    if refusal is None and isinstance(result, CommandRefused):
        return result
    return refusal


def _assemble(done: list[tuple[list[StreamState], list[Any]]]) -> RoundReplies:
    states: list[StreamState] = []
    infos: list[Any] = []
    present: list[bool | None] = []
    reads: list[Any] = []
    for group, replies in done:
        states.extend(group)
        group_infos, group_present, group_reads = split_round(group, replies)
        infos.extend(group_infos)
        present.extend(group_present)
        reads.extend(group_reads)
    return RoundReplies(infos, present, reads, states)


def _merge(out: Changes, more: Changes) -> None:
    out.keys |= more.keys
    out.flushed = out.flushed or more.flushed

