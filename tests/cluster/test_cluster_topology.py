"""A Redis Cluster that changes shape while `xtape record` runs (a real process): a primary
added and given slots is read, one whose slots all moved away is dropped, and each change
is a ``topology`` marker and one line on stderr (issue 16, item 2)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.crc import key_slot
from support.capture import by_stream
from support.cluster import LocalCluster
from support.e2e import wait_for

from xtape.capture.cluster_reader import ClusterReader
from xtape.capture.topology import compare
from xtape.connection import keep_stream_replies_raw
from xtape.recording import Recording
from xtape.topology import ClusterNode, Topology

XTAPE = str(Path(sys.executable).parent / "xtape")
Raw = list[tuple[bytes, list[bytes]]]


@pytest.fixture
def small_cluster() -> Iterator[LocalCluster]:
    with LocalCluster(primaries=3, replicas=0) as c:
        yield c


def _fields(i: int) -> list[bytes]:
    return [b"f", b"%d" % i, b"f", b"\xff\x00%d" % i, b"", b""]


def _xrange(c: LocalCluster, key: bytes) -> Raw:
    with LocalCluster.client(c.owner(key_slot(key))) as node:
        keep_stream_replies_raw(node)
        return [(bytes(i), list(f)) for i, f in node.execute_command("XRANGE", key, "-", "+")]


def _recorded(path: Path) -> dict[bytes, Raw]:
    """What the (unfinished) recording holds so far."""
    try:
        return by_stream(path)
    except Exception:  # not written yet
        return {}


@pytest.mark.slow  # (some seconds: `pytest -m "not slow"` skips it)
def test_a_primary_added_while_recording_is_read_and_one_removed_is_dropped(
    small_cluster: LocalCluster, tmp_path: Path
) -> None:
    c = small_cluster
    moved = b"nx{old}"  # recorded before its slot (with its entries) moves to the new node
    born = b"nx{new27}"  # created on the new node after the move (the case)
    rc = c.cluster_client()
    for i in range(50):
        rc.execute_command("XADD", moved, "*", *_fields(i))
    path = tmp_path / "nx.xtape"
    err_path = tmp_path / "stderr.txt"
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            [XTAPE, "record", "nx*", "-o", str(path), "--url", c.url, "--from", "start"],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        wait_for(lambda: len(_recorded(path).get(moved, [])) == 50, 30, "the first entries")

        new = c.add_primary()
        c.migrate_slot(key_slot(born), new)  # an empty slot: the case
        assert c.owner(key_slot(born)) is new
        with LocalCluster.client(new) as node:
            for i in range(300):
                node.execute_command("XADD", born, "*", *_fields(i))  # each acknowledged
        expected = {moved: _xrange(c, moved), born: _xrange(c, born)}
        assert len(expected[born]) == 300
        wait_for(lambda: _recorded(path) == expected, 30, "the entries on the new primary")
        added = f"primary 127.0.0.1:{new.port} added"
        wait_for(lambda: added in err_path.read_text(), 30, "the topology line on stderr")

        c.migrate_slot(key_slot(moved), new)  # a recorded stream moves, 50 entries with it
        with LocalCluster.client(new) as node:
            for i in range(50, 80):
                node.execute_command("XADD", moved, "*", *_fields(i))
        expected = {moved: _xrange(c, moved), born: _xrange(c, born)}
        assert len(expected[moved]) == 80
        wait_for(lambda: _recorded(path) == expected, 30, "the moved stream, from its cursor")

        # its slots move away (keys and all): it serves nothing, is dropped, then stopped
        back = next(n for n in c.primaries_now() if n is not new)
        c.migrate_slot(key_slot(moved), back)
        c.migrate_slot(key_slot(born), back)
        removed = f"primary 127.0.0.1:{new.port} removed"
        wait_for(lambda: removed in err_path.read_text(), 30, "the removal line on stderr")
        new.stop()
        for i in range(300, 340):
            rc.execute_command("XADD", born, "*", *_fields(i))
            rc.execute_command("XADD", moved, "*", *_fields(i))
        expected = {moved: _xrange(c, moved), born: _xrange(c, born)}
        assert len(expected[born]) == 340 and len(expected[moved]) == 120
        wait_for(lambda: _recorded(path) == expected, 30, "the entries after the removal")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
        rc.close()
    err_text = err_path.read_text()
    assert proc.returncode == 0, err_text
    assert "Traceback" not in err_text
    assert "lost the connection" not in err_text  # dropped before it went, not a fault
    assert "restarted" not in err_text and "failed over" not in err_text
    assert by_stream(path) == expected  # every entry once, bytes as stored
    recording = Recording(path)
    topology = [m.text for m in recording.markers() if m.kind == "topology"]
    assert any(added in text for text in topology), topology
    assert any(removed in text for text in topology), topology
    assert recording.gaps() == []
    lines = [line for line in err_text.splitlines() if "topology" in line]
    assert lines and all(line.startswith("xtape: warning: ") for line in lines)


# --------------------------------------------------------------------------- the comparison

A, B, C, N = (ClusterNode("10.0.0.1", port, f"id{port}") for port in (7000, 7001, 7002, 7009))
A2 = ClusterNode("10.0.0.2", 7000, "replica-of-a")


def _map(*ranges: tuple[int, int, ClusterNode], replicas: dict[str, ClusterNode] | None = None) -> Topology:
    of = replicas or {}
    return Topology(tuple((a, b, n, (of[n.address],) if n.address in of else ()) for a, b, n in ranges))


BASE = _map((0, 5460, A), (5461, 10922, B), (10923, 16383, C), replicas={A.address: A2})


def test_the_same_owners_are_no_change_whatever_the_replicas() -> None:
    assert compare(BASE, _map((0, 5460, A), (5461, 10922, B), (10923, 16383, C))) == []


def test_a_primary_added_and_given_slots_is_one_topology_change_naming_them() -> None:
    grown = _map((0, 5460, A), (5461, 5461, N), (5462, 10922, B), (10923, 16383, C))
    [change] = compare(BASE, grown)
    assert change.kind == "topology"
    assert change.added == (N.address,)
    assert f"primary {N.address} added" in change.text
    assert f"slot 5461 moved {B.address} -> {N.address}" in change.text
    [back] = compare(grown, BASE)
    assert back.added == ()
    assert f"primary {N.address} removed (it serves no slot)" in back.text


def test_a_replica_taking_over_is_a_failover_and_a_stranger_only_after_a_fault() -> None:
    promoted = _map((0, 5460, A2), (5461, 10922, B), (10923, 16383, C))
    [change] = compare(BASE, promoted)
    assert change.kind == "failover" and change.added == (A2.address,)
    assert f"primary {A.address} of the cluster failed over to {A2.address} (slots 0-5460)" in change.text
    taken = _map((0, 5460, N), (5461, 10922, B), (10923, 16383, C))
    assert [c.kind for c in compare(BASE, taken)] == ["topology"]  # a planned move
    assert [c.kind for c in compare(BASE, taken, after_fault=True)] == ["failover"]


def test_many_moves_are_one_line_with_ranges_and_counts() -> None:
    scattered = _map(
        *((s, s, B if s % 2 else C) for s in range(0, 20)), (20, 5460, A),
        (5461, 10922, B), (10923, 16383, C),
    )
    [change] = compare(BASE, scattered)
    assert "\n" not in change.text
    assert f"slots 0, 2, 4, 6, ... (10 slots) moved {A.address} -> {C.address}" in change.text


def test_run_ids_of_other_primaries_are_a_topology_change_not_a_restart() -> None:
    reader = ClusterReader(
        "redis://10.0.0.1:7000/0", BASE, ["x*"], socket_timeout=1.0, should_stop=lambda: False
    )
    assert reader.restart_kind("a:1=r1,b:1=r2", "a:1=r1,b:1=r2,n:1=r9") == "topology"
    assert reader.restart_kind("a:1=r1,b:1=r2", "b:1=r2,a2:1=r5") == "topology"
    assert reader.restart_kind("a:1=r1,b:1=r2", "a:1=r1,b:1=r3,n:1=r9") == "restart"
