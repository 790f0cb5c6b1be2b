"""Which publisher a replay writes through: :func:`open_publisher` (the one place that
knows the kinds of server; a new kind is a new publisher and one branch here).

Importing this module imports no redis-py (a dry run starts without it): the
publishers are imported when one is opened."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xtape.replay.cluster_publisher import ClusterPublisher
    from xtape.replay.redis_publisher import RedisPublisher


def open_publisher(
    url: str | None,
    *,
    cluster: bool | None = None,
    maxlen: int | None = None,
    keep_ids: bool = False,
    reconnect: bool = True,
    stop_event: threading.Event | None = None,
    warn: Callable[[str], None] | None = None,
) -> RedisPublisher | ClusterPublisher:
    """A connected publisher for the server at ``url``: a
    :class:`~xtape.replay.cluster_publisher.ClusterPublisher` (routed per slot) for a
    node of a Redis Cluster, else a :class:`~xtape.replay.redis_publisher.RedisPublisher`.
    ``cluster`` overrides the detection (``True`` requires a cluster, ``False`` treats
    the node as one server). The options are the publishers' own; connection errors are
    :func:`~xtape.connection.connect`'s."""
    from xtape.replay.redis_publisher import RedisPublisher

    # A plain URL of a single server is connected and checked without redis-py (a
    # quicker start: xtape.plain); any other goes the usual way.
    sock = None
    if cluster is not True and not keep_ids:
        from xtape.plain import open_plain

        sock = open_plain(url, socket_timeout=None)
    topology = None
    if sock is None:
        from xtape.topology import detect_cluster

        topology = detect_cluster(url, cluster)
    if topology is None:
        return RedisPublisher(
            url, maxlen=maxlen, keep_ids=keep_ids, reconnect=reconnect, stop_event=stop_event, warn=warn, sock=sock
        )
    from xtape.replay.cluster_publisher import ClusterPublisher

    return ClusterPublisher(
        url,
        topology,
        maxlen=maxlen,
        keep_ids=keep_ids,
        reconnect=reconnect,
        stop_event=stop_event,
        warn=warn,
    )
