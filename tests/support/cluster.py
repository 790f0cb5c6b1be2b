"""A throwaway local Redis Cluster: 3 primaries + 3 replicas on free loopback ports.

Each node is a ``redis-server --cluster-enabled yes`` (:class:`xtape.server.RedisServer`)
on a free port below 55535 (its cluster bus is port + 10000); the cluster is formed with
``redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`` and everything is
stopped and removed on :meth:`LocalCluster.close`. :meth:`LocalCluster.add_primary` joins
one more node (``CLUSTER MEET``) and :meth:`LocalCluster.migrate_slot` gives it slots (or
takes them away). Used by the cluster tests, by
``bench/cluster.py`` and by ``bench/record_source_cost.py --cluster`` (no replicas).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from types import TracebackType

import redis

from xtape.server import RedisServer, free_port

#: Cluster bus port = port + 10000, so ports must stay below this.
_PORT_LIMIT = 55535


def _free_cluster_port(taken: set[int]) -> int:
    for _ in range(1000):
        port = free_port()
        if port >= _PORT_LIMIT or port in taken or port + 10000 in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


class LocalCluster:
    """``primaries`` primaries with ``replicas`` replicas each, formed and ready."""

    def __init__(self, primaries: int = 3, replicas: int = 1, *, node_timeout_ms: int = 1000) -> None:
        self.primaries = primaries
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.nodes: list[RedisServer] = []

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> LocalCluster:
        taken: set[int] = set()
        try:
            for _ in range(self.primaries * (1 + self.replicas)):
                port = _free_cluster_port(taken)
                taken.update((port, port + 10000))
                node = RedisServer(port=port, extra_args=self._node_args())
                self.nodes.append(node)
                node.start()
            cli = shutil.which("redis-cli") or "redis-cli"
            subprocess.run(
                [
                    cli, "--cluster", "create",
                    *(f"127.0.0.1:{n.port}" for n in self.nodes),
                    "--cluster-replicas", str(self.replicas), "--cluster-yes",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
            )
            self.wait_ok()
        except BaseException:
            self.close()
            raise
        return self

    def _node_args(self) -> list[str]:
        return [
            "--cluster-enabled", "yes",
            "--cluster-node-timeout", str(self.node_timeout_ms),
            "--cluster-config-file", "nodes.conf",
            "--cluster-require-full-coverage", "no",
            "--cluster-allow-reads-when-down", "yes",
        ]  # fmt: skip

    def add_primary(self, timeout: float = 30.0) -> RedisServer:
        """One more ``redis-server --cluster-enabled yes``, joined with ``CLUSTER MEET``: a
        primary serving no slot yet (give it some with :meth:`migrate_slot`). Returns once
        every live node knows it and it knows them all."""
        taken = {p for n in self.nodes for p in (n.port, n.port + 10000)}
        node = RedisServer(port=_free_cluster_port(taken), extra_args=self._node_args())
        self.nodes.append(node)
        node.start()
        with self.client(self._live()) as c:
            c.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
        new_id = self.node_id(node).decode()
        live = [n for n in self.nodes if n.proc is not None]

        def known() -> bool:
            for n in live:
                with self.client(n) as c:
                    text = bytes(c.execute_command("CLUSTER", "NODES")).decode()
                lines = [line.split() for line in text.splitlines() if line.strip()]
                if len(lines) != len(live) or any(
                    "handshake" in parts[2] or parts[7] != "connected" for parts in lines
                ):
                    return False
                if new_id not in (parts[0] for parts in lines):
                    return False
            return True

        deadline = time.monotonic() + timeout
        while not known():
            if time.monotonic() > deadline:
                raise RuntimeError("the new node did not join the cluster")
            time.sleep(0.05)
        self.wait_ok(timeout)  # (a new primary waits a moment before it says ok)
        return node

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Until every live node says ``cluster_state:ok`` and the slots all agree."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if all(self._node_ok(n) for n in self.nodes if n.proc is not None):
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the local cluster did not become ready")
            time.sleep(0.1)

    def _node_ok(self, node: RedisServer) -> bool:
        with self.client(node) as c:
            info = c.execute_command("CLUSTER", "INFO")
            text = info.decode() if isinstance(info, bytes) else str(info)
            if "cluster_state:ok" not in text:
                return False
            slots = c.execute_command("CLUSTER", "SLOTS")
            return sum(int(s[1]) - int(s[0]) + 1 for s in slots) == 16384

    def close(self) -> None:
        for node in self.nodes:
            node.close()
        self.nodes = []

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- access -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """A URL of the first node (any node would do)."""
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def live_url(self) -> str:
        return f"redis://127.0.0.1:{self._live().port}/0"

    def _live(self) -> RedisServer:
        return next(n for n in self.nodes if n.proc is not None)

    @staticmethod
    def client(node: RedisServer) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=node.port, protocol=2)

    def cluster_client(self) -> redis.RedisCluster:
        node = next(n for n in self.nodes if n.proc is not None)
        return redis.RedisCluster(host="127.0.0.1", port=node.port, protocol=2)

    def node_by_port(self, port: int) -> RedisServer:
        return next(n for n in self.nodes if n.port == port)

    def owner(self, slot: int) -> RedisServer:
        """The primary serving ``slot`` now."""
        live = next(n for n in self.nodes if n.proc is not None)
        with self.client(live) as c:
            for start, end, primary, *_ in c.execute_command("CLUSTER", "SLOTS"):
                if int(start) <= slot <= int(end):
                    return self.node_by_port(int(primary[1]))
        raise RuntimeError(f"slot {slot} has no owner")

    def node_id(self, node: RedisServer) -> bytes:
        with self.client(node) as c:
            return bytes(c.execute_command("CLUSTER", "MYID"))

    def primaries_now(self) -> list[RedisServer]:
        live = next(n for n in self.nodes if n.proc is not None)
        with self.client(live) as c:
            ports = {int(s[2][1]) for s in c.execute_command("CLUSTER", "SLOTS")}
        return [self.node_by_port(p) for p in sorted(ports)]

    def replica_of(self, primary: RedisServer) -> RedisServer:
        pid = self.node_id(primary)
        for node in self.nodes:
            if node.proc is None or node is primary:
                continue
            with self.client(node) as c:
                info = c.info("replication")
                if info.get("role") == "slave" and int(info.get("master_port", 0)) == primary.port:
                    return node
        raise RuntimeError(f"no replica of {pid!r}")

    def migrate_slot(self, slot: int, target: RedisServer, *, between: object = None) -> None:
        """Move ``slot`` to ``target`` the way redis-cli does: IMPORTING/MIGRATING, MIGRATE
        every key, then SETSLOT NODE on both (and the others)."""
        source = self.owner(slot)
        src_id, dst_id = self.node_id(source), self.node_id(target)
        with self.client(source) as src, self.client(target) as dst:
            dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
            src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
            if callable(between):
                between()
            while True:
                keys = src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)
                if not keys:
                    break
                src.execute_command(
                    "MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys
                )
                if callable(between):
                    between()
            for node in [*self.primaries_now(), target]:
                with self.client(node) as c:
                    try:
                        c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
                    except redis.ResponseError as exc:
                        # A primary that just gave up its last slot turns itself into a
                        # replica of the new owner (Redis 7): it follows the owner's map.
                        if "only with masters" not in str(exc):
                            raise
