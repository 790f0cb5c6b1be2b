"""``xtape export`` to Parquet: throughput, memory, and a question asked two ways.

    .venv/bin/python bench/export.py [--entries 1000000] [--streams 4] [--repeat 3]
    .venv/bin/python bench/export.py --quick        # 100,000 entries, a smoke check

Writes a recording of ``--entries`` realistic entries (the generator of
``bench/replay.py``: 3-5 fields, ~90 bytes of names and values, recorder-like rounds;
plain fields, so no codec decodes them) into a temporary directory, then:

* times ``xtape export FILE -o OUT.parquet -q`` as a subprocess (start-up included),
  best of ``--repeat``, with the command's peak RSS (``wait4``), and the same for a
  tenth of the entries: flat memory means about the same peak for 10x the entries;
* answers one question, "entries per stream per second", twice: with DuckDB over the
  Parquet file (in this process), and with ``xtape cat FILE | jq`` (the way without
  export), timing each and checking that the answers are the same.

Targets (issue 21): export >= 200,000 entries/s in flat memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from cat import size_args
from replay import write_recording

TARGET = 200_000
XTAPE = str(Path(sys.executable).with_name("xtape"))
#: jq's answer: {"STREAM SECOND": count} over cat's lines.
JQ_PROGRAM = (
    'reduce inputs as $e ({}; .[$e.stream + " " + ($e.id | split("-")[0] | tonumber / 1000 | floor | tostring)] += 1)'
)
SQL = "SELECT stream, ms // 1000 AS second, count(*) AS n FROM '{path}' GROUP BY ALL ORDER BY stream, second"


def export(path: Path, out: Path) -> tuple[float, float, int]:
    """Seconds (wall clock and CPU) and peak RSS (KiB) of ``xtape export``."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:  # (its "codec for stream" line, once per run)
        proc = subprocess.Popen([XTAPE, "export", str(path), "-o", str(out), "-q", "--force"], stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"xtape export exited {proc.returncode}: {err.read().decode(errors='replace')}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def best_export(path: Path, out: Path, repeat: int) -> tuple[float, float, int]:
    runs = [export(path, out) for _ in range(repeat)]
    return min(s for s, _, _ in runs), min(c for _, c, _ in runs), max(rss for _, _, rss in runs)


def with_duckdb(parquet: Path) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    rows = duckdb.connect().sql(SQL.format(path=parquet)).fetchall()
    seconds = time.perf_counter() - start
    return seconds, {f"{stream} {second}": n for stream, second, n in rows}


def with_cat_jq(path: Path) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    done = subprocess.run(
        f"{XTAPE} cat {path} | jq -n -c '{JQ_PROGRAM}'", shell=True, capture_output=True, check=True
    )
    seconds = time.perf_counter() - start
    return seconds, json.loads(done.stdout)


def main() -> None:
    args = size_args(__doc__.split("\n")[0])
    with tempfile.TemporaryDirectory(prefix="xtape-bench-export-") as tmp:
        d = Path(tmp)
        big, small = d / "big.xtape", d / "small.xtape"
        write_recording(big, args.entries, args.streams)
        write_recording(small, args.entries // 10, args.streams)
        print(
            f"recording: {args.entries:,} entries on {args.streams} streams, "
            f"{big.stat().st_size / 2**20:.1f} MiB; best of {args.repeat}"
        )
        seconds, cpu, rss = best_export(big, d / "big.parquet", args.repeat)
        small_seconds, small_cpu, small_rss = best_export(small, d / "small.parquet", args.repeat)
        rate = args.entries / seconds
        parquet_mib = (d / "big.parquet").stat().st_size / 2**20
        print(f"{'':40} {'seconds':>8} {'entries/s':>11} {'CPU s':>6} {'per CPU s':>10} {'peak RSS':>9}")
        for label, n, s, c, r in (
            (f"xtape export -o OUT.parquet ({args.entries // 10:,})", args.entries // 10, small_seconds, small_cpu, small_rss),
            (f"xtape export -o OUT.parquet ({args.entries:,})", args.entries, seconds, cpu, rss),
        ):
            print(f"{label:40} {s:8.2f} {n / s:11,.0f} {c:6.2f} {n / c:10,.0f} {r / 1024:6.0f} MB")
        print(f"Parquet file: {parquet_mib:.1f} MiB")
        duck_s, duck = with_duckdb(d / "big.parquet")
        jq_s, jq = with_cat_jq(big)
        if duck != jq:
            raise SystemExit("DuckDB and cat | jq disagree on entries per stream per second")
        print(f'\n"entries per stream per second" ({len(duck)} rows, the same both ways):')
        print(f"  DuckDB over the Parquet file     {duck_s:8.2f} s   ({SQL.format(path='OUT.parquet')})")
        print(f"  xtape cat FILE | jq              {jq_s:8.2f} s   ({jq_s / duck_s:,.0f}x DuckDB's time)")
        print(f"  export + DuckDB, the first time  {seconds + duck_s:8.2f} s")
    flat = rss < 1.5 * small_rss
    verdict = "PASS" if rate >= TARGET and flat else "FAIL"
    load = os.getloadavg()[0]
    print(
        f"\nexport: {rate:,.0f} entries/s ({args.entries / cpu:,.0f} per CPU second; load average {load:.1f} "
        f"on {os.cpu_count()} cores), target >= {TARGET:,}; peak RSS {rss / 1024:.0f} MB for "
        f"{args.entries:,} entries vs {small_rss / 1024:.0f} MB for a tenth ({'flat' if flat else 'NOT flat'}): {verdict}"
    )


if __name__ == "__main__":
    main()
