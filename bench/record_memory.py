"""Recorder memory stays flat: record N entries (default 5,000,000) in a subprocess and
sample its RSS.

    .venv/bin/python bench/record_memory.py [--entries 5000000]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
from record import fill, record_command

from xtape.server import RedisServer

STREAM = "mem"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=5_000_000)
    args = parser.parse_args()
    n = args.entries
    with RedisServer() as server, tempfile.TemporaryDirectory() as tmp:
        fill(server.port, n, STREAM)
        out = Path(tmp) / "mem.xtape"
        cmd = record_command(server.url, out, n, STREAM)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd)
        ps = psutil.Process(proc.pid)
        samples: list[tuple[float, int]] = []
        while proc.poll() is None:
            try:
                samples.append((time.perf_counter() - t0, ps.memory_info().rss))
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"recorder failed with exit code {proc.returncode}")
        # "start" = once the first entries are flowing (imports done), not the bare interpreter.
        mb = [rss / 2**20 for _, rss in samples]
        warm = mb[min(len(mb) - 1, max(1, len(mb) // 20))]
        print(
            f"recorded {n:,} entries in {elapsed:.1f}s ({n / elapsed:,.0f}/s), "
            f"file {out.stat().st_size / 2**20:.0f} MiB, {len(samples)} RSS samples"
        )
        print(
            f"RSS first sample {mb[0]:.1f} MiB | warm (5%) {warm:.1f} MiB | "
            f"peak {max(mb):.1f} MiB | last {mb[-1]:.1f} MiB"
        )
        for frac in (0.25, 0.5, 0.75):
            i = int(len(mb) * frac)
            print(f"  at {samples[i][0]:5.1f}s: {mb[i]:.1f} MiB")


if __name__ == "__main__":
    main()
