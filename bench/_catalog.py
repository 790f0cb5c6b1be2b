"""Shared by bench/validate.py and bench/infer.py: a recording, child processes that time
themselves beside a bare read, and the table."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _load import cpu_ticks
from replay import write_recording

#: Run in a child: a bare read of the recording (the floor), then the work, each timed
#: in that one process; prints JSON. argv: work recording [catalog].
CHILD = """
import json, sys, time
from xtape.recording import Recording
work, path = sys.argv[1], sys.argv[2]
def bare():
    n = 0
    for _stream, _capture, raw in Recording(path, interleave=False).batches():
        for _entry in raw:
            n += 1
    return n
out = {}
clock = time.perf_counter
cpu = time.process_time
if work != "read-only":
    t0, c0 = clock(), cpu(); n = bare(); out["read_s"] = clock() - t0; out["read_cpu"] = cpu() - c0
if work == "validate":
    from xtape.catalog import load_catalog, validate_recording
    catalog = load_catalog(sys.argv[3])
    t0, c0 = clock(), cpu(); result = validate_recording(path, catalog)
    out["work_s"] = clock() - t0; out["work_cpu"] = cpu() - c0; out["entries"] = result.entries
    out["invalid"] = result.invalid
elif work == "infer":
    from xtape.catalog import infer_catalog
    t0, c0 = clock(), cpu(); inferred = infer_catalog(path)
    text = inferred.catalog_yaml()
    out["work_s"] = clock() - t0; out["work_cpu"] = cpu() - c0; out["entries"] = inferred.entries
elif work == "read-only":
    t0, c0 = clock(), cpu(); n = bare(); out["work_s"] = clock() - t0; out["work_cpu"] = cpu() - c0; out["entries"] = n
print(json.dumps(out))
"""


@dataclass
class Row:
    label: str
    entries: int
    seconds: float
    cpu: float
    rss_mib: float
    others: float | None
    note: str = ""

    @property
    def rate(self) -> float:
        """Entries per wall-clock second."""
        return self.entries / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_rate(self) -> float:
        """Entries per CPU second of the process (what a busy machine does not inflate)."""
        return self.entries / self.cpu if self.cpu > 0 else 0.0


def size_args(doc: str) -> tuple[int, int]:
    """``(entries, streams)`` from the command line of a catalog bench (``--entries``,
    ``--streams``, ``--quick`` for 100,000 entries)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="100,000 entries")
    args = parser.parse_args()
    return (100_000 if args.quick else args.entries), args.streams


def make_recordings(folder: Path, n: int, streams: int) -> tuple[Path, Path]:
    """The recording of ``n`` entries and one of a tenth of them (for memory vs size)."""
    big = folder / "bench.xtape"
    small = folder / "tenth.xtape"
    t0 = time.perf_counter()
    write_recording(big, n, streams)
    write_recording(small, max(n // 10, 1), streams)
    print(
        f"recording: {n:,} entries on {streams} streams, {big.stat().st_size / 2**20:.0f} MiB "
        f"(and {max(n // 10, 1):,} for the memory check), written in {time.perf_counter() - t0:.1f} s"
    )
    return big, small


def run(cmd: list[str]) -> tuple[dict[str, float], float, float | None, float, float]:
    """Run a child; its JSON output, its peak RSS (MiB), how busy other processes kept the
    machine (percent of all CPUs), its wall time and its CPU time (user + system)."""
    before = cpu_ticks()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    after = cpu_ticks()
    others = None
    if before and after and after[1] > before[1]:
        ours = (usage.ru_utime + usage.ru_stime) * os.sysconf("SC_CLK_TCK")
        others = max(0.0, 100.0 * ((after[0] - before[0]) - ours) / (after[1] - before[1]))
    data: dict[str, float] = {}
    text = output.decode().strip()
    if text.startswith("{"):
        data = json.loads(text.splitlines()[-1])
    elif code not in (0, 1):
        raise SystemExit(f"exit code {code}: {' '.join(cmd)}")
    return data, usage.ru_maxrss / 1024, others, wall, usage.ru_utime + usage.ru_stime


def child(work: str, recording: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", CHILD, work, str(recording), *extra]


def table(rows: list[Row]) -> None:
    print()
    print(
        f"{'':44} {'entries':>10} {'seconds':>8} {'entries/s':>11} {'CPU s':>7} {'per CPU s':>11} "
        f"{'peak RSS':>10} {'others':>7}  note"
    )
    for row in rows:
        others = "?" if row.others is None else f"{row.others:.0f}%"
        print(
            f"{row.label:44} {row.entries:>10,} {row.seconds:>8.2f} {row.rate:>11,.0f} {row.cpu:>7.2f} "
            f"{row.cpu_rate:>11,.0f} {row.rss_mib:>7.0f} MiB {others:>7}  {row.note}"
        )
        if row.others is not None and row.others > 10:
            print(f"{'':44} warning: other processes kept {row.others:.0f}% of the CPUs busy")
