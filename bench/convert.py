"""``xtape convert`` at size: entries/s and peak RSS of the command, beside references
measured in the same run.

    .venv/bin/python bench/convert.py [--entries 1000000] [--streams 4] [--quick]

Writes a recording of N realistic entries with ``RecordingWriter`` (the shapes of
``bench/replay.py``: orders, trades, quotes and fills of 3-5 fields, in recorder-like
rounds), then runs, each as its own process (peak RSS from ``wait4``):

* ``xtape convert FILE -o OUT.yaml`` on the whole recording, and on its first tenth
  (``--limit``), to show that memory does not grow with the size;
* (ref) a bare read of the recording: ``Recording.events()`` iterated, nothing written;
  the floor of any conversion;
* (ref) the same entries written as JSON lines (``json.dumps`` per entry, C encoder), the
  cost of a fast serializer on this data;
* (ref) the converter's former way, the whole document dumped at once by PyYAML
  (``dump_scenario_yaml``), on 1% of the entries (it does ~5,000/s and holds
  everything: 241 s and 3.1 GB for 1,000,000 entries on the issue's machine).

Target (issue): >= 50,000 entries/s for the command, with flat memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _load import cpu_ticks
from replay import write_recording

TARGET_RATE = 50_000

READ = """
import sys
from xtape.recording import Recording
n = 0
for _ in Recording(sys.argv[1]).events():
    n += 1
print(n)
"""

JSON_LINES = """
import json, sys
from xtape.recording import Recording
from xtape.timeline import fields_to_json
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for e in Recording(sys.argv[1]).events():
        out.write(json.dumps({"stream": e.stream.decode(), "id": e.id.decode(),
                              "fields": fields_to_json(e.fields)}, ensure_ascii=False))
        out.write("\\n")
"""

WHOLE_DOCUMENT = """
import sys
from itertools import islice
from xtape.recording import Recording
from xtape.scenario import dump_scenario_yaml, event_from_fields
n = int(sys.argv[3])
events = [event_from_fields(e.stream, e.fields, delay=1, id=e.id)
          for e in islice(Recording(sys.argv[1]).events(), n)]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write(dump_scenario_yaml({"name": "x", "description": "x", "events": events}))
"""


@dataclass
class Row:
    label: str
    entries: int
    seconds: float
    rss_mib: float
    others: float | None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds > 0 else 0.0


def run(label: str, entries: int, cmd: list[str], note: str = "") -> Row:
    """Run ``cmd``; its wall time, its own peak RSS, and how busy the rest of the machine
    was meanwhile (percent of all CPUs, from /proc/stat minus this process tree)."""
    before = cpu_ticks()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{label}: exit code {proc.returncode}: {' '.join(cmd)}")
    after = cpu_ticks()
    others = None
    if before and after and after[1] > before[1]:
        ours = (usage.ru_utime + usage.ru_stime) * os.sysconf("SC_CLK_TCK")
        busy = (after[0] - before[0]) - ours
        others = max(0.0, 100.0 * busy / (after[1] - before[1]))
    return Row(label, entries, seconds, usage.ru_maxrss / 1024, others, note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="100,000 entries")
    args = parser.parse_args()
    n = 100_000 if args.quick else args.entries
    py = sys.executable
    xtape = str(Path(py).with_name("xtape"))
    with tempfile.TemporaryDirectory() as tmp:
        rec = Path(tmp) / "bench.xtape"
        t0 = time.perf_counter()
        write_recording(rec, n, args.streams)
        print(
            f"recording: {n:,} entries on {args.streams} streams, "
            f"{rec.stat().st_size / 2**20:.0f} MiB, written in {time.perf_counter() - t0:.1f} s"
        )
        out = Path(tmp) / "out.yaml"
        tenth = max(n // 10, 1)
        small = max(n // 100, 1)
        rows = [
            run("xtape convert (command)", n, [xtape, "convert", str(rec), "-o", str(out), "--force", "-q"]),
        ]
        size = out.stat().st_size
        rows[0].note = f"{size / 2**20:.0f} MiB of YAML"
        rows += [
            run(
                "xtape convert --limit N/10 (command)",
                tenth,
                [xtape, "convert", str(rec), "-o", str(out), "--force", "-q", "--limit", str(tenth)],
                "memory vs size",
            ),
            run("(ref) bare read of the recording", n, [py, "-c", READ, str(rec)], "nothing written"),
            run("(ref) JSON lines, json.dumps", n, [py, "-c", JSON_LINES, str(rec), str(out)]),
            run(
                "(ref) former: whole-document PyYAML",
                small,
                [py, "-c", WHOLE_DOCUMENT, str(rec), str(out), str(small)],
                f"{small:,} entries only",
            ),
        ]
    print()
    print(f"{'':40} {'entries':>10} {'seconds':>8} {'entries/s':>11} {'peak RSS':>10} {'others':>7}  note")
    for row in rows:
        others = "?" if row.others is None else f"{row.others:.0f}%"
        print(
            f"{row.label:40} {row.entries:>10,} {row.seconds:>8.2f} {row.rate:>11,.0f} "
            f"{row.rss_mib:>7.0f} MiB {others:>7}  {row.note}"
        )
        if row.others is not None and row.others > 10:
            print(f"{'':40} warning: other processes kept {row.others:.0f}% of the CPUs busy")
    command = rows[0]
    verdict = "PASS" if command.rate >= TARGET_RATE else "FAIL"
    print()
    print(
        f"xtape convert: {command.rate:,.0f} entries/s {verdict} (>= {TARGET_RATE:,}); "
        f"{command.rate / rows[2].rate:.2f}x the bare read, {command.rate / rows[3].rate:.2f}x "
        f"JSON lines, {command.rate / rows[4].rate:.0f}x the former whole-document dump; "
        f"peak RSS {command.rss_mib:.0f} MiB for {n:,} entries vs {rows[1].rss_mib:.0f} MiB "
        f"for {tenth:,}"
    )


if __name__ == "__main__":
    main()
