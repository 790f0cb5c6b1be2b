"""The cluster publisher: XADD routed by slot, one raw-RESP pipeline per primary.

Each event goes to the primary that serves its stream's slot (``CLUSTER SLOTS``, hash
tags honoured), written as raw RESP (:func:`xtape.replay.resp.pack_xadds`) on that node's own socket,
as :class:`~xtape.replay.redis_publisher.RedisPublisher` does on one server. Every node
has its own in-flight window (``max_pending`` unanswered entries), and the replay's one
schedule drives all of them: :meth:`publish` takes a batch that is due, splits it per
node and returns; deadlines stay absolute.

Replies are read per node in order; each entry is confirmed by its own reply. A refusal
that is a redirection (``MOVED``, ``ASK``, ``TRYAGAIN``, ``CLUSTERDOWN``) is not an
error: that node's pipeline is drained, the slot map read again, and exactly the refused
entries are sent again, in their order, to the node that now serves them (after
``ASKING`` for an ``ASK``), before anything later is published, so each stream keeps
its order. A node whose connection is lost (a primary killed) is given up: the slot
map is read again from the other nodes (with backoff, until a replica has been
promoted) and the entries it had not confirmed are sent to the new owner; with
``keep_ids`` an entry the old primary had stored and replicated is recognised by the
"equal or smaller" refusal and counted as accepted, as on one server.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType

import hiredis
import redis

from xtape.cluster import SlotMap, SlotMapUnavailable, redirect_of, split_address
from xtape.connection import error_reason, redact_url
from xtape.errors import RedisRefused, RedisUnavailable
from xtape.nodes import NodeConnection, NodeFault, refusal
from xtape.notice import Notice
from xtape.replay.redis_publisher import ALREADY_THERE, POLL_MAX, PublisherSettings, stream_top
from xtape.replay.resp import pack_xadds
from xtape.sockets import BACKOFF_MAX_S, BACKOFF_START_S
from xtape.timeline import Event
from xtape.topology import ClusterNode, Topology

log = logging.getLogger(__name__)

_ASKING: bytes = hiredis.pack_command((b"ASKING",))
#: How many times one entry may be redirected before it counts as refused.
_MAX_REDIRECTS = 50


class _Lost(Exception):
    """A node's connection failed (handled by re-routing its unconfirmed entries)."""

    def __init__(self, node: _Node, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason


class _Node:
    """One primary: a socket, a reply reader and the entries waiting for a reply, in
    order (``None`` stands for the reply to an ``ASKING``, skipped)."""

    def __init__(self, address: str, url: str, socket_timeout: float | None) -> None:
        self.address = address
        self.url = url
        try:
            self.conn = NodeConnection.open(url, socket_timeout=socket_timeout, keep_client=True)
        except NodeFault as exc:  # (checked, then gone: retried as any node not up)
            raise RedisUnavailable(redact_url(url), str(exc)) from None
        assert self.conn.client is not None
        #: For the few commands besides XADD (on connections of its own).
        self.client: redis.Redis = self.conn.client
        self.reader: hiredis.Reader = hiredis.Reader()
        self.inflight: deque[Event | None] = deque()
        #: ids of entries sent again (after a redirect or a lost node), while unanswered.
        self.resent: set[int] = set()
        #: What one publish call is putting together for this node.
        self.batch: list[Event] = []

    def send(self, data: bytes) -> None:
        try:
            self.conn.send_bytes(data)
        except NodeFault as exc:
            raise _Lost(self, str(exc)) from None

    def readable(self) -> bool:
        return self.conn.readable()

    def receive(self) -> None:
        try:
            self.reader.feed(self.conn.recv())
        except NodeFault as exc:
            raise _Lost(self, str(exc)) from None

    def close(self) -> None:
        self.conn.close()


class ClusterPublisher(PublisherSettings):
    """Publishes events into the Redis Cluster ``topology`` (found at ``url``).

    The same interface and options as :class:`~xtape.replay.redis_publisher.RedisPublisher`
    (``maxlen``, ``keep_ids``, ``reconnect``, ``stop_event``, ``warn``); ``max_pending``
    is per node, and :attr:`reconnects` counts the nodes lost whose entries went to
    their successor.
    """

    def __init__(
        self,
        url: str | None,
        topology: Topology,
        *,
        maxlen: int | None = None,
        keep_ids: bool = False,
        max_pending: int = 20_000,
        socket_timeout: float | None = 30.0,
        reconnect: bool = True,
        stop_event: threading.Event | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(
            url,
            maxlen=maxlen,
            keep_ids=keep_ids,
            max_pending=max_pending,
            socket_timeout=socket_timeout,
            reconnect=reconnect,
            stop_event=stop_event,
            warn=warn,
        )
        #: Entries sent again because a node redirected them (MOVED/ASK/TRYAGAIN).
        self.redirected = 0
        self._nodes: dict[str, _Node] = {}
        self.slots = SlotMap(self._raw_url, topology)
        #: The node of each stream published to (cleared when the slot map changes).
        self._route: dict[bytes, _Node] = {}
        self._redirects: dict[int, int] = {}
        self._closed = False

    @property
    def topology(self) -> Topology:
        return self.slots.topology

    # -- routing ---------------------------------------------------------------------

    def _node(self, node: ClusterNode) -> _Node:
        found = self._nodes.get(node.address)
        if found is None:
            url = self.slots.node_url(node)
            found = self._nodes[node.address] = _Node(node.address, url, self._socket_timeout)
        return found

    def _node_of(self, stream: bytes) -> _Node:
        try:
            owner = self.slots.owner_of(stream)
        except SlotMapUnavailable:
            self._refresh()
            owner = self.slots.owner_of(stream)
        return self._node(owner)

    def _route_of(self, stream: bytes) -> _Node:
        """The node serving ``stream`` (kept for the next)."""
        found = self._node_of(stream)
        if len(self._route) < 100_000:
            self._route[stream] = found
        return found

    def _refresh(self) -> None:
        """Read the slot map again, from any node that answers."""
        self.slots.refresh()
        self._route = {}

    # -- the Publisher interface -----------------------------------------------------

    def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        try:
            self._send(events)
            busy = [n for n in self._nodes.values() if len(n.inflight) > self._max_pending]
            for node in busy:
                self._absorb(node, self._max_pending, block=True)
            if not busy:
                self.poll()
        except _Lost as lost:
            self._recover(lost)

    def poll(self) -> None:
        try:
            for node in list(self._nodes.values()):
                self._absorb(node, max(len(node.inflight) - POLL_MAX, 0), block=False)
        except _Lost as lost:
            self._recover(lost)

    def flush(self) -> None:
        while True:
            try:
                for node in list(self._nodes.values()):
                    self._absorb(node, 0, block=True)
            except _Lost as lost:
                self._recover(lost)
                continue
            if all(not n.inflight for n in self._nodes.values()):
                return

    def stream_tops(self, streams: Iterable[bytes]) -> dict[bytes, bytes | None]:
        names = list(streams)
        tops: dict[bytes, bytes | None] = {}
        for attempt in range(3):
            by_node: dict[str, list[bytes]] = {}
            for name in names:
                by_node.setdefault(self._node_of(name).address, []).append(name)
            try:
                for address, group in by_node.items():
                    pipe = self._nodes[address].client.pipeline(transaction=False)
                    for name in group:
                        pipe.execute_command("XINFO", "STREAM", name)  # type: ignore[no-untyped-call]
                    replies = pipe.execute(raise_on_error=False)
                    for name, reply in zip(group, replies, strict=True):
                        tops[name] = self._top(name, reply)
                return tops
            except _Redirected:
                if attempt == 2:
                    raise RedisUnavailable(self.url, "the slot map kept changing") from None
                self._refresh()
            except redis.RedisError as exc:
                raise RedisUnavailable(self.url, f"connection lost: {error_reason(exc)}") from None
        return tops

    def _top(self, name: bytes, reply: object) -> bytes | None:
        if isinstance(reply, redis.ResponseError) and redirect_of(refusal(reply))[0] in ("moved", "ask"):
            raise _Redirected
        return stream_top(name, reply, self.url)

    def unconfirmed(self) -> list[Event]:
        return [e for node in self._nodes.values() for e in node.inflight if e is not None]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for node in self._nodes.values():
            node.close()
        self._nodes = {}

    def __enter__(self) -> ClusterPublisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sending ---------------------------------------------------------------------

    def _send(self, events: Sequence[Event], *, resent: bool = False) -> None:
        """Group the events by the node serving their stream; one write per node."""
        touched: list[_Node] = []
        try:
            self._group(events, touched)
            packed = [pack_xadds(node.batch, self._trim, self.keep_ids) for node in touched]
        except BaseException:
            for node in touched:
                node.batch = []
            raise
        failed: _Lost | None = None
        for node, data in zip(touched, packed, strict=True):
            batch = node.batch
            node.batch = []
            node.inflight.extend(batch)
            if resent:
                node.resent.update(map(id, batch))
            try:
                node.send(data)
            except _Lost as lost:
                failed = failed or lost  # the other nodes still get their part
        if failed is not None:
            raise failed

    def _group(self, events: Sequence[Event], touched: list[_Node]) -> None:
        route = self._route
        for event in events:
            node = route.get(event.stream)
            if node is None:
                node = self._route_of(event.stream)
            if not node.batch:
                touched.append(node)
            node.batch.append(event)

    def _send_asking(self, address: str, events: Sequence[Event]) -> None:
        """``ASKING`` + ``XADD`` per entry, to the node importing their slot."""
        node = self._node(ClusterNode(*split_address(address), ""))
        data: list[bytes] = []
        for event in events:
            data.append(_ASKING)
            data.append(pack_xadds((event,), self._trim, self.keep_ids))
            node.inflight.append(None)
            node.inflight.append(event)
            node.resent.add(id(event))
        node.send(b"".join(data))

    # -- replies ---------------------------------------------------------------------

    def _absorb(self, node: _Node, target: int, *, block: bool) -> None:
        """Read ``node``'s replies until at most ``target`` entries are unanswered
        (without ``block``, also stop when nothing more has arrived); send the
        redirected ones again."""
        redirected = self._read(node, target, block=block)
        if redirected:
            self._redirect(redirected)

    def _read(self, node: _Node, target: int, *, block: bool) -> list[tuple[Event, str]]:
        """:meth:`_absorb`'s reading: the entries redirected, in order (after one, the
        node is drained: whatever was sent after it must not overtake it)."""
        reader = node.reader
        inflight = node.inflight
        errors = self.errors
        redirected: list[tuple[Event, str]] = []
        while len(inflight) > target:
            reply = reader.gets()
            if reply is False:
                if not block and not node.readable():
                    break
                try:
                    node.receive()
                except _Lost:
                    # the refused entries are unconfirmed again, ahead of the rest
                    inflight.extendleft(e for e, _ in reversed(redirected))
                    raise
                continue
            event = inflight.popleft()
            if event is None:
                continue  # the +OK of an ASKING
            if isinstance(reply, hiredis.ReplyError):
                message = str(reply)
                if redirect_of(message)[0]:
                    redirected.append((event, message))
                    if not block or target:
                        # drain this node: whatever was sent after a refused entry
                        # must not overtake it
                        target, block = 0, True
                elif node.resent and id(event) in node.resent and ALREADY_THERE in message:
                    self.accepted += 1
                else:
                    errors.add(event.stream, message)
            else:
                self.accepted += 1
                if errors.consecutive:
                    errors.consecutive = 0
            if node.resent:
                node.resent.discard(id(event))
        return redirected

    def _redirect(self, refused: list[tuple[Event, str]]) -> None:
        """Send the refused entries again, in order, where the cluster now says."""
        if any(redirect_of(m)[0] != "ask" for _, m in refused):
            # Drain every node first: nothing sent under the old slot map may overtake
            # what is sent again under the new one (each stream is then in flight on
            # one node only).
            for other in list(self._nodes.values()):
                try:
                    refused += self._read(other, 0, block=True)
                except _Lost as lost:
                    # sent again with that node's unconfirmed entries
                    lost.node.inflight.extendleft(e for e, _ in reversed(refused))
                    raise
            if any(redirect_of(m)[0] == "retry" for _, m in refused):
                self._stop_event.wait(0.05)
            self._refresh()
        self.redirected += len(refused)
        if len(self._redirects) > 100_000:
            self._redirects.clear()
        # Keep each stream's order: entries go out in the order they were refused.
        run: list[Event] = []
        run_ask: str | None = None
        for event, message in refused:
            count = self._redirects.get(id(event), 0) + 1
            if count > _MAX_REDIRECTS:
                self.errors.add(event.stream, message)
                continue
            self._redirects[id(event)] = count
            kind, target = redirect_of(message)
            ask = target if kind == "ask" else None
            if run and ask != run_ask:
                self._dispatch(run, run_ask)
                run = []
            run.append(event)
            run_ask = ask
        if run:
            self._dispatch(run, run_ask)

    def _dispatch(self, events: list[Event], ask: str | None) -> None:
        if ask is not None:
            self._send_asking(ask, events)
        else:
            self._send(events, resent=True)

    # -- lost nodes ------------------------------------------------------------------

    def _recover(self, lost: _Lost) -> None:
        """A node failed: read the slot map again (with backoff, until its slots have a
        reachable owner) and send its unconfirmed entries there."""
        node = lost.node
        if not self.reconnect or self._stop_event.is_set():
            raise self._lost(lost.reason)
        orphans = [e for e in node.inflight if e is not None]
        self._warn(
            Notice(
                "disconnected",
                f"lost the connection to {node.address} of the cluster at {self.url} ({lost.reason}); "
                "waiting for its slots to be served again"
                + (f" ({len(orphans)} entries unconfirmed, to be sent again)" if orphans else ""),
                url=self.url, node=node.address, reason=lost.reason, unconfirmed=len(orphans),
            )
        )
        self._nodes.pop(node.address, None)
        node.inflight.clear()
        with contextlib.suppress(Exception):  # already broken: nothing to release
            node.close()
        delay = BACKOFF_START_S
        down_since = time.monotonic()
        while True:
            if self._stop_event.wait(delay):
                raise self._lost(lost.reason)
            try:
                self._refresh()
                self._route = {}
                self._send(orphans, resent=True)
                break
            except _Lost as again:
                # (entries sent to the nodes that answered stay in their pipelines)
                orphans = [e for e in again.node.inflight if e is not None]
                self._nodes.pop(again.node.address, None)
                again.node.inflight.clear()
                with contextlib.suppress(Exception):
                    again.node.close()
            except (RedisUnavailable, RedisRefused) as exc:
                log.debug("cluster not ready again: %s", exc)
            delay = min(delay * 2, BACKOFF_MAX_S)
        self.reconnects += 1
        self.resent += len(orphans)
        down_s = time.monotonic() - down_since
        self._warn(Notice("reconnected", f"the cluster at {self.url} is served again after {down_s:.1f} s", url=self.url, down_s=round(down_s, 3)))

    def _lost(self, reason: str) -> RedisUnavailable:
        pending = len(self.unconfirmed())
        unanswered = f" ({pending} entries unconfirmed)" if pending else ""
        return RedisUnavailable(self.url, f"connection lost: {reason}{unanswered}")


class _Redirected(Exception):
    pass


