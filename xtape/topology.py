"""A Redis Cluster as one moment sees it: which primary serves which slots
(:class:`Topology`, from ``CLUSTER SLOTS``), and whether a URL points at a cluster node
at all (:func:`detect_cluster`). The connections themselves come from
:mod:`xtape.connection`; following the map as it changes is :mod:`xtape.cluster`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xtape.connection import (
    CHECK_TIMEOUT_S,
    command,
    connect,
    error_reason,
    is_cluster_node,
    redact_url,
    resolve_url,
)
from xtape.errors import RedisRefused, RedisUnavailable

if TYPE_CHECKING:
    import redis

#: Slots of a Redis Cluster.
SLOTS = 16384


@dataclass(frozen=True, slots=True)
class ClusterNode:
    """A cluster node as ``CLUSTER SLOTS`` names it."""

    host: str
    port: int
    id: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Topology:
    """Which primary serves which slots (from ``CLUSTER SLOTS``), seen at one moment."""

    #: ``(first slot, last slot, primary, replicas)``, sorted by first slot.
    ranges: tuple[tuple[int, int, ClusterNode, tuple[ClusterNode, ...]], ...]

    @property
    def primaries(self) -> list[ClusterNode]:
        seen: dict[str, ClusterNode] = {}
        for _, _, node, _ in self.ranges:
            seen.setdefault(node.address, node)
        return sorted(seen.values(), key=lambda n: (n.host, n.port))

    def owners(self) -> list[ClusterNode | None]:
        """The primary of each slot (``None`` for a slot nobody serves)."""
        out: list[ClusterNode | None] = [None] * SLOTS
        for first, last, node, _ in self.ranges:
            out[first : last + 1] = [node] * (last - first + 1)
        return out

    def header(self) -> dict[str, Any]:
        """What a recording's header keeps of it."""
        return {
            "shards": len(self.primaries),
            "nodes": [
                {
                    "primary": node.address,
                    "id": node.id,
                    "slots": [[a, b] for a, b, n, _ in self.ranges if n == node],
                    "replicas": sorted({r.address for _, _, n, rs in self.ranges if n == node for r in rs}),
                }
                for node in self.primaries
            ],
        }

    @classmethod
    def parse(cls, reply: Any, seed_host: str) -> Topology:
        """From a ``CLUSTER SLOTS`` reply (an empty host means the node that was asked)."""
        def node(item: Any) -> ClusterNode:
            host = item[0].decode() if isinstance(item[0], bytes) else str(item[0] or "")
            node_id = item[2].decode() if len(item) > 2 and isinstance(item[2], bytes) else ""
            return ClusterNode(host or seed_host, int(item[1]), node_id)

        ranges = sorted(
            (int(r[0]), int(r[1]), node(r[2]), tuple(node(x) for x in r[3:])) for r in reply or ()
        )
        return cls(tuple(ranges))



def cluster_topology(client: redis.Redis, seed_host: str) -> Topology:
    """The slot map as ``client``'s node sees it."""
    return Topology.parse(command(client, "CLUSTER", "SLOTS"), seed_host)


def detect_cluster(url: str | None, mode: bool | None = None) -> Topology | None:
    """The cluster ``url`` points at, or ``None`` for a single server.

    ``mode`` overrides the detection: ``False`` (``--no-cluster``) treats any node as a
    single server; ``True`` (``--cluster``) requires a cluster node. The URL is checked
    by :func:`connect` first (so its errors are the usual ones).
    """
    import redis

    resolved = resolve_url(url)
    if mode is False:
        return None
    client = connect(resolved, socket_timeout=CHECK_TIMEOUT_S)
    try:
        if not is_cluster_node(client):
            if mode:
                raise RedisRefused(redact_url(resolved), "is not a node of a Redis Cluster (--cluster)")
            return None
        host = str(client.connection_pool.connection_kwargs.get("host", "127.0.0.1"))
        topology = cluster_topology(client, host)
        if not topology.ranges:
            raise RedisRefused(
                redact_url(resolved), "is a node of a Redis Cluster that serves no slots yet"
            )
        return topology
    except redis.ResponseError as exc:
        raise RedisRefused(redact_url(resolved), f"refused CLUSTER SLOTS: {error_reason(exc)}") from None
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise RedisUnavailable(redact_url(resolved), error_reason(exc)) from None
    finally:
        client.close()
