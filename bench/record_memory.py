"""Memory stays flat: peak RSS of record, replay --max-speed, info, cat, convert and plot at
several sizes (default 1,000,000 and 10,000,000 entries), and the time ``info`` and a
``replay --since`` into the last seconds take on the biggest.

    .venv/bin/python bench/record_memory.py [--entries 1000000 10000000]
    .venv/bin/python bench/record_memory.py --entries 200000        # a smoke check

For each size: a throwaway server is filled with N entries (redis-benchmark, pipelined),
``xtape record --from start --count N`` writes a v2 recording of them, the server is
flushed, and then each command runs as a subprocess whose RSS is sampled every 20 ms:
``info``, ``cat`` (to /dev/null), ``convert -o -`` (to /dev/null), ``replay
--max-speed`` into the same (flushed) server and ``plot -o FILE.png`` (the
``xtape[plot]`` extra). Flat memory means the peak at 10M is
about the peak at 1M. Needs about 1.5 GB of memory for the server at 10M.

At the biggest size (at every size with ``--info-only``) it also times ``info`` as a
whole process, exec to exit, with its sparklines (the summary and its chunk index alone: target < 0.5 s, PASS/FAIL printed),
beside ``xtape --version`` (the start of Python and of the command line) and
``summarize()`` in this process, each the best of 5 runs; and ``replay --since`` into
the last second (from the start of the process to the first entry in the server:
target < 1 s). ``--info-only`` skips the memory rows (record, then time ``info``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import redis
from record import fill, record_command

from xtape.recording import summarize
from xtape.server import RedisServer

STREAM = "mem"
#: ``info`` of the biggest recording, as a process (issue #10's "done when").
INFO_TARGET_S = 0.5
XTAPE = str(Path(sys.executable).parent / "xtape")


def peak_rss(cmd: list[str]) -> tuple[float, float]:
    """``(peak RSS MiB, seconds)`` of a command run to its end (output discarded)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[1:3])} failed with exit code {proc.returncode}")
    return peak / 2**20, elapsed


def time_to_first_entry(cmd: list[str], client: redis.Redis, key: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    try:
        while not client.exists(key):
            if proc.poll() is not None:
                raise SystemExit(f"replay ended without publishing (exit {proc.returncode})")
            time.sleep(0.002)
        return time.perf_counter() - t0
    finally:
        proc.wait()


def wall(cmd: list[str]) -> float:
    """Seconds from starting ``cmd`` to its exit (output discarded)."""
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def info_timing(n: int, out: Path) -> str:
    """``xtape info`` of the recording as a whole process beside ``xtape --version``
    and ``summarize()`` in this process (each the best of 5), PASS/FAIL against the
    target (< 0.5 s), and what the sparklines were drawn from."""
    info_s = bare_s = in_process_s = float("inf")
    for _ in range(5):  # interleaved, so a busy moment of the machine hits all three
        info_s = min(info_s, wall([XTAPE, "info", str(out)]))
        bare_s = min(bare_s, wall([XTAPE, "--version"]))
        t = time.perf_counter()
        summarize(out)
        in_process_s = min(in_process_s, time.perf_counter() - t)
    report = json.loads(
        subprocess.run([XTAPE, "info", str(out), "--json"], capture_output=True, check=True).stdout
    )
    spark = report.get("sparkline") or {}
    drawn = spark.get("from", "entries (a pass over them)") + (
        f", coarse: {len(spark['total'])} buckets" if spark.get("coarse") else ""
    )
    verdict = "PASS" if info_s < INFO_TARGET_S else "FAIL"
    return (
        f"{n:,} entries ({out.stat().st_size / 2**20:.0f} MiB, summary {report['summary']}): "
        f"xtape info {info_s:.3f} s as a process (sparklines from the {drawn}) | "
        f"xtape --version {bare_s:.3f} s | summarize() in-process {in_process_s * 1000:.1f} ms"
        f" | target info < {INFO_TARGET_S} s: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--info-only", action="store_true", help="only record and time info (no memory rows)"
    )
    args = parser.parse_args()
    table: list[tuple[int, int, dict[str, tuple[float, float]]]] = []
    timings: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.entries:
            with RedisServer() as server:
                fill(server.port, n, [STREAM.encode()])  # realistic payloads (bench/record.py)
                out = Path(tmp) / f"mem-{n}.xtape"
                rows: dict[str, tuple[float, float]] = {}
                rows["record"] = peak_rss(record_command(server.url, out, n, STREAM))
                client = redis.Redis.from_url(server.url)
                client.flushall()
                if args.info_only:  # every size: a smaller one is captured faster
                    timings.append(info_timing(n, out))
                    continue
                rows["info"] = peak_rss([XTAPE, "info", str(out)])
                rows["cat"] = peak_rss([XTAPE, "cat", str(out)])
                rows["convert"] = peak_rss([XTAPE, "convert", str(out), "-o", "-", "-q"])
                rows["replay --max-speed"] = peak_rss(
                    [XTAPE, "replay", str(out), "--max-speed", "-q", "--url", server.url]
                )
                picture = Path(tmp) / f"plot-{n}.png"
                rows["plot (PNG)"] = peak_rss([XTAPE, "plot", str(out), "-o", str(picture)])
                picture.unlink()
                if client.xlen(STREAM) != n:
                    raise SystemExit(f"replayed {client.xlen(STREAM)} entries, expected {n}")
                table.append((n, out.stat().st_size, rows))
                if n == max(args.entries):
                    client.flushall()
                    timings.append(info_timing(n, out))
                    span = json.loads(
                        subprocess.run(
                            [XTAPE, "info", str(out), "--json"], capture_output=True, check=True
                        ).stdout
                    )["duration_s"]
                    since = f"{max(span - 1.0, 0):.3f}s"
                    first = time_to_first_entry(
                        [XTAPE, "replay", str(out), "--since", since, "-q", "--url", server.url],
                        client,
                        STREAM,
                    )
                    timings.append(
                        f"{n:,} entries (ids span {span:.1f} s): replay --since {since} (the "
                        f"last second, 1x): first entry in the server after {first:.3f} s "
                        f"(target < 1 s)"
                    )
    if table:
        commands = list(table[0][2])
        print("peak RSS (MiB) and seconds per command, v2 recording written by xtape record")
        print(f"{'command':<22}" + "".join(f"{f'{n:,} entries':>24}" for n, _, _ in table))
        for command in commands:
            print(
                f"{command:<22}"
                + "".join(
                    f"{rows[command][0]:>13.1f} MiB {rows[command][1]:>6.1f} s"
                    for _, _, rows in table
                )
            )
        print(f"{'file size':<22}" + "".join(f"{size / 2**20:>17.1f} MiB   " for _, size, _ in table))
    for line in timings:
        print(line)


if __name__ == "__main__":
    main()
