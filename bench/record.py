"""Recorder throughput against a raw hiredis XREAD drain of the same stream.

Fills a stream with N entries (redis-benchmark, pipelined) on a throwaway server, then
times the whole command ``xtape record STREAM --from start --count N -o FILE`` as a
subprocess, beside a raw hiredis ``XREAD COUNT`` drain on a plain socket (the fastest of
a few COUNTs), and prints the rates and ratios, with zstd chunks (the default) and
without compression (target: zstd >= 0.8x the drain).

    .venv/bin/python bench/record.py [--entries 1000000] [--raw-count 1000 2000 5000]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import hiredis

from xtape.recording import Recording
from xtape.server import RedisServer

STREAM = "bench"


def fill(port: int, n: int, stream: str = STREAM) -> None:
    """Add ``n`` entries to ``stream`` with redis-benchmark (pipelined)."""
    subprocess.run(
        [
            "redis-benchmark",
            "-p",
            str(port),
            "-n",
            str(n),
            "-P",
            "64",
            "-c",
            "4",
            "-q",
            "XADD",
            stream,
            "*",
            "field",
            "value-0123456789",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def pack(*args: bytes | str | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def raw_drain(port: int, n: int, count: int) -> float:
    """Seconds for a bare hiredis XREAD COUNT loop to read ``n`` entries."""
    sock = socket.create_connection(("127.0.0.1", port))
    reader = hiredis.Reader()
    cursor = b"0-0"
    got = 0
    start = time.perf_counter()
    while got < n:
        sock.sendall(pack("XREAD", "COUNT", count, "STREAMS", STREAM, cursor))
        reply = False
        while reply is False:
            reader.feed(sock.recv(1 << 20))
            reply = reader.gets()
        entries = reply[0][1]
        got += len(entries)
        cursor = entries[-1][0]
    elapsed = time.perf_counter() - start
    sock.close()
    return elapsed


def record_command(
    url: str, out: Path, n: int, stream: str = STREAM, *extra: str
) -> list[str]:
    """The command a user runs (the venv's ``xtape``)."""
    xtape = str(Path(sys.executable).parent / "xtape")
    if not Path(xtape).exists():
        xtape = shutil.which("xtape") or xtape
    args = ["--url", url, "--from", "start", "--count", str(n), "-o", str(out), "--quiet"]
    return [xtape, "record", stream, *args, *extra]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--raw-count",
        type=int,
        nargs="+",
        default=[1000, 2000, 5000],
        help="XREAD COUNTs for the raw drain; the fastest is the reference",
    )
    args = parser.parse_args()
    n = args.entries
    with RedisServer() as server, tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        fill(server.port, n)
        print(f"filled {n} entries in {time.perf_counter() - t:.1f}s")
        raw_s, raw_count = min((raw_drain(server.port, n, c), c) for c in args.raw_count)
        rows = []
        for label, extra in (("zstd (default)", ()), ("--compression none", ("--compression", "none"))):
            out = Path(tmp) / f"bench-{len(rows)}.xtape"
            cmd = record_command(server.url, out, n, STREAM, *extra)
            t = time.perf_counter()
            subprocess.run(cmd, check=True)
            rec_s = time.perf_counter() - t
            recorded = sum(1 for _ in Recording(out).entries())
            if recorded != n:
                raise SystemExit(f"recorded {recorded} entries, expected {n}")
            rows.append((label, rec_s, out.stat().st_size))
        raw_rate = n / raw_s
        print(f"command: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}")
        print(f"{'':32}{'entries':>10}{'seconds':>10}{'entries/s':>12}{'ratio':>7}{'file MB':>9}")
        print(f"{'raw hiredis XREAD':32}{n:>10}{raw_s:>10.2f}{raw_rate:>12,.0f}{1:>7.2f}{'':>9}  (COUNT {raw_count})")
        for label, rec_s, size in rows:
            rate = n / rec_s
            print(
                f"{'xtape record, ' + label:32}{n:>10}{rec_s:>10.2f}{rate:>12,.0f}"
                f"{rate / raw_rate:>7.2f}{size / 1e6:>9.1f}"
            )
        print("target: recording with zstd >= 0.8x the raw drain")

if __name__ == "__main__":
    main()
