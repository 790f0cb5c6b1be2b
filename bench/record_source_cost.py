"""What recording costs the servers: Redis's CPU time for the same trickle of traffic
without and with ``xtape record`` attached, for 10, 1,000 and 10,000 streams.

For each stream count, a throwaway server gets N streams (one entry each); then, for
``--seconds``, a producer adds ~``--rate`` entries/s to random streams, once with no
recorder and once with ``xtape record 'b:*' -o FILE`` attached (started beforehand and
given time to check every stream once). The server's CPU time (utime + stime of its
process, from /proc) is measured over the trickle only. Also printed: the recorder's
own CPU and its end-to-end latency (capture time minus the entry id's millisecond).

With ``--cluster`` the same is measured against a throwaway local Redis Cluster of 3
primaries (no replicas; ``tests/support/cluster.py``): the streams ``b:0`` ... spread
over the slots of all three, the producer routes each XADD to its slot's primary, the
recorder is pointed at one node (it detects the cluster and reads every primary), and
the CPU time is summed over the three primaries, so "added" is what recording costs the
whole cluster, as a share of one core.

    .venv/bin/python bench/record_source_cost.py [--streams 10 1000 10000] [--seconds 10] [--cluster]

Every process it starts (servers, recorder) is stopped when it ends, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import redis
from support.cluster import LocalCluster

from xtape.connection import connect
from xtape.ids import id_ms
from xtape.recording import Recording
from xtape.server import RedisServer

TICK = os.sysconf("SC_CLK_TCK")
TARGET = 0.10  # of one core, added by the recorder at 10,000 streams


def cpu_s(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Servers:
    """A throwaway server or cluster: the URL the recorder gets, the pids whose CPU is
    summed, and a way to make a client that routes each key to its server."""

    url: str
    pids: list[int]
    client: Callable[[], Any]

    def cpu_s(self) -> float:
        return sum(cpu_s(pid) for pid in self.pids)


@contextmanager
def single_server() -> Iterator[Servers]:
    with RedisServer() as server:
        assert server.proc is not None
        yield Servers(server.url, [server.proc.pid], lambda: connect(server.url))


@contextmanager
def cluster_servers() -> Iterator[Servers]:
    with LocalCluster(primaries=3, replicas=0) as cluster:
        pids = [n.proc.pid for n in cluster.nodes if n.proc is not None]
        assert len(pids) == 3
        yield Servers(cluster.url, pids, cluster.cluster_client)


def spread(client: redis.RedisCluster, streams: int) -> str:
    """How many of the streams each primary holds, e.g. '3,4,3'."""
    counts: dict[str, int] = {}
    for i in range(streams):
        node = client.get_node_from_key(f"b:{i}")  # type: ignore[no-untyped-call]
        counts[node.name] = counts.get(node.name, 0) + 1
    return ",".join(str(counts[k]) for k in sorted(counts))


def trickle(servers: Servers, streams: int, rate: float, seconds: float, seed: int = 7) -> int:
    """Add ~rate entries/s to random streams for ``seconds``; returns how many."""
    client = servers.client()
    rnd = random.Random(seed)
    start = time.monotonic()
    n = 0
    while (now := time.monotonic()) < start + seconds:
        due = int((now - start) * rate) + 1
        while n < due:
            client.execute_command("XADD", f"b:{rnd.randrange(streams)}", "*", "t", str(n))
            n += 1
        time.sleep(min(1 / rate, 0.01))
    client.close()
    return n


def measure(
    streams: int, rate: float, seconds: float, recorder: bool, tmp: Path, cluster: bool
) -> dict[str, Any]:
    with (cluster_servers() if cluster else single_server()) as servers:
        client = servers.client()
        pipe = client.pipeline(transaction=False)
        for i in range(streams):
            pipe.execute_command("XADD", f"b:{i}", "*", "n", "0")
        pipe.execute()
        where = spread(client, streams) if cluster else ""
        client.close()
        proc: subprocess.Popen[bytes] | None = None
        out = tmp / f"cost-{streams}.xtape"
        try:
            if recorder:
                xtape = shutil.which("xtape") or str(Path(sys.executable).parent / "xtape")
                proc = subprocess.Popen(
                    [xtape, "record", "b:*", "--url", servers.url, "-o", str(out), "--force", "-q"],
                    stderr=subprocess.PIPE,
                )
                deadline = time.monotonic() + 30
                while not (out.exists() and out.stat().st_size > 0) and time.monotonic() < deadline:
                    time.sleep(0.05)
                time.sleep(2.0 + streams / 5000)  # the first round checks every stream once
            server_before = servers.cpu_s()
            rec_before = cpu_s(proc.pid) if proc else 0.0
            t = time.monotonic()
            added = trickle(servers, streams, rate, seconds)
            elapsed = time.monotonic() - t
            result: dict[str, Any] = {
                "server": (servers.cpu_s() - server_before) / elapsed,
                "recorder": (cpu_s(proc.pid) - rec_before) / elapsed if proc else 0.0,
                "added": added,
                "p50": 0.0,
                "p99": 0.0,
                "spread": where,
            }
            if proc is not None:
                time.sleep(0.5)
                proc.send_signal(signal.SIGINT)
                _, err = proc.communicate(timeout=30)
                if proc.returncode != 0:
                    raise SystemExit(err.decode())
                lat = sorted(
                    e.capture_ns / 1e6 - id_ms(e.id)
                    for e in Recording(out).entries()
                    if e.fields[0][0] == b"t"
                )
                if len(lat) != added:
                    raise SystemExit(f"recorded {len(lat)} of {added} trickle entries")
                result["p50"] = statistics.median(lat)
                result["p99"] = lat[int(len(lat) * 0.99) - 1]
            return result
        finally:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, nargs="+", default=[10, 1000, 10000])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="a local Redis Cluster of 3 primaries (CPU summed over them) instead of one server",
    )
    args = parser.parse_args()
    try:
        run(args)
    except KeyboardInterrupt:  # the servers and the recorder are already stopped
        raise SystemExit(130) from None


def run(args: argparse.Namespace) -> None:
    what = "Redis Cluster CPU, summed over 3 primaries" if args.cluster else "Redis CPU"
    print(
        f"{what} (share of one core) for a trickle of {args.rate:.0f} entries/s over "
        f"{args.seconds:.0f} s, without and with `xtape record 'b:*'` attached\n"
    )
    print(
        f"{'streams':>8}{'without':>10}{'with':>10}{'added':>10}"
        f"{'recorder':>10}{'latency p50/p99 ms':>22}"
    )
    verdict = ""
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.streams:
            base = measure(n, args.rate, args.seconds, False, Path(tmp), args.cluster)
            rec = measure(n, args.rate, args.seconds, True, Path(tmp), args.cluster)
            extra = rec["server"] - base["server"]
            print(
                f"{n:>8,}{base['server']:>10.1%}{rec['server']:>10.1%}{extra:>10.1%}"
                f"{rec['recorder']:>10.1%}{rec['p50']:>14.1f}/{rec['p99']:.1f}"
                + (f"   streams per primary {rec['spread']}" if args.cluster else "")
            )
            if n == 10000:
                ok = extra <= TARGET
                where = " (summed over the 3 primaries)" if args.cluster else ""
                verdict = f"at 10,000 streams the recorder adds {extra:.1%} of a core{where}: " + (
                    f"PASS (<= {TARGET:.0%})" if ok else f"FAIL (> {TARGET:.0%})"
                )
    if verdict:
        print("\n" + verdict)


if __name__ == "__main__":
    main()
