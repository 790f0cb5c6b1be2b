"""What recording costs the source: Redis's CPU time for the same trickle of traffic
without and with ``xtape record`` attached, for 10, 1,000 and 10,000 streams.

For each stream count, a throwaway server gets N streams (one entry each); then, for
``--seconds``, a producer adds ~``--rate`` entries/s to random streams, once with no
recorder and once with ``xtape record 'b:*' -o FILE`` attached (started beforehand and
given time to check every stream once). The server's CPU time (utime + stime of its
process, from /proc) is measured over the trickle only. Also printed: the recorder's
own CPU and its end-to-end latency (capture time minus the entry id's millisecond).

    .venv/bin/python bench/record_source_cost.py [--streams 10 1000 10000] [--seconds 10]
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
from pathlib import Path

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


def trickle(url: str, streams: int, rate: float, seconds: float, seed: int = 7) -> int:
    """Add ~rate entries/s to random streams for ``seconds``; returns how many."""
    client = connect(url)
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


def measure(streams: int, rate: float, seconds: float, recorder: bool, tmp: Path) -> dict[str, float]:
    with RedisServer() as server:
        assert server.proc is not None
        client = connect(server.url)
        pipe = client.pipeline(transaction=False)
        for i in range(streams):
            pipe.execute_command("XADD", f"b:{i}", "*", "n", "0")
        pipe.execute()
        client.close()
        proc = None
        out = tmp / f"cost-{streams}.xtape"
        if recorder:
            xtape = shutil.which("xtape") or str(Path(sys.executable).parent / "xtape")
            proc = subprocess.Popen(
                [xtape, "record", "b:*", "--url", server.url, "-o", str(out), "--force", "-q"],
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 30
            while not (out.exists() and out.stat().st_size > 0) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(2.0 + streams / 5000)  # the first round checks every stream once
        server_before = cpu_s(server.proc.pid)
        rec_before = cpu_s(proc.pid) if proc else 0.0
        t = time.monotonic()
        added = trickle(server.url, streams, rate, seconds)
        elapsed = time.monotonic() - t
        result = {
            "server": (cpu_s(server.proc.pid) - server_before) / elapsed,
            "recorder": (cpu_s(proc.pid) - rec_before) / elapsed if proc else 0.0,
            "added": added,
            "p50": 0.0,
            "p99": 0.0,
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, nargs="+", default=[10, 1000, 10000])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(
        f"Redis CPU (share of one core) for a trickle of {args.rate:.0f} entries/s over "
        f"{args.seconds:.0f} s, without and with `xtape record 'b:*'` attached\n"
    )
    print(
        f"{'streams':>8}{'without':>10}{'with':>10}{'added':>10}"
        f"{'recorder':>10}{'latency p50/p99 ms':>22}"
    )
    verdict = ""
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.streams:
            base = measure(n, args.rate, args.seconds, False, Path(tmp))
            rec = measure(n, args.rate, args.seconds, True, Path(tmp))
            extra = rec["server"] - base["server"]
            print(
                f"{n:>8,}{base['server']:>10.1%}{rec['server']:>10.1%}{extra:>10.1%}"
                f"{rec['recorder']:>10.1%}{rec['p50']:>14.1f}/{rec['p99']:.1f}"
            )
            if n == 10000:
                ok = extra <= TARGET
                verdict = f"at 10,000 streams the recorder adds {extra:.1%} of a core: " + (
                    f"PASS (<= {TARGET:.0%})" if ok else f"FAIL (> {TARGET:.0%})"
                )
    if verdict:
        print("\n" + verdict)


if __name__ == "__main__":
    main()
