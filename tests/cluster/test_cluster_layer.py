"""One cluster layer: the slot map and the node connection the cluster reader and the
cluster publisher share (on a real local cluster), the factories that pick a reader or
a publisher, and the recorder's seam (it knows neither redis-py nor clusters)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.crc import key_slot
from support.cluster import LocalCluster

import xtape.capture.recorder
from xtape.capture import open_reader
from xtape.capture.cluster_reader import ClusterReader
from xtape.capture.link import FAULTS
from xtape.capture.server_reader import ServerReader
from xtape.cluster import SlotMap, SlotMapUnavailable, redirect_of
from xtape.errors import CommandRefused, RedisUnavailable
from xtape.nodes import NodeConnection, NodeFault
from xtape.replay import open_publisher
from xtape.replay.cluster_publisher import ClusterPublisher
from xtape.replay.redis_publisher import RedisPublisher
from xtape.server import free_port
from xtape.topology import ClusterNode, Topology, detect_cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(3, 0) as c:
        yield c


def _slot_map(c: LocalCluster) -> SlotMap:
    topology = detect_cluster(c.url)
    assert topology is not None
    return SlotMap(c.url, topology)


# -- the recorder's seam ------------------------------------------------------------------


def test_the_recorder_imports_neither_redis_nor_anything_about_clusters() -> None:
    tree = ast.parse(Path(xtape.capture.recorder.__file__).read_text())
    modules: list[str] = []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules.append(node.module or "")
            names += [a.name for a in node.names]
    assert "xtape.capture.readers" in modules  # (the parse saw the imports)
    assert [m for m in modules if m.split(".")[0] in ("redis", "hiredis")] == []
    assert [m for m in modules if "cluster" in m or m in ("xtape.nodes",)] == []
    assert [n for n in names if "cluster" in n.lower()] == []


# -- the slot map ---------------------------------------------------------------------------


def test_the_slot_map_names_the_owner_the_cluster_names(cluster: LocalCluster) -> None:
    slots = _slot_map(cluster)
    assert len(slots.primaries) == 3
    for key in (b"a", b"b:1", b"{user}:x", b"\xff\x00raw", b"orders"):
        owner = slots.owner_of(key)
        assert slots.slot_of(key) == key_slot(key)
        assert owner.port == cluster.owner(key_slot(key)).port
        with cluster.client(cluster.node_by_port(owner.port)) as node:
            node.xadd(key, {b"f": b"v"})  # served there: no MOVED


def test_refresh_follows_a_moved_slot_and_returns_the_old_map(cluster: LocalCluster) -> None:
    slots = _slot_map(cluster)
    key = b"moving:{m}"
    before = slots.owner_of(key)
    target = next(p for p in cluster.primaries_now() if p.port != before.port)
    cluster.migrate_slot(key_slot(key), target)
    assert slots.owner_of(key) == before  # until it is read again
    old = slots.refresh()
    assert old.owners()[key_slot(key)] == before
    assert slots.owner_of(key).port == target.port
    assert slots.topology.owners()[key_slot(key)] == slots.owner_of(key)


def test_a_slot_nobody_serves_and_a_cluster_nobody_answers_are_one_error() -> None:
    dead = [free_port() for _ in range(2)]
    node = ClusterNode("127.0.0.1", dead[0], "")
    topology = Topology(((0, 99, node, ()),))
    slots = SlotMap(f"redis://user:s3cret@127.0.0.1:{dead[1]}/0", topology)
    with pytest.raises(SlotMapUnavailable) as unserved:
        slots.owner_of(b"a")  # slot 15495: outside 0-99
    assert "no primary serves the slot of b'a'" in str(unserved.value)
    with pytest.raises(SlotMapUnavailable) as nobody:
        slots.refresh()
    assert isinstance(nobody.value, RedisUnavailable)
    assert "cannot read the cluster's slot map" in str(nobody.value)
    assert "s3cret" not in str(nobody.value)


def test_a_cluster_nobody_answers_is_a_fault_the_recorder_retries() -> None:
    dead = free_port()
    node = ClusterNode("127.0.0.1", dead, "")
    reader = ClusterReader(
        f"redis://127.0.0.1:{dead}/0", Topology(((0, 16383, node, ()),)), ["x*"],
        socket_timeout=1.0, should_stop=lambda: False,
    )
    with pytest.raises(FAULTS):
        reader.open()  # its primary is not up
    with pytest.raises(FAULTS) as again:
        reader.open()  # the slot map is read again first: from nobody
    assert "cannot read the cluster's slot map" in str(again.value)


# -- the node connection ------------------------------------------------------------------


def test_a_refusal_is_an_xtape_error_worded_as_redis_py_words_it(cluster: LocalCluster) -> None:
    slots = _slot_map(cluster)
    key = b"elsewhere"
    owner = slots.owner_of(key)
    other = next(p for p in slots.primaries if p != owner)
    conn = NodeConnection.open(slots.node_url(other), socket_timeout=5.0)
    try:
        conn.send([("XADD", key, "*", "f", "v"), ("NOSUCHCOMMAND",)])
        moved, unknown = conn.read_reply(), conn.read_reply()
    finally:
        conn.close()
    assert isinstance(moved, CommandRefused) and moved.code == "MOVED"
    assert redirect_of(moved) == ("moved", owner.address)
    assert isinstance(unknown, CommandRefused) and unknown.code == ""
    with cluster.client(cluster.node_by_port(other.port)) as plain, pytest.raises(redis.ResponseError) as exc:
        plain.execute_command("NOSUCHCOMMAND")
    assert str(unknown) == str(exc.value)  # the words users saw before


def test_errors_inside_an_exec_reply_are_xtape_errors_too(redis_url: str) -> None:
    conn = NodeConnection.open(redis_url, socket_timeout=5.0)
    try:
        conn.send([("MULTI",), ("XADD", "s", "*", "f", "v"), ("INCR", "s"), ("EXEC",)])
        replies = [conn.read_reply() for _ in range(4)]
    finally:
        conn.close()
    added, wrong = replies[-1]
    assert isinstance(added, bytes)
    assert isinstance(wrong, CommandRefused) and "WRONGTYPE" in str(wrong)


def test_a_dead_connection_faults_and_is_never_reopened_behind_the_callers_back(redis_url: str) -> None:
    conn = NodeConnection.open(redis_url, socket_timeout=5.0)
    conn.send([("QUIT",)])
    assert conn.read_reply() == b"OK"
    with pytest.raises(NodeFault):
        conn.read_reply()  # the server closed it
    with pytest.raises(NodeFault) as again:
        conn.send([("PING",)])  # (redis-py alone would reconnect here)
    assert isinstance(again.value, OSError)  # what the recorder's fault handling catches
    conn.close()


# -- the factories --------------------------------------------------------------------------


def test_the_factories_pick_the_cluster_implementations(cluster: LocalCluster, redis_url: str) -> None:
    def reader(url: str, mode: bool | None = None) -> object:
        return open_reader(url, ["x*"], cluster=mode, socket_timeout=5.0, should_stop=lambda: False)

    assert isinstance(reader(cluster.url), ClusterReader)
    assert isinstance(reader(redis_url), ServerReader)
    assert isinstance(reader(cluster.url, False), ServerReader)
    with open_publisher(cluster.url) as clustered, open_publisher(redis_url) as single:
        assert isinstance(clustered, ClusterPublisher)
        assert isinstance(single, RedisPublisher)
    with pytest.raises(Exception, match="not a node of a Redis Cluster"):
        reader(redis_url, True)


def test_reader_and_publisher_route_with_the_same_slot_map_class(cluster: LocalCluster) -> None:
    reader = open_reader(cluster.url, ["x*"], socket_timeout=5.0, should_stop=lambda: False)
    assert isinstance(reader, ClusterReader)
    with open_publisher(cluster.url) as publisher:
        assert isinstance(publisher, ClusterPublisher)
        assert type(reader.slots) is type(publisher.slots) is SlotMap
        assert reader.slots.owners == publisher.slots.owners
