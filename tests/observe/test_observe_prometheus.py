"""A real Prometheus server scrapes a real ``xtape record --metrics`` under traffic: what
its HTTP API answers is what ``xtape info`` finds in the file (issue 20, item 1)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from support.e2e import invoke, ok, wait_for
from support.observe import Watched, http

from xtape.server import free_port

PROMETHEUS = shutil.which("prometheus")
STREAMS = [b"load:a", b"load:b", b"load:c"]


class Prometheus:
    """A prometheus server scraping ``target`` every second, on a free port."""

    def __init__(self, tmp: Path, target: str) -> None:
        assert PROMETHEUS is not None
        config = tmp / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: xtape\n    static_configs: [{{targets: ['{target}']}}]\n"
        )
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=error"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def query(self, promql: str) -> list[dict[str, object]]:
        status, body = http(
            f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        )
        if status != 200:
            return []
        result: list[dict[str, object]] = json.loads(body)["data"]["result"]
        return result

    def scalar(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None  # type: ignore[index]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture()
def prometheus_for(tmp_path: Path) -> Iterator[list[Prometheus]]:
    if PROMETHEUS is None:
        pytest.skip("prometheus is not installed (scripts/setup.sh --test installs it)")
    made: list[Prometheus] = []
    yield made
    for server in made:
        server.close()


def produce(client: redis.Redis, total: int, stop: threading.Event) -> None:
    """``total`` entries over the streams, in pipelines of 500 (a producer under load)."""
    pipe = client.pipeline(transaction=False)
    for i in range(total):
        pipe.execute_command("XADD", STREAMS[i % len(STREAMS)], "*", "n", str(i), "v", b"\xff" * 40)
        if i % 500 == 499:
            pipe.execute()
            if stop.wait(0.02):
                return
    pipe.execute()


def test_prometheus_scrapes_the_entries_info_finds_and_the_lag_back_at_zero(
    redis_url: str, r: redis.Redis, tmp_path: Path, prometheus_for: list[Prometheus]
) -> None:
    path = tmp_path / "load.xtape"
    total = 30_000
    with Watched("record", "load:*", "-o", path, "--url", redis_url, "-q") as rec:
        rec.wait_health(200, "ok: connected")
        prom = Prometheus(tmp_path, f"127.0.0.1:{rec.port}")
        prometheus_for.append(prom)
        wait_for(lambda: prom.scalar('up{job="xtape"}') == 1.0, timeout=90, what="the first scrape")
        stop = threading.Event()
        producer = threading.Thread(target=produce, args=(r, total, stop))
        producer.start()
        try:
            # while the producer runs, Prometheus sees entries go up
            wait_for(
                lambda: (prom.scalar("sum(xtape_record_entries_total)") or 0) > 0,
                timeout=90,
                what="entries in Prometheus",
            )
        finally:
            producer.join()
        wait_for(
            lambda: prom.scalar("sum(xtape_record_entries_total)") == total,
            timeout=90,
            what="Prometheus to count every entry",
        )
        wait_for(
            lambda: prom.scalar("max(xtape_record_lag_entries)") == 0
            and prom.scalar("max(xtape_record_lag_seconds)") == 0,
            timeout=90,
            what="the lag back at 0",
        )
        per_stream = {
            str(row["metric"]["stream"]): float(row["value"][1])  # type: ignore[index]
            for row in prom.query("xtape_record_entries_total")
        }
        assert prom.scalar("xtape_record_connected") == 1
        assert (prom.scalar("sum(xtape_record_bytes_total)") or 0) > total * 40
        code, err = rec.stop()
    assert code in (0, 143), err
    info = json.loads(ok(invoke("info", path, "--json")).stdout)
    assert info["entries"] == total
    assert per_stream == {s["name"]: float(s["entries"]) for s in info["streams"]}
