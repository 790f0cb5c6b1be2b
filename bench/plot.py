"""``xtape plot`` and ``info``'s sparklines run in flat memory: peak RSS and time at two
recording sizes, beside reference runs in the same process (the bare summary pass, and
the interpreter with matplotlib imported and nothing read).

    .venv/bin/python bench/plot.py [--entries 1000000] [--quick]

Each command runs in its own subprocess; its peak RSS is the kernel's ``ru_maxrss``
for that child (``os.wait4``), so nothing is sampled and nothing is missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xtape.recording import RecordingWriter

XTAPE = str(Path(sys.executable).parent / "xtape")
STREAMS = [b"orders:eu", b"orders:us", b"prices.btc", b"prices.eth"]
T0 = 1_764_000_000_000
ROUND = 1000  # entries per recorder round, over the streams


def _fields(i: int) -> list[bytes]:
    return [b"orderId", b"o%d" % i, b"price", b"101.5", b"qty", b"3"]


def write_recording(path: Path, n: int) -> None:
    """``n`` entries of 3-4 fields over four streams, 1,000 per 50 ms recorder round
    (a million entries span 50 s), with a marker and a gap, so every part of the
    picture is drawn."""
    done = 0
    rnd = 0
    per = ROUND // len(STREAMS)
    with RecordingWriter(path) as w:
        while done < n:
            ms = T0 + rnd * 50
            for s, stream in enumerate(STREAMS):
                k = min(per, n - done)
                if k <= 0:
                    break
                fields = (3 if s % 2 else 2) * 2
                entries = [
                    [f"{ms}-{j}".encode(), [*_fields(done + j)[:fields], b"side", b"buy"]]
                    for j in range(k)
                ]
                w.write_entries(stream, entries, (ms + 3) * 1_000_000)
                done += k
            if rnd == 100:
                w.write_marker("reconnect", "reconnected after 1.0s: bench", (ms + 3) * 1_000_000)
                w.write_gap(
                    STREAMS[0],
                    f"{ms - 20}-0".encode(),
                    f"{ms}-0".encode(),
                    10,
                    (ms + 3) * 1_000_000,
                )
            rnd += 1


def run(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; its wall time (s) and peak RSS (MiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 entries")
    args = parser.parse_args()
    big = 100_000 if args.quick else args.entries
    sizes = [big // 10, big]
    with tempfile.TemporaryDirectory() as tmp:
        rows: list[tuple[str, list[tuple[float, float]]]] = []
        files = []
        for n in sizes:
            path = Path(tmp) / f"r{n}.xtape"
            t0 = time.perf_counter()
            write_recording(path, n)
            print(
                f"wrote {n:,} entries ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f} s"
            )
            files.append(path)
        commands = {
            "(ref) python + matplotlib imported, nothing read": lambda p: [
                sys.executable,
                "-c",
                "import matplotlib.figure, xtape.cli",
            ],
            "(ref) xtape info --no-sparkline (summary pass)": lambda p: [
                XTAPE,
                "info",
                "--no-sparkline",
                str(p),
            ],
            "xtape info (summary + sparklines)": lambda p: [XTAPE, "info", str(p)],
            "xtape plot -o x.png": lambda p: [
                XTAPE,
                "plot",
                str(p),
                "-o",
                str(Path(tmp) / "x.png"),
            ],
            "xtape plot -o x.html": lambda p: [
                XTAPE,
                "plot",
                str(p),
                "-o",
                str(Path(tmp) / "x.html"),
            ],
        }
        for label, make in commands.items():
            rows.append((label, [run(make(p)) for p in files]))
    head = "".join(f"{f'{n:,} entries':>26}" for n in sizes)
    print(f"\n{'command':<52}{head}")
    print(f"{'':<52}" + "".join(f"{'time':>12}{'peak RSS':>14}" for _ in sizes))
    for label, results in rows:
        cells = "".join(f"{t:>11.2f}s{rss:>10.1f} MiB" for t, rss in results)
        print(f"{label:<52}{cells}")


if __name__ == "__main__":
    main()
