"""A Redis Cluster's slot map, as the cluster reader and the cluster publisher use it.

:class:`SlotMap` knows which primary serves each of the :data:`~xtape.topology.SLOTS`
slots (hash tags honoured), reads the map again from any node that answers
(:meth:`SlotMap.refresh`: the primaries known, then their replicas, then the URL given,
so a failover is followed once a replica has been promoted), and fails in one way:
:class:`SlotMapUnavailable`. :func:`redirect_of` tells what a refusal asks for
(``MOVED``, ``ASK``, ``TRYAGAIN``/``CLUSTERDOWN``). The connections to the nodes are
:class:`xtape.nodes.NodeConnection`; finding out whether a URL is a cluster at all is
:func:`xtape.topology.detect_cluster`.

:data:`SLOT_MAP_TIMEOUT_S`: reading the map is a check like :func:`~xtape.connection.connect`'s
probe (a small reply), so it has the same short bound; a node that does not answer
within it is skipped for the next one, and a recorder being stopped waits no longer.
"""

from __future__ import annotations

from collections.abc import Callable

import redis
from redis.crc import key_slot

from xtape.connection import CHECK_TIMEOUT_S, connect, error_reason, node_url, redact_url
from xtape.errors import CommandRefused, RedisRefused, RedisUnavailable
from xtape.topology import ClusterNode, Topology, cluster_topology

#: How long reading the slot map from one node may take (see the module docstring).
SLOT_MAP_TIMEOUT_S = CHECK_TIMEOUT_S


class SlotMapUnavailable(RedisUnavailable):
    """No node of the cluster told its slot map, or no primary serves a slot."""


class SlotMap:
    """Which primary serves which slot of the cluster found at ``url`` (credentials,
    TLS options kept for the other nodes), from ``topology`` on."""

    def __init__(self, url: str, topology: Topology) -> None:
        self.url = url
        self.topology = topology
        self.owners: list[ClusterNode | None] = topology.owners()

    @property
    def primaries(self) -> list[ClusterNode]:
        return self.topology.primaries

    @staticmethod
    def slot_of(key: bytes) -> int:
        """The slot of ``key`` (its hash tag's, if it has one)."""
        return int(key_slot(key))

    def owner_of(self, key: bytes) -> ClusterNode:
        """The primary serving ``key``'s slot; :class:`SlotMapUnavailable` when none does
        (as this map has it: :meth:`refresh` and ask again)."""
        owner = self.owners[key_slot(key)]
        if owner is None:
            raise SlotMapUnavailable(
                redact_url(self.url), f"no primary serves the slot of {key!r}"
            )
        return owner

    def node_url(self, node: ClusterNode) -> str:
        """The URL of ``node`` (this map's URL pointed at it)."""
        return node_url(self.url, node.host, node.port)

    def use(self, topology: Topology) -> Topology:
        """Route by ``topology`` from now on; the map used until now."""
        old, self.topology = self.topology, topology
        self.owners = topology.owners()
        return old

    def refresh(self, *, should_stop: Callable[[], bool] = lambda: False) -> Topology:
        """Read the map again from the first node that answers (primaries, replicas, then
        the URL given) and use it; the map used until now. Raises
        :class:`SlotMapUnavailable` when none does (or ``should_stop()`` holds first)."""
        candidates = [n for n in self.topology.primaries] + [
            r for *_, replicas in self.topology.ranges for r in replicas
        ]
        urls = dict.fromkeys([*(self.node_url(n) for n in candidates), self.url])
        last = "no node answered"
        for url in urls:
            if should_stop():
                break
            try:
                client = connect(url, socket_timeout=SLOT_MAP_TIMEOUT_S)
            except (RedisUnavailable, RedisRefused) as exc:
                last = str(exc)
                continue
            try:
                host = str(client.connection_pool.connection_kwargs.get("host", "127.0.0.1"))
                topology = cluster_topology(client, host)
            except redis.RedisError as exc:
                last = error_reason(exc)
                continue
            finally:
                client.close()
            if topology.ranges:
                return self.use(topology)
        raise SlotMapUnavailable(redact_url(self.url), f"cannot read the cluster's slot map: {last}")


def redirect_of(error: CommandRefused | str) -> tuple[str, str]:
    """What a refusal asks for: ``("moved", address)``, ``("ask", address)``,
    ``("retry", "")`` (``TRYAGAIN``, ``CLUSTERDOWN``) or ``("", "")`` for any other.
    ``error`` is a :class:`~xtape.errors.CommandRefused` or an error reply's whole text
    (``MOVED 3999 127.0.0.1:6381``)."""
    if isinstance(error, CommandRefused):
        code, text = error.code, str(error)
    else:
        code, _, text = error.partition(" ")
    if code == "MOVED":
        return "moved", text.split()[-1]
    if code == "ASK":
        return "ask", text.split()[-1]
    if code in ("TRYAGAIN", "CLUSTERDOWN"):
        return "retry", ""
    return "", ""


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (IPv6 hosts in brackets or not) as ``(host, port)``."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)
