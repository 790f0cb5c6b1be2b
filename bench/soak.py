"""Soak: a rolling recorder under steady traffic keeps flat memory, descriptors and CPU.

    .venv/bin/python bench/soak.py                    # 5,000 entries/s for 10 minutes
    .venv/bin/python bench/soak.py --minutes 2        # a shorter run
    .venv/bin/python bench/soak.py --rate 20000 --split-size 4MiB --keep-last 2m

A throwaway ``redis-server`` (streams capped with ``MAXLEN ~``, so the server stays
small) takes ``--rate`` realistic entries a second (bench/_traffic.py's shapes) from a
paced, pipelined producer thread, while ``xtape record 'soak.*' -o DIR/ --split-size
SIZE --keep-last D`` (the venv's, as a process) records them into rotating files. Every
minute the recorder's RSS, open file descriptors and CPU (per cent of one core over that
minute) are printed, with the entries produced and the files and bytes in the folder.

Flat is the target: after the first minute (start-up, first rotations, the first
``--keep-last`` deletions) no column grows beyond noise. A leak of descriptors (a file
not closed at rotation) or of memory per file or per entry shows as a column that climbs
minute after minute. At the end the recorder is stopped with SIGINT and the summary it
reports is printed.

``--in-process`` runs the recorder (the library's ``record``) on a thread of the bench
instead, and adds the interpreter's allocated blocks and tracked objects to each row:
flat blocks and objects beside a rising RSS mean memory the allocators keep (a
high-water mark), not objects xtape keeps.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import redis
from _traffic import event

from xtape.server import RedisServer

BATCH_S = 0.02  # the producer sends a pipeline every 20 ms


def produce(url: str, rate: int, stop: threading.Event, produced: list[int]) -> None:
    """``rate`` entries a second into ``soak.*`` streams, paced against the clock."""
    client = redis.Redis.from_url(url)
    rng = random.Random(7)
    t0 = time.monotonic()
    n = 0
    while not stop.is_set():
        due = int((time.monotonic() - t0) * rate)
        if due <= n:
            time.sleep(BATCH_S)
            continue
        pipe = client.pipeline(transaction=False)
        ms = int(time.time() * 1000)
        for k in range(n, due):
            stream, flat = event(rng, ms, k)
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            pipe.xadd(b"soak." + stream, fields, maxlen=100_000, approximate=True)  # type: ignore[arg-type]
        pipe.execute()
        n = due
        produced[0] = n
    client.close()


def xtape_exe() -> str:
    exe = Path(sys.executable).parent / "xtape"
    return str(exe) if exe.exists() else shutil.which("xtape") or str(exe)


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.iterdir() if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


class Subprocess:
    """The recorder as a user runs it: ``xtape record`` (the venv's), a process."""

    extra = ""

    def __init__(self, url: str, out: Path, split_size: str, keep_last: str) -> None:
        cmd = [
            xtape_exe(), "record", "soak.*", "--url", url, "-o", f"{out}/",
            "--split-size", split_size, "--keep-last", keep_last,
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.ps = psutil.Process(self.proc.pid)

    def check(self) -> None:
        if self.proc.poll() is not None:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise SystemExit(f"the recorder exited early ({self.proc.returncode}): {err}")

    def columns(self) -> str:
        return ""

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=60)
        return err.strip().splitlines()[-1] if err.strip() else "(no summary)"


class InProcess:
    """``--in-process``: the recorder (the library's ``record``) on a thread of this
    process, so that the interpreter's own figures can be shown beside RSS: blocks
    allocated by Python's allocator and objects the collector tracks. Flat blocks and
    objects with a rising RSS mean memory the allocators keep, not objects kept."""

    extra = f" {'py blocks':>10} {'objects':>8}"

    def __init__(self, url: str, out: Path, split_size: str, keep_last: str) -> None:
        from xtape.capture import RecordOptions, parse_start, record
        from xtape.units import parse_duration, parse_size

        out.mkdir()
        options = RecordOptions(
            patterns=["soak.*"], start=parse_start("now"), split_size=parse_size(split_size, option="--split-size"),
            keep_last_s=parse_duration(keep_last, option="--keep-last") / 1e9,
        )  # fmt: skip
        self.stop_event = threading.Event()
        self.stats: list[object] = []
        self.thread = threading.Thread(
            target=lambda: self.stats.append(record(url, f"{out}/", options, stop_event=self.stop_event, warn=print))
        )
        self.thread.start()
        self.ps = psutil.Process()

    def check(self) -> None:
        if not self.thread.is_alive():
            raise SystemExit("the recorder stopped early")

    def columns(self) -> str:
        import gc

        return f" {sys.getallocatedblocks():>10,} {len(gc.get_objects()):>8,}"

    def stop(self) -> str:
        self.stop_event.set()
        self.thread.join(60)
        if not self.stats:
            return "(no summary)"
        stats: Any = self.stats[0]
        return f"recorded {stats.entries:,} entries ({stats.bytes / 2**20:.1f} MiB, {stats.duration_s:.1f} s), {stats.gaps} gaps"


def produce_in_child(url: str, rate: int, stop: Any) -> None:
    produce(url, rate, stop, [0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=5000, help="entries a second")
    parser.add_argument("--split-size", default="2MiB")
    parser.add_argument("--keep-last", default="1m")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between rows")
    parser.add_argument("--in-process", action="store_true", help="the recorder on a thread here, with Python's allocated blocks and objects")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, RedisServer() as server:
        out = Path(tmp) / "soak"
        if args.in_process:  # (the producer in a process of its own: it would weigh here)
            import multiprocessing

            stop: Any = multiprocessing.Event()
            producer: Any = multiprocessing.Process(target=produce_in_child, args=(server.url, args.rate, stop))
            produced = None
        else:
            stop = threading.Event()
            produced = [0]
            producer = threading.Thread(target=produce, args=(server.url, args.rate, stop, produced))
        kind = InProcess if args.in_process else Subprocess
        recorder = kind(server.url, out, args.split_size, args.keep_last)
        rows: list[tuple[float, float, int, float]] = []
        try:
            time.sleep(1.0)  # the recorder connects before the traffic starts
            producer.start()
            print(
                f"xtape record at {args.rate:,} entries/s, --split-size {args.split_size} "
                f"--keep-last {args.keep_last}, {args.minutes:g} min" + (", in-process" if args.in_process else "")
            )
            print(f"{'minute':>6} {'RSS MiB':>8} {'fds':>4} {'CPU %':>6} {'produced':>10} {'files':>5} {'folder MiB':>10}{kind.extra}")
            ps = recorder.ps
            cpu0 = sum(ps.cpu_times()[:2])
            t0 = time.monotonic()
            minute = 0
            while minute < args.minutes * 60 / args.every:
                minute += 1
                time.sleep(max(t0 + minute * args.every - time.monotonic(), 0))
                recorder.check()
                cpu = sum(ps.cpu_times()[:2])
                rss = ps.memory_info().rss / 2**20
                fds = ps.num_fds()
                percent = 100 * (cpu - cpu0) / args.every
                cpu0 = cpu
                files, size = folder_size(out)
                rows.append((minute * args.every / 60, rss, fds, percent))
                shown = f"{produced[0]:>10,}" if produced is not None else f"{'-':>10}"
                print(
                    f"{minute * args.every / 60:>6.1f} {rss:>8.1f} {fds:>4} {percent:>6.1f} "
                    f"{shown} {files:>5} {size / 2**20:>10.1f}{recorder.columns()}",
                    flush=True,
                )
        finally:
            stop.set()
            if producer.is_alive():
                producer.join()
            summary = recorder.stop()
        print(f"recorder: {summary}")
        if len(rows) >= 3:
            later = rows[1:]
            print(
                f"after the first minute: RSS {min(r[1] for r in later):.1f}-{max(r[1] for r in later):.1f} MiB, "
                f"fds {min(r[2] for r in later)}-{max(r[2] for r in later)}, "
                f"CPU {min(r[3] for r in later):.1f}-{max(r[3] for r in later):.1f}%"
            )


if __name__ == "__main__":
    main()
