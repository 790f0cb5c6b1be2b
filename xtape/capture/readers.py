"""Which reader the recorder reads through: :func:`open_reader` (the one place that
knows the kinds of server; a new kind is a new :class:`~.server_reader.StreamReader` and one
branch here)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from xtape.capture.link import run_stoppable
from xtape.capture.server_reader import ServerReader, StreamReader
from xtape.connection import CHECK_TIMEOUT_S, redact_url
from xtape.nodes import NodeConnection
from xtape.topology import detect_cluster

log = logging.getLogger(__name__)


def open_reader(
    url: str,
    patterns: Sequence[str],
    *,
    cluster: bool | None = None,
    socket_timeout: float,
    should_stop: Callable[[], bool],
) -> StreamReader:
    """The reader for the server at ``url`` (not opened yet): a
    :class:`~.cluster_reader.ClusterReader` for a node of a Redis Cluster, else a
    :class:`~.server_reader.ServerReader`. ``cluster`` overrides the detection (``False``: one server,
    asked nothing; ``True``: a cluster is required). The detection stops waiting as soon
    as ``should_stop()`` holds (raising :class:`~.link.Stopped`); its connection errors
    are :func:`~xtape.connection.connect`'s. A plain ``redis://`` URL of a single server
    is told without redis-py (:func:`xtape.plain.open_plain`: ~0.06 s less to start)."""
    if cluster is None and run_stoppable(lambda: _single_plain(url), should_stop=should_stop):
        return ServerReader(url, patterns, socket_timeout=socket_timeout, should_stop=should_stop)
    topology = (
        None
        if cluster is False
        else run_stoppable(lambda: detect_cluster(url, cluster), should_stop=should_stop)
    )
    if topology is None:
        return ServerReader(url, patterns, socket_timeout=socket_timeout, should_stop=should_stop)
    log.info("%s is a cluster of %d shards", redact_url(url), len(topology.primaries))
    from xtape.capture.cluster_reader import ClusterReader  # (redis-py's cluster layer: only here)

    return ClusterReader(
        url, topology, patterns, socket_timeout=socket_timeout, should_stop=should_stop
    )


def _single_plain(url: str) -> bool:
    """Whether ``url`` is a plain one of a single server (not a cluster node), told
    without redis-py (:func:`xtape.plain.open_plain`; the connection is closed again, as
    :func:`~xtape.topology.detect_cluster` closes its own)."""
    node = NodeConnection.open_plain(url, socket_timeout=CHECK_TIMEOUT_S)
    if node is None:
        return False
    node.close()
    return True
