"""Max-speed replay throughput: the whole ``xtape replay --max-speed`` command beside
``redis-benchmark -P 64`` XADD and a plain redis-py pipelined XADD loop, in one run.

    .venv/bin/python bench/replay.py [--entries 1000000] [--streams 4] [--repeat 1]
    .venv/bin/python bench/replay.py --quick          # 100,000 entries, a smoke check
    .venv/bin/python bench/replay.py --baseline /work/main   # also main's whole command

A recording of ``--entries`` realistic entries (3-5 fields, about 100 bytes of names
and values, spread over ``--streams`` streams and written in recorder-like rounds: one
capture time per round, so streams interleave by id on replay) is written with
``RecordingWriter`` into a temporary directory. Then, each on a fresh throwaway
``redis-server``:

* ``redis-benchmark -P 64 -n N XADD bench * ...`` with the fields of one recorded
  entry (its own figure of requests per second);
* a plain redis-py loop: ``pipeline(transaction=False)``, ``execute_command("XADD",
  stream, "*", f1, v1, ...)`` 1000 at a time, ``execute()``. The entries are read from
  the recording into memory first; only the publishing is timed;
* ``xtape replay FILE --max-speed --url URL --json -q`` as a subprocess: wall time of
  the whole command (start-up and reading the file included), and the rate of its
  own report (the replay loop only); with ``--baseline DIR``, the whole command of the
  xtape in checkout DIR too (``PYTHONPATH=DIR``), in the same rounds: a before/after;
* for reference, xtape's ``replay_through()`` in this process at max speed over the same
  entries pre-built in memory as ``Event`` objects (no file reading, no start-up):
  the publisher and replay loop alone, like-for-like with the redis-py loop; and the
  same again with each XADD packed by ``hiredis.pack_command`` (what xtape did before
  its compiled packer, ``xtape/_speedups.c``, and does where that was not compiled).

The xtape subprocesses run with Python's bytecode cache on (in the temporary
directory, filled by an untimed run first), as an installed xtape has its ``.pyc``
files; ``--as-is`` leaves the environment as it is (``PYTHONDONTWRITEBYTECODE=1``
would make every run compile the modules it imports).

Each ``redis-server`` runs on CPU 0 and every client (redis-benchmark, the loops in
this process, the xtape subprocesses) on the other CPUs, alike for every contender
(``--no-pin``: where the scheduler puts them). Unpinned, the server's own speed swings
by a third from run to run on a 2-CPU machine, which drowns the differences measured
here.

The in-memory data is built, collected and ``gc.freeze()``-d before anything is
timed, so a contender's garbage collections scan only its own garbage. Every target
is checked afterwards: the stream lengths add up to N. Each row also shows how busy
the machine was with *other* processes meanwhile (from ``/proc/stat``, minus this
script, its children and the server; 100% = every CPU): figures taken with that far
above 0 are not worth keeping.

* ``xtape replay FILE10 --max-speed --multiply 10`` over a recording of a tenth of the
  entries (the same N published, into ``STREAM:1`` ... ``STREAM:10``): the rate of its
  own report beside the plain command's (issue 21: >= 0.8x).

Targets (issue 12; issue 7 had 0.4x and 2x): ``--max-speed`` >= 0.8x redis-benchmark
and >= 3x the redis-py loop, judged on the command's own report (from its first entry
to the last reply: the replay's speed); and (issue 18) the whole command's wall time,
start-up and reading the file included, >= 0.95x redis-benchmark (its fixed start-up
alone: the last row).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from _load import OtherLoad, PinnedServer, pin_clients

from xtape.process import process_state
from xtape.recording import Recording, RecordingWriter
from xtape.replay import Pacing, RedisPublisher, ReplayOptions, redis_publisher, replay_through
from xtape.replay.resp import COMPILED, pack_xadds_hiredis
from xtape.timeline import Event, ScheduleFn

TARGET_VS_BENCHMARK = 0.8
TARGET_WHOLE_VS_BENCHMARK = 0.95
TARGET_VS_REDIS_PY = 3.0
#: ``--multiply 10 --max-speed`` entries/s against plain ``--max-speed`` (issue 21).
TARGET_MULTIPLY = 0.8
COPIES = 10
PIPELINE = 1000
ROUND = 1000  # entries per recorder-like round (one capture time)
BASE_MS = 1_700_000_000_000
SYMBOLS = [b"BTC-USD", b"ETH-USD", b"SOL-USD", b"ADA-EUR", b"XRP-GBP", b"DOT-USD"]
STREAM_NAMES = [b"orders", b"trades", b"quotes", b"fills", b"audit", b"risk", b"pnl", b"misc"]


# --------------------------------------------------------------------------- data


def make_fields(kind: int, rng: random.Random) -> list[bytes]:
    """Flat ``[f1, v1, ...]`` of one entry: four shapes of 3 to 5 fields, 85-115 bytes."""
    sym = rng.choice(SYMBOLS)
    price = b"%.2f" % (40_000 + rng.random() * 5_000)
    qty = b"%.8f" % (rng.random() * 2)
    if kind == 0:  # an order: 5 fields
        uid = b"%032x" % rng.getrandbits(128)
        side = b"buy" if rng.random() < 0.5 else b"sell"
        return [b"symbol", sym, b"side", side, b"price", price, b"qty", qty, b"client_id", uid]
    if kind == 1:  # a trade: 5 fields
        return [
            b"symbol", sym, b"price", price, b"qty", qty,
            b"trade_id", b"%020d" % rng.getrandbits(64),
            b"maker", b"%032x" % rng.getrandbits(128),
        ]  # fmt: skip
    if kind == 2:  # a quote: 4 fields
        return [
            b"symbol", sym,
            b"bid", b"%s x %s" % (price, qty),
            b"ask", b"%.2f x %.8f" % (40_000 + rng.random() * 5_000, rng.random() * 2),
            b"venue", b"venue-%02d-primary" % rng.randrange(40),
        ]  # fmt: skip
    # a fill: 3 fields
    return [
        b"order_id", b"%032x" % rng.getrandbits(128),
        b"status", b"filled",
        b"detail", b'{"px":%s,"qty":%s}' % (price, qty),
    ]  # fmt: skip


def write_recording(path: Path, n: int, streams: int, seed: int = 1) -> tuple[int, list[bytes]]:
    """Write ``n`` entries; returns (bytes of names and values, one order's fields)."""
    rng = random.Random(seed)
    names = STREAM_NAMES[:streams]
    payload = 0
    sample: list[bytes] = []
    capture_ns = BASE_MS * 1_000_000
    with RecordingWriter(path, source={"bench": "replay"}) as writer:
        k = 0
        while k < n:
            size = min(ROUND, n - k)
            per_stream: dict[int, list[list[object]]] = {}
            for j in range(k, k + size):
                s = rng.randrange(streams)
                fields = make_fields(s % 4, rng)
                payload += sum(map(len, fields))
                if not sample and s % 4 == 0:
                    sample = fields
                entry_id = b"%d-%d" % (BASE_MS + j // 100, j % 100)
                per_stream.setdefault(s, []).append([entry_id, fields])
            for s in sorted(per_stream):
                writer.write_entries(names[s], per_stream[s], capture_ns)
            capture_ns += 10_000_000
            k += size
    return payload, sample


# --------------------------------------------------------------------------- contenders


@dataclass
class Result:
    label: str
    seconds: float
    rate: float
    note: str = ""
    others: float | None = None


def stream_total(url: str, streams: list[bytes]) -> int:
    client = redis.Redis.from_url(url, protocol=2)
    try:
        return sum(int(client.xlen(s)) for s in streams)
    finally:
        client.close()


def check_total(url: str, streams: list[bytes], n: int, label: str, slack: int = 0) -> int:
    total = stream_total(url, streams)
    if not n <= total <= n + slack:
        raise SystemExit(f"{label}: the target streams hold {total} entries, expected {n}")
    return total


def run_redis_benchmark(n: int, fields: list[bytes]) -> Result:
    exe = shutil.which("redis-benchmark")
    if exe is None:
        raise SystemExit("redis-benchmark was not found on PATH (apt-get install redis-tools)")
    with PinnedServer() as server, OtherLoad(server) as load:
        cmd = [exe, "-p", str(server.port), "-n", str(n), "-P", "64", "-q", "XADD", "bench", "*"]
        start = time.perf_counter()
        out = subprocess.run(
            [*cmd, *(f.decode() for f in fields)], capture_output=True, text=True, check=True
        ).stdout
        seconds = time.perf_counter() - start
        found = re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))
        if not found:
            raise SystemExit(f"cannot read redis-benchmark's output: {out!r}")
        # Its clients send whole pipelines: N is rounded up to a multiple of 64.
        total = check_total(server.url, [b"bench"], n, "redis-benchmark", slack=50 * 64)
    return Result(
        "redis-benchmark -P 64 XADD",
        seconds,
        float(found[-1]),
        f"its own req/s; {total:,} added",
        load.percent,
    )


def load_entries(path: Path) -> list[tuple[bytes, list[bytes]]]:
    """The recording as ``(stream, flat fields)`` in replay order, in memory."""
    return [(stream, flat) for stream, _, raw in Recording(path).batches() for _, flat in raw]


class ListSource:
    """Pre-built events as a replay source (every pass the same list)."""

    name = "in-memory"

    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Iterator[Event]:
        return iter(self.events)


def run_redis_py(entries: list[tuple[bytes, list[bytes]]], streams: list[bytes]) -> Result:
    n = len(entries)
    with PinnedServer() as server:
        client = redis.Redis.from_url(server.url, protocol=2)
        with OtherLoad(server) as load:
            start = time.perf_counter()
            for i in range(0, n, PIPELINE):
                pipe = client.pipeline(transaction=False)
                for stream, flat in entries[i : i + PIPELINE]:
                    pipe.execute_command("XADD", stream, "*", *flat)
                pipe.execute()
            seconds = time.perf_counter() - start
        client.close()
        check_total(server.url, streams, n, "redis-py")
    label = f"redis-py pipeline ({PIPELINE}/execute)"
    return Result(label, seconds, n / seconds, "pre-built in memory", load.percent)


def run_in_process(events: list[Event], streams: list[bytes], *, hiredis: bool = False) -> Result:
    """``replay_through()`` over pre-built events; ``hiredis``: packing each XADD with
    ``hiredis.pack_command`` as before the compiled packer (the same run's reference)."""
    n = len(events)
    packer = redis_publisher.pack_xadds
    if hiredis:
        redis_publisher.pack_xadds = pack_xadds_hiredis
    try:
        with PinnedServer() as server, RedisPublisher(server.url) as publisher:
            with OtherLoad(server) as load:
                start = time.perf_counter()
                with process_state():  # as the CLI runs it: automatic gc paused
                    report = replay_through(
                        ListSource(events), publisher, ReplayOptions(Pacing.max_speed())
                    )
                seconds = time.perf_counter() - start
            if report.published != n or report.errors:
                raise SystemExit(f"replay_through(): {report.published} published, {report.errors} errors")
            check_total(server.url, streams, n, "replay_through()")
    finally:
        redis_publisher.pack_xadds = packer
    if hiredis:
        label = "(ref) replay_through() in-process, hiredis"
        return Result(label, seconds, n / seconds, "the same, packed by hiredis", load.percent)
    label = "(ref) xtape replay_through() in-process"
    return Result(label, seconds, n / seconds, "pre-built Events, no file", load.percent)


def xtape_exe() -> str:
    local = Path(sys.executable).parent / "xtape"
    return str(local) if local.exists() else (shutil.which("xtape") or "xtape")


#: Where the xtape subprocesses keep their bytecode (None: as the environment says).
BYTECODE: str | None = None


def xtape_env(tree: str | None, bytecode: str | None) -> dict[str, str]:
    """The environment that runs the xtape of checkout ``tree`` (None: this one), with
    Python's bytecode cache on in the folder ``bytecode`` (None: as the environment
    says). An installed xtape has its ``.pyc`` files; without them each run compiles the
    modules it imports (~0.04 s)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = tree
    if bytecode is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = bytecode
    return env


def tree_env(tree: str | None) -> dict[str, str]:
    """:func:`xtape_env` with this run's :data:`BYTECODE`."""
    return xtape_env(tree, BYTECODE)


def replay_command(
    path: Path, n: int, streams: list[bytes], *extra: str, tree: str | None = None, what: str = "xtape replay"
) -> tuple[float, dict[str, Any], float | None]:
    """``xtape replay PATH --max-speed EXTRA`` into a fresh server, checked (``n``
    published, no errors, ``streams`` holding ``n``): its wall time, its JSON report and
    how busy other processes were."""
    with PinnedServer() as server:
        cmd = [xtape_exe(), "replay", str(path), "--max-speed", *extra, "--url", server.url, "--json", "-q"]
        with OtherLoad(server) as load:
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=tree_env(tree))
            seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{what} failed ({proc.returncode}): {proc.stderr.strip()}")
        report = json.loads(proc.stdout)
        if report["published"] != n or report["errors"]:
            raise SystemExit(f"{what}: {report['published']} published, {report['errors']} errors")
        check_total(server.url, streams, n, what)
    return seconds, report, load.percent


def run_xtape(path: Path, n: int, streams: list[bytes], tree: str | None = None) -> tuple[Result, Result]:
    seconds, report, others = replay_command(path, n, streams, tree=tree)
    whole = Result(
        "xtape replay --max-speed (command)" if tree is None else "(baseline) the command",
        seconds,
        n / seconds,
        "wall, incl. start-up",
        others,
    )
    loop = Result(
        "xtape replay --max-speed (its report)",
        report["duration_s"],
        report["rate"],
        "replay loop only",
        others,
    )
    return whole, loop


def run_xtape_multiply(path: Path, n: int, streams: list[bytes]) -> Result:
    """``--multiply 10`` over a recording of ``n / 10`` entries: ``n`` published."""
    copies = [b"%s:%d" % (s, k) for s in streams for k in range(1, COPIES + 1)]
    _, report, others = replay_command(path, n, copies, "--multiply", str(COPIES), what="xtape replay --multiply")
    return Result(
        f"xtape replay --max-speed --multiply {COPIES}",
        report["duration_s"],
        report["rate"],
        f"its report; {n // COPIES:,} entries x {COPIES}",
        others,
    )


def startup_seconds(tmp: Path, tree: str | None = None) -> float:
    """Wall time of the whole command for a one-entry recording, best of 5: the fixed
    cost."""
    path = tmp / "one.xtape"
    if not path.exists():
        with RecordingWriter(path) as writer:
            writer.write_entries(b"one", [[b"1-1", [b"f", b"v"]]], 0)
    with PinnedServer() as server:
        cmd = [xtape_exe(), "replay", str(path), "--max-speed", "--url", server.url, "--json", "-q"]
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=tree_env(tree))
            best = min(best, time.perf_counter() - start)
        return best


# --------------------------------------------------------------------------- main


def median_result(results: list[Result]) -> Result:
    results = sorted(results, key=lambda r: r.rate)
    return results[len(results) // 2]


def verdict(ratio: float, target: float) -> str:
    return f"{ratio:5.2f}x {'PASS' if ratio >= target else 'FAIL'} (>= {target:g}x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument(
        "--streams",
        type=int,
        default=4,
        choices=range(1, 9),
        metavar="1-8",
        help="streams in the recording (default 4)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each contender, interleaved; the median is shown",
    )
    parser.add_argument("--quick", action="store_true", help="100,000 entries: a smoke check")
    parser.add_argument(
        "--baseline", metavar="DIR", help="also run the whole command of this checkout's xtape, in the same rounds"
    )
    parser.add_argument("--as-is", action="store_true", help="no bytecode cache unless the environment has one")
    parser.add_argument(
        "--no-pin", action="store_true", help="let the scheduler place servers and clients (default: pinned apart)"
    )
    args = parser.parse_args()
    n = 100_000 if args.quick else args.entries
    pinning = pin_clients(not args.no_pin)
    global BYTECODE
    streams = STREAM_NAMES[: args.streams]

    with tempfile.TemporaryDirectory(prefix="xtape-bench-") as tmp_name:
        tmp = Path(tmp_name)
        BYTECODE = None if args.as_is else str(tmp / "pycache")
        path = tmp / "bench.xtape"
        t = time.perf_counter()
        payload, sample = write_recording(path, n, args.streams)
        print(
            f"recording: {n:,} entries in {args.streams} stream(s), "
            f"{payload / n:.0f} bytes of names+values per entry on average, "
            f"{path.stat().st_size / 1e6:.1f} MB file, written in {time.perf_counter() - t:.1f} s"
        )
        print(
            f"redis-benchmark payload: {len(sample) // 2} fields, {sum(map(len, sample))} bytes "
            f"({' '.join(f.decode() for f in sample[::2])})"
        )
        path10 = tmp / "bench10.xtape"
        write_recording(path10, n // COPIES, args.streams)
        entries = load_entries(path)
        events = [Event(0, stream, tuple(flat)) for stream, flat in entries]
        gc.collect()
        gc.freeze()  # the data itself is not the contenders' garbage
        runs: dict[str, list[Result]] = {}
        base_runs: list[Result] = []
        for tree in (None, args.baseline) if args.baseline else (None,):
            startup_seconds(tmp, tree)  # (fills the bytecode cache before anything is timed)
        for _ in range(args.repeat):
            if args.baseline:
                base_runs.append(run_xtape(path, n, streams, tree=args.baseline)[0])
            for result in (
                run_redis_benchmark(n, sample),
                run_redis_py(entries, streams),
                *run_xtape(path, n, streams),
                run_in_process(events, streams),
                run_in_process(events, streams, hiredis=True),
                run_xtape_multiply(path10, n // COPIES * COPIES, streams),
            ):
                runs.setdefault(result.label, []).append(result)
        fixed = startup_seconds(tmp)
        base_fixed = startup_seconds(tmp, args.baseline) if args.baseline else None
    del entries, events
    gc.unfreeze()

    results = {label: median_result(rs) for label, rs in runs.items()}
    bench, py, whole, loop, ref, ref_hiredis, multiplied = (results[label] for label in runs)
    print(f"{machine()}; {pinning}")
    print()
    print(f"{'':40}{'seconds':>9}{'entries/s':>12}{'others':>8}  note")
    for r in results.values():
        others = "n/a" if r.others is None else f"{r.others:.0f}%"
        print(f"{r.label:40}{r.seconds:>9.2f}{r.rate:>12,.0f}{others:>8}  {r.note}")
    print(f"{'(xtape start-up: 1-entry recording)':40}{fixed:>9.2f}")
    base = median_result(base_runs) if base_runs else None
    if base is not None:
        others = "n/a" if base.others is None else f"{base.others:.0f}%"
        print(f"{base.label:40}{base.seconds:>9.2f}{base.rate:>12,.0f}{others:>8}  {args.baseline}")
        print(f"{'(baseline) start-up':40}{base_fixed:>9.2f}")
    print()
    print(f"{'':40}{'vs redis-benchmark':>24}{'vs redis-py loop':>24}")
    for r in (whole, loop, ref, ref_hiredis, *([base] if base is not None else [])):
        target = TARGET_WHOLE_VS_BENCHMARK if r in (whole, base) else TARGET_VS_BENCHMARK
        print(
            f"{r.label:40}{verdict(r.rate / bench.rate, target):>24}"
            f"{verdict(r.rate / py.rate, TARGET_VS_REDIS_PY):>24}"
        )
    ratio = multiplied.rate / loop.rate
    print(f"{multiplied.label:40}{'vs plain --max-speed':>24}  {verdict(ratio, TARGET_MULTIPLY)}")
    if args.repeat > 1:
        rounds = sorted(w.rate / b.rate for w, b in zip(runs[whole.label], runs[bench.label], strict=True))
        print(
            f"{'the whole command, round by round':40}{'':>7}min {rounds[0]:.2f}x  "
            f"median {rounds[len(rounds) // 2]:.2f}x  max {rounds[-1]:.2f}x  (each beside that round's redis-benchmark)"
        )
    if any(r.others is not None and r.others > 10 for r in results.values()):
        print("warning: other processes were busy during a run; its figures are disturbed")
    print()
    for r, what, target in (
        (loop, "--max-speed (the command's report)", TARGET_VS_BENCHMARK),
        (whole, "the whole command", TARGET_WHOLE_VS_BENCHMARK),
    ):
        ok = r.rate / bench.rate >= target and r.rate / py.rate >= TARGET_VS_REDIS_PY
        print(
            f"targets on {what}: {'PASS' if ok else 'FAIL'}"
            + (f"  (median of {args.repeat} runs each)" if args.repeat > 1 else "")
        )


def machine() -> str:
    server = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    version = re.search(r"v=(\S+)", server.stdout)
    return (
        f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"redis-server {version.group(1) if version else '?'}, redis-py {redis.__version__}, "
        f"XADD packer: {'compiled (xtape._speedups)' if COMPILED else 'hiredis (not compiled)'}"
    )


if __name__ == "__main__":
    main()
