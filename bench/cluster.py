"""Cluster against single-server throughput, replay and record, in the same run.

Writes a recording of N entries over S streams (spread over all slots), then times the
commands a user runs, as subprocesses:

* ``xtape replay FILE --max-speed`` into one server and into a local cluster of 3
  primaries (``--replicas`` each, default 0: on a 2-core machine replicas only take
  cores from the primaries);
* ``xtape record 'b:*' --from start --count N`` from each of them (what was replayed).

alternating, best of ``--rounds`` each (the machine is shared: its load changes), and
prints both rates and the ratios (targets: cluster replay >= 0.7x and cluster
record >= 0.6x of the single-server rate). Every run checks the counts.

    .venv/bin/python bench/cluster.py [--entries 1000000] [--streams 60] [--replicas 0]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import redis
from support.cluster import LocalCluster

from xtape.recording import Recording, RecordingWriter
from xtape.server import RedisServer


def xtape() -> str:
    return shutil.which("xtape") or str(Path(sys.executable).parent / "xtape")


def make_recording(path: Path, n: int, streams: int) -> None:
    """``n`` entries, round-robin over ``streams`` streams, 2 fields each (~40 bytes)."""
    base = 1_700_000_000_000
    with RecordingWriter(path, source={"url": "bench"}) as writer:
        batch = 1000
        for start in range(0, n, batch):
            per: dict[bytes, list[list[object]]] = {}
            for k in range(start, min(start + batch, n)):
                name = b"b:%d" % (k % streams)
                per.setdefault(name, []).append(
                    [b"%d-%d" % (base + k // streams, 0), [b"field", b"value-0123456789", b"n", b"%d" % k]]
                )
            for name, entries in per.items():
                writer.write_entries(name, entries, (base + start // streams) * 1_000_000)  # type: ignore[arg-type]


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=60)
    parser.add_argument("--replicas", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs each")
    args = parser.parse_args()
    n = args.entries
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.xtape"
        make_recording(source, n, args.streams)
        rows: dict[str, dict[str, float]] = {}
        with RedisServer() as single, LocalCluster(3, args.replicas) as cluster:
            targets = (
                ("single server", single.url, [single]),
                ("cluster (3 primaries)", cluster.url, cluster.primaries_now()),
            )
            # alternate the two (the machine's load changes): best of --rounds each
            for _ in range(args.rounds):
                for label, url, nodes in targets:
                    for node in nodes:
                        with redis.Redis(port=node.port) as client:
                            client.flushall()
                    replay_s = timed([xtape(), "replay", str(source), "--url", url, "--max-speed", "-q"])
                    out = Path(tmp) / f"{label[:6]}.xtape"
                    record_s = timed(
                        [
                            xtape(), "record", "b:*", "--url", url, "--from", "start",
                            "--count", str(n), "-o", str(out), "-q", "--force",
                        ]
                    )
                    recorded = sum(1 for _ in Recording(out).entries())
                    if recorded != n:
                        raise SystemExit(f"{label}: recorded {recorded} entries, expected {n}")
                    row = rows.setdefault(label, {"replay": 0.0, "record": 0.0})
                    row["replay"] = max(row["replay"], n / replay_s)
                    row["record"] = max(row["record"], n / record_s)
        print(f"{n:,} entries over {args.streams} streams; cluster: 3 primaries, "
              f"{args.replicas} replica(s) each; every process on this machine")
        print(f"{'':24}{'replay/s':>12}{'record/s':>12}")
        for label, row in rows.items():
            print(f"{label:24}{row['replay']:>12,.0f}{row['record']:>12,.0f}")
        one, many = rows["single server"], rows["cluster (3 primaries)"]
        print(
            f"ratio cluster/single: replay {many['replay'] / one['replay']:.2f} (target >= 0.7), "
            f"record {many['record'] / one['record']:.2f} (target >= 0.6)"
        )


if __name__ == "__main__":
    main()
