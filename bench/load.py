"""Scenario load: how long ``validate`` and the start of a replay take on a big scenario.

    .venv/bin/python bench/load.py [--events 200000] [--quick]

Writes a scenario of N events with ``xtape convert``'s own event writer (block style,
5 text fields per event, an id and a delay each), as YAML and as JSON, into a temporary
folder.
Then, each in a fresh process so that its peak RSS is its own:

* the reference: a bare walk over libyaml's parse events (``yaml.parse`` with the C
  loader) for YAML, ``json.loads`` for JSON: the floor any loader built on them pays;
* ``xtape validate FILE``;
* ``xtape replay FILE --dry-run`` until its first event is printed (then stopped).

Times are wall-clock from process start (interpreter start-up included, ~0.3 s), CPU
is user + system time of the process (what a busy machine does not inflate); peak RSS is
the process's maximum resident set (``wait4``). The budget (issue #6.2) is 10 s
and 400 MB for the YAML file, 3 s for JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from xtape.convert_yaml import EventWriter, header_text
from xtape.scenario import event_from_fields
from xtape.timeline import pair_fields

XTAPE = str(Path(sys.executable).with_name("xtape"))

YAML_WALK = """
import sys, yaml
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
n = 0
for _ in yaml.parse(open(sys.argv[1], encoding="utf-8").read(), Loader=loader):
    n += 1
"""

JSON_LOADS = """
import json, sys
json.loads(open(sys.argv[1], encoding="utf-8").read())
"""


def make_entries(count: int) -> list[tuple[str, list[bytes], int, bytes]]:
    """Entries as a recording holds them: stream, 5 fields (flat), delay in ms, id."""
    rng = random.Random(1)
    entries = []
    ms = 1_700_000_000_000
    for i in range(count):
        step = rng.randint(0, 5)
        ms += step
        stream = rng.choice(["orders", "prices", "trades", "liquidations"])
        flat = [
            b"orderId", f"ord_{i}".encode(),
            b"user", rng.choice([b"alice", b"bob", b"carol"]),
            b"price", f"{rng.uniform(1, 1e5):.2f}".encode(),
            b"size", str(rng.randint(1, 1000)).encode(),
            b"isLong", rng.choice([b"true", b"false"]),
        ]
        entries.append((stream, flat, step, f"{ms}-{i % 7}".encode()))
    return entries


def write_files(folder: Path, count: int) -> tuple[Path, Path]:
    """The scenario as ``xtape convert`` writes it (its own event writer), and as JSON."""
    entries = make_entries(count)
    yaml_path, json_path = folder / f"events-{count}.yaml", folder / f"events-{count}.json"
    writer = EventWriter()
    with yaml_path.open("w", encoding="utf-8") as out:
        out.write(header_text("big", "bench"))
        for stream, flat, delay, entry_id in entries:
            out.write(writer.text(stream, flat, delay=delay, id=entry_id))
    events = [
        event_from_fields(stream, pair_fields(flat), delay=delay, id=entry_id)
        for stream, flat, delay, entry_id in entries
    ]
    json_path.write_text(
        json.dumps({"name": "big", "description": "bench", "events": events}, indent=2), encoding="utf-8"
    )
    return yaml_path, json_path


#: Runs the measured command and reports on it. A child forked from this (big) bench
#: process would count the bench's own pages in its peak RSS, so a small fresh process
#: starts it instead.
TRAMPOLINE = """
import json, os, subprocess, sys, time
first_line = sys.argv[1] == "1"
argv = sys.argv[2:]
start = time.perf_counter()
proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
if first_line:
    proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.kill()
    proc.stdout.read()
err = proc.stderr.read().decode("utf-8", "replace")
_, status, usage = os.wait4(proc.pid, 0)
if not first_line:
    elapsed = time.perf_counter() - start
code = 0 if first_line else os.waitstatus_to_exitcode(status)
print(json.dumps([elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code, err.strip()[:300]]))
"""


def run(argv: list[str], *, until_first_line: bool = False) -> tuple[float, float, float, int]:
    """Run ``argv``: seconds to its end (or to its first stdout line), CPU seconds, peak RSS
    MB, exit code."""
    flag = "1" if until_first_line else "0"
    out = subprocess.run(
        [sys.executable, "-c", TRAMPOLINE, flag, *argv], capture_output=True, text=True, check=True
    ).stdout
    elapsed, cpu, rss, code, errors = json.loads(out)
    if code and errors:
        print(f"  ({' '.join(argv[-2:])} failed: {errors.splitlines()[0]})")
    return float(elapsed), float(cpu), float(rss), int(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="20,000 events")
    args = parser.parse_args()
    count = 20_000 if args.quick else args.events

    with tempfile.TemporaryDirectory(prefix="xtape-bench-load-") as tmp:
        yaml_path, json_path = write_files(Path(tmp), count)
        print(f"{count:,} events, block style as convert writes them (2 cores shared: see bench/README.md)")
        print(f"{'file':<22} {'size':>8}  {'what':<44} {'time':>8} {'CPU':>8} {'peak RSS':>9}")
        for path, reference, label in (
            (yaml_path, YAML_WALK, "reference: yaml.parse event walk (C parser)"),
            (json_path, JSON_LOADS, "reference: json.loads"),
        ):
            size = f"{path.stat().st_size / 1e6:.1f} MB"
            rows = [
                (label, run([sys.executable, "-c", reference, str(path)])),
                ("xtape validate", run([XTAPE, "validate", str(path)])),
                (
                    "xtape replay --dry-run (to the first event)",
                    run([XTAPE, "replay", str(path), "--dry-run"], until_first_line=True),
                ),
            ]
            for n, (what, (seconds, cpu, rss, code)) in enumerate(rows):
                shown = path.name if n == 0 else ""
                flag = "" if code == 0 else f"  exit {code}"
                print(
                    f"{shown:<22} {size if n == 0 else '':>8}  {what:<44} {seconds:>6.2f} s "
                    f"{cpu:>6.2f} s {rss:>6.0f} MB{flag}"
                )


if __name__ == "__main__":
    main()
