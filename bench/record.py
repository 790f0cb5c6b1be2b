"""Recorder throughput against a raw hiredis XREAD drain of the same streams.

Fills ``--streams`` streams with N realistic entries (the sample recording's shape: ten
kinds of event of 3 to 8 JSON-like fields, ids, prices, sizes, users, timestamps; about
90 bytes of names and values, varied, so the file compresses as real traffic does), on
a throwaway server, pipelined XADDs. Then, per repeat, times the whole command
``xtape record STREAMS --from start --count N -o FILE`` as a subprocess, with zstd
chunks (the default) and without compression, beside a raw hiredis ``XREAD COUNT``
drain of the same streams on a plain socket (the fastest of a few COUNTs), and a
``--count 1`` run (the command's fixed cost: start-up, connecting, closing); ``--metrics``
adds a zstd run with Prometheus metrics on (their cost). It prints
the medians, the ratio of each run to the drain of its repeat, the same less the fixed
cost, and how busy the machine was with *other* processes meanwhile (100% = every CPU):
figures taken with that far above 0 are not worth keeping. Target (issue 12): zstd >=
0.8x the drain. ``--baseline DIR`` adds the command of another checkout (its root, run
with this venv's packages) to the same runs: a before/after in the same minutes.

    .venv/bin/python bench/record.py [--entries 1000000] [--streams 1] [--repeat 3]
                                     [--raw-count 1000 2000 5000] [--baseline DIR] [--metrics]
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import hiredis
from _load import OtherLoad
from _traffic import event

from xtape.recording import Recording
from xtape.server import RedisServer

TARGET = 0.8
#: XADDs per pipelined write while filling.
FILL_PIPELINE = 5000

T0_MS = 1_795_608_817_716


def entry_fields(rng: random.Random, ms: int, n: int) -> list[bytes]:
    """Flat ``[f1, v1, ...]`` of one event (3 to 8 fields)."""
    return event(rng, ms, n)[1]


def stream_names(streams: int) -> list[bytes]:
    return [b"bench"] if streams == 1 else [b"bench:%d" % i for i in range(streams)]


def pack(*args: bytes | str | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def fill(port: int, n: int, streams: list[bytes], seed: int = 7) -> int:
    """Add ``n`` entries (``XADD stream * ...``, pipelined) spread over ``streams``;
    returns the bytes of names and values."""
    rng = random.Random(seed)
    sock = socket.create_connection(("127.0.0.1", port))
    reader = hiredis.Reader()
    ms = T0_MS
    payload = 0
    done = 0
    while done < n:
        size = min(FILL_PIPELINE, n - done)
        commands = []
        for k in range(done, done + size):
            ms += rng.choice((0, 1, 1, 2, 5, 20))
            flat = entry_fields(rng, ms, k)
            payload += sum(map(len, flat))
            commands.append(pack(b"XADD", rng.choice(streams), b"*", *flat))
        sock.sendall(b"".join(commands))
        got = 0
        while got < size:
            reader.feed(sock.recv(1 << 20))
            while got < size and (reply := reader.gets()) is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise SystemExit(f"XADD failed: {reply}")
                got += 1
        done += size
    sock.close()
    return payload


def raw_drain(port: int, n: int, streams: list[bytes], count: int) -> float:
    """Seconds for a bare hiredis ``XREAD COUNT`` loop (all streams in each call) to
    read ``n`` entries."""
    sock = socket.create_connection(("127.0.0.1", port))
    reader = hiredis.Reader()
    cursors = {name: b"0-0" for name in streams}
    got = 0
    start = time.perf_counter()
    while got < n:
        sock.sendall(pack("XREAD", "COUNT", count, "STREAMS", *cursors, *cursors.values()))
        reply = False
        while reply is False:
            reader.feed(sock.recv(1 << 20))
            reply = reader.gets()
        for name, entries in reply:
            got += len(entries)
            cursors[name] = entries[-1][0]
    elapsed = time.perf_counter() - start
    sock.close()
    return elapsed


def record_command(url: str, out: Path, n: int, pattern: str, *extra: str) -> list[str]:
    """The command a user runs (the venv's ``xtape``)."""
    xtape = str(Path(sys.executable).parent / "xtape")
    if not Path(xtape).exists():
        xtape = shutil.which("xtape") or xtape
    args = ["--url", url, "--from", "start", "--count", str(n), "-o", str(out), "--quiet"]
    return [xtape, "record", pattern, *args, *extra]


@dataclass
class Contender:
    label: str
    extra: tuple[str, ...] = ()
    #: Another checkout whose ``xtape`` runs instead of this one's (``--baseline``).
    checkout: str | None = None
    count: int | None = None
    seconds: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    others: list[float] = field(default_factory=list)


def run_command(c: Contender, url: str, out: Path, n: int, pattern: str) -> None:
    """Time one ``xtape record`` run of ``c`` and check what it recorded."""
    count = c.count or n
    cmd = record_command(url, out, count, pattern, *c.extra)
    if c.checkout:
        cmd[:1] = [sys.executable, "-c", BASELINE.format(c.checkout)]
    with OtherLoad(server_of_url[url]) as load:
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        c.seconds.append(time.perf_counter() - t)
    if load.percent is not None:
        c.others.append(load.percent)
    recorded = sum(1 for _ in Recording(out).entries())
    if recorded != count:
        raise SystemExit(f"{c.label}: recorded {recorded} entries, expected {count}")
    c.sizes.append(out.stat().st_size)
    out.unlink()


server_of_url: dict[str, RedisServer] = {}
#: Runs the CLI of another checkout (this venv's editable install set aside).
BASELINE = (
    "import sys; sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in "
    "getattr(f, '__module__', '')]; sys.path.insert(0, {!r}); from xtape.cli import main; main()"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians are printed")
    parser.add_argument(
        "--raw-count",
        type=int,
        nargs="+",
        default=[1000, 2000, 5000],
        help="XREAD COUNTs for the raw drain; the fastest is the reference",
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="also time the command of another checkout (its root; e.g. a git worktree of the "
        "previous commit), with this venv's packages, in the same runs",
    )
    parser.add_argument(
        "--metrics",
        action="store_true",
        help="also time zstd with --metrics 127.0.0.1:0 (Prometheus metrics on): their cost",
    )
    args = parser.parse_args()
    n = args.entries
    streams = stream_names(args.streams)
    pattern = "bench" if args.streams == 1 else "bench:*"
    contenders = [Contender("zstd (default)"), Contender("--compression none", ("--compression", "none"))]
    if args.metrics:
        contenders.append(Contender("zstd, --metrics", ("--metrics", "127.0.0.1:0")))
    if args.baseline:
        contenders.append(Contender("zstd, --baseline", checkout=str(Path(args.baseline).resolve())))
    startup = Contender("--count 1: start-up and close", count=1)
    with RedisServer() as server, tempfile.TemporaryDirectory() as tmp:
        server_of_url[server.url] = server
        t = time.perf_counter()
        payload = fill(server.port, n, streams)
        print(
            f"filled {n:,} entries ({payload / n:.0f} bytes of names and values each, 3-8 "
            f"fields) into {len(streams)} stream(s) in {time.perf_counter() - t:.1f}s"
        )
        raw: list[float] = []
        raw_counts: list[int] = []
        raw_others: list[float] = []
        out = Path(tmp) / "bench.xtape"
        for _ in range(args.repeat):
            with OtherLoad(server) as load:
                raw_s, raw_count = min((raw_drain(server.port, n, streams, c), c) for c in args.raw_count)
            raw.append(raw_s)
            raw_counts.append(raw_count)
            if load.percent is not None:
                raw_others.append(load.percent)
            for c in [*contenders, startup]:
                run_command(c, server.url, out, n, pattern)
    print(f"command: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(record_command('URL', out, n, pattern)))}")
    print(
        f"medians of {args.repeat} run(s), each ratio taken against the raw drain of the same repeat; "
        "'w/o start-up': less the --count 1 run of that repeat"
    )
    print(
        f"{'':40}{'seconds':>8}{'entries/s':>12}{'ratio':>7}{'w/o start-up':>14}{'file MB':>9}{'others':>8}"
    )
    med = statistics.median
    counts = ",".join(str(c) for c in sorted(set(raw_counts)))
    print(
        f"{'raw hiredis XREAD (COUNT ' + counts + ')':40}{med(raw):>8.2f}{n / med(raw):>12,.0f}"
        f"{1:>7.2f}{'':>23}{_percent(raw_others)}"
    )
    ratios: dict[str, float] = {}
    for c in contenders:
        ratio = med(r / s for r, s in zip(raw, c.seconds, strict=True))
        net = med(r / max(s - u, 1e-9) for r, s, u in zip(raw, c.seconds, startup.seconds, strict=True))
        ratios[c.label] = ratio
        print(
            f"{'xtape record, ' + c.label:40}{med(c.seconds):>8.2f}{n / med(c.seconds):>12,.0f}"
            f"{ratio:>7.2f}{net:>14.2f}{med(c.sizes) / 1e6:>9.1f}{_percent(c.others)}"
        )
    print(f"{'xtape record ' + startup.label:40}{med(startup.seconds):>8.2f}{'':>42}{_percent(startup.others)}")
    busy = max([*raw_others, *(o for c in contenders for o in c.others)], default=0.0)
    if busy > 10:
        print(f"warning: other processes kept the machine up to {busy:.0f}% busy: figures disturbed")
    zstd = ratios["zstd (default)"]
    verdict = "met" if zstd >= TARGET else "NOT met"
    print(f"target: recording with zstd >= {TARGET}x the raw drain: {verdict} ({zstd:.2f}x)")


def _percent(values: list[float]) -> str:
    return f"{statistics.median(values):>7.0f}%" if values else f"{'?':>8}"


if __name__ == "__main__":
    main()
