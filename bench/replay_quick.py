"""Quick max-speed throughput check: xtape's replayer vs a plain redis-py pipeline.

    .venv/bin/python bench/replay_quick.py [N]

Prints entries/s for: `redis-benchmark -P 64 XADD` (if installed), a redis-py
pipelined XADD loop (flat arguments, 1000 per pipeline), and `replay()` at max speed
through RedisPublisher, each on a fresh throwaway redis-server.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import redis

from xtape.replay import Pacing, RedisPublisher, ReplayOptions, replay
from xtape.server import RedisServer
from xtape.timeline import Event, ScheduleFn

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
FIELDS = ((b"symbol", b"BTC-USD"), (b"price", b"43123.25"), (b"qty", b"0.015"))


class ListSource:
    name = "bench"

    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Iterator[Event]:
        return iter(self.events)


def redis_benchmark(server: RedisServer) -> float | None:
    exe = shutil.which("redis-benchmark")
    if exe is None:
        return None
    out = subprocess.run(
        [
            exe,
            "-p",
            str(server.port),
            "-P",
            "64",
            "-n",
            str(N),
            "-q",
            "XADD",
            "s",
            "*",
            "symbol",
            "BTC-USD",
            "price",
            "43123.25",
            "qty",
            "0.015",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.findall(r"([\d.]+) requests per second", out)
    return float(found[-1]) if found else None


def redis_py_loop(server: RedisServer) -> float:
    client = redis.Redis.from_url(server.url, protocol=2)
    flat = [part for pair in FIELDS for part in pair]
    start = time.perf_counter()
    for chunk in range(0, N, 1000):
        pipe = client.pipeline(transaction=False)
        for _ in range(min(1000, N - chunk)):
            pipe.execute_command("XADD", b"s", b"*", *flat)
        pipe.execute()
    rate = N / (time.perf_counter() - start)
    assert client.xlen("s") == N
    client.close()
    return rate


def xtape_replay(server: RedisServer) -> float:
    events = [Event(i, b"s", FIELDS, None) for i in range(N)]
    with RedisPublisher(server.url) as publisher:
        report = replay(ListSource(events), publisher, ReplayOptions(pacing=Pacing.max_speed()))
    assert report.published == N and report.errors == 0, report
    client = redis.Redis.from_url(server.url, protocol=2)
    assert client.xlen("s") == N
    client.close()
    return report.rate


def main() -> None:
    for label, bench in (
        ("redis-benchmark -P 64 XADD", redis_benchmark),
        ("redis-py pipeline (1000/round trip)", redis_py_loop),
        ("xtape replay --max-speed", xtape_replay),
    ):
        with RedisServer() as server:
            rate = bench(server)
        print(f"{label:40s} {'n/a' if rate is None else f'{rate:>10,.0f} entries/s'}")


if __name__ == "__main__":
    main()
