"""The parts of ``--metrics`` without a live recorder: the stream label cap and its
``_other`` bucket, /healthz's states, the listen address, the optional dependency
(not imported unless asked for, one line when missing), the option checks, and
docs/metrics.md naming every metric with its help (issue 20, items 1 and 2)."""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from support.e2e import error_line, invoke
from support.paths import ROOT

from xtape.errors import UsageError
from xtape.observe.health import Health
from xtape.observe.listener import parse_listen
from xtape.observe.metrics import OTHER, RecordMetrics, ReplayMetrics

SAMPLE = ROOT / "recordings" / "sample.xtape"


def test_streams_beyond_the_cap_share_the_other_bucket() -> None:
    registry = CollectorRegistry()
    metrics = RecordMetrics(registry, max_streams=2)
    for i, name in enumerate([b"a", b"b", b"c", b"d"]):
        metrics.written(name, 10 + i, 100)
        metrics.lag(name, i, i / 10)
    get = registry.get_sample_value
    assert get("xtape_record_entries_total", {"stream": "a"}) == 10
    assert get("xtape_record_entries_total", {"stream": "b"}) == 11
    assert get("xtape_record_entries_total", {"stream": OTHER}) == 12 + 13
    assert get("xtape_record_entries_total", {"stream": "c"}) is None
    assert get("xtape_record_lag_entries", {"stream": OTHER}) == 3  # the worst of them
    assert get("xtape_record_lag_seconds", {"stream": OTHER}) == pytest.approx(0.3)
    metrics.lag(b"d", 0, 0.0)  # d caught up: c is the worst now
    assert get("xtape_record_lag_entries", {"stream": OTHER}) == 2


def test_an_undecodable_stream_name_is_an_escaped_label() -> None:
    registry = CollectorRegistry()
    RecordMetrics(registry).gap(b"bad\xff", 7)
    assert registry.get_sample_value("xtape_record_lost_entries_total", {"stream": "bad\\xff"}) == 7


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_healthz_states() -> None:
    clock = Clock()
    health = Health(10.0, now=clock)
    assert health.status() == (200, "ok, starting for 0.0 s: waiting for the server")
    clock.now += 11
    assert health.status() == (503, "starting for 11.0 s: waiting for the server")
    health.started()
    assert health.status() == (200, "ok: connected, no entry yet")
    health.written(b"s", 1, 10)
    clock.now += 2
    assert health.status() == (200, "ok: connected, last entry 2.0 s ago")
    health.lost("Connection refused")
    clock.now += 5
    assert health.status() == (200, "ok, reconnecting for 5.0 s: Connection refused")
    clock.now += 6
    assert health.status() == (503, "reconnecting for 11.0 s: Connection refused")
    health.reconnected()
    assert health.status()[0] == 200
    clock.now += 10.5  # the loop did not come round
    assert health.status() == (503, "stalled: no answer from the server for 10.5 s")
    health.write_failed("cannot write f.xtape: No space left on device")
    health.finished("failed")
    assert health.status() == (503, "write error: cannot write f.xtape: No space left on device")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:9464", ("127.0.0.1", 9464)), (":9464", ("", 9464)), ("9464", ("", 9464)),
     ("[::1]:9464", ("::1", 9464)), ("localhost:0", ("localhost", 0))],
)  # fmt: skip
def test_listen_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["", "host", "1.2.3.4:", "1.2.3.4:99999", "::1:80", "a:b"])
def test_bad_listen_addresses_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="invalid --metrics"):
        parse_listen(text)


def test_bad_options_are_one_line_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "x.xtape"
    cases = [
        (["record", "s", "-o", out, "--metrics", "nowhere"], "invalid --metrics 'nowhere'"),
        (["record", "s", "-o", out, "--metrics-linger", "5s"], "--metrics-linger goes with --metrics"),
        (["record", "s", "-o", out, "--snapshot-key", "k"], "go with --snapshot D"),
        (["record", "s", "-o", f"{tmp_path}/", "--snapshot", "5m", "--split-size", "1MB"], "--snapshot writes files of its own"),
        (["record", "s", "-o", out, "--snapshot", "5m"], "no such folder"),
        (["replay", SAMPLE, "--metrics", ":1", "--unhealthy-after", "0s"], "--unhealthy-after"),
    ]  # fmt: skip
    for args, text in cases:
        assert text in error_line(invoke(*args), 2), args
    assert not out.exists()


def test_a_port_in_use_is_one_line_exit_1(redis_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = error_line(
            invoke("record", "s", "-o", tmp_path / "x.xtape", "--url", redis_url, "--metrics", f"127.0.0.1:{port}"), 1
        )
    assert line == f"xtape: error: --metrics: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_a_missing_prometheus_client_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """(That it is not imported without --metrics: tests/cli/test_cli_startup.py.)"""
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if not installed
    line = error_line(invoke("replay", SAMPLE, "--dry-run", "--metrics", ":0"), 2)
    assert line == "xtape: error: --metrics needs the prometheus_client package: pip install 'xtape[metrics]'"


def test_docs_name_every_metric_with_its_help() -> None:
    """docs/metrics.md has a row `name` | type | unit | labels | help for each metric, as served."""
    registry = CollectorRegistry()
    RecordMetrics(registry)
    ReplayMetrics(registry)
    served = {m.name: (m.type, m.documentation) for m in registry.collect()}
    text = (ROOT / "docs" / "metrics.md").read_text()
    rows = {
        m.group(1): (m.group(2), m.group(3).strip())
        for m in re.finditer(r"^\| `(xtape_\w+)` \| (\w+) \| [^|]*\| [^|]*\| (.+?) \|$", text, re.M)
    }
    documented = {
        name.removesuffix("_total") if kind == "counter" else name: (kind, help_)
        for name, (kind, help_) in rows.items()
    }
    assert documented == served
