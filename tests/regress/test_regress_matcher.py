"""The matcher example end to end: ``xtape test`` passes against the service, fails naming
the stream, the entry and the field against a copy with a seeded bug, and ignores what
changes on every run (ids, timestamps, generated ids)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import redis
from support.paths import ROOT
from typer.testing import CliRunner

from xtape.cli import app
from xtape.diff import diff_recordings
from xtape.regress import Service, load_case, replay_and_capture, run_case
from xtape.report.diff_text import render_text

EXAMPLE = ROOT / "examples" / "matcher"
SHIPPED = ROOT / "xtape" / "data" / "examples" / "matcher"
BUG = ("MAX_QTY = Decimal(1000)", "MAX_QTY = Decimal(2000)")

runner = CliRunner()


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    """A copy of the example (a differing run keeps its capture beside the golden)."""
    folder = tmp_path / "matcher"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.actual.xtape", "__pycache__"))
    return folder


@pytest.fixture()
def bugged(example: Path) -> Path:
    service = example / "service.py"
    text = service.read_text(encoding="utf-8")
    assert BUG[0] in text
    service.write_text(text.replace(*BUG), encoding="utf-8")
    return example


def test_the_repository_example_is_the_shipped_one_not_a_copy() -> None:
    # one source: examples/matcher is a link to the package data, so the two cannot drift
    assert EXAMPLE.resolve() == SHIPPED.resolve()
    assert (SHIPPED / "case.yaml").is_file() and (SHIPPED / "golden.xtape").is_file()


def test_the_case_passes_against_the_service(example: Path) -> None:
    done = runner.invoke(app, ["test", str(example / "case.yaml")])

    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"same     matcher ({example / 'case.yaml'}): 10 entries on 2 streams")
    assert not (example / "golden.actual.xtape").exists()


def test_the_seeded_bug_is_named_by_stream_entry_and_field(bugged: Path) -> None:
    junit = bugged / "report.xml"
    done = runner.invoke(app, ["test", str(bugged / "case.yaml"), "--junit", str(junit)])

    assert done.exit_code == 1, done.output
    out = done.stdout
    assert "DIFFERS  matcher" in out and "order.rejected: 2 changed" in out
    # The entry (position and id in the golden) and the field, old and new value.
    assert "~ changed  #1 id " in out
    assert 'detail: "qty 5000 above the limit of 1000" -> "qty 5000 above the limit of 2000"' in out
    assert "order.accepted         5         5         5        0" in out
    log = bugged / "golden.service.log"
    assert f"--- service output (all of it in {log}) ---\nmatcher: reading order.request" in out
    assert log.read_text(encoding="utf-8").startswith("matcher: reading order.request")
    kept = bugged / "golden.actual.xtape"
    assert kept.is_file() and f"actual kept in {kept}" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("tests") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None and "qty 5000 above the limit of 2000" in (failure.text or "")


def test_the_command_after_dashdash_replaces_the_cases_service(example: Path, bugged: Path) -> None:
    # The case's own service is bugged; the one given after -- is the good one.
    good = EXAMPLE / "service.py"
    done = runner.invoke(app, ["test", str(bugged / "case.yaml"), "--", sys.executable, str(good)])
    assert done.exit_code == 0, done.output


def test_update_writes_the_golden_and_the_next_run_passes(example: Path, bugged: Path) -> None:
    golden = example / "golden.xtape"
    golden.unlink()
    first = runner.invoke(app, ["test", str(example / "case.yaml")])
    assert first.exit_code == 2 and "does not exist yet" in first.stdout

    update = runner.invoke(app, ["test", str(example / "case.yaml"), "--update"])
    assert update.exit_code == 0, update.output
    assert "updated  matcher" in update.stdout and "golden rewritten (10 entries)" in update.stdout
    assert golden.stat().st_mode & 0o044  # an ordinary, readable project file

    again = runner.invoke(app, ["test", str(example / "case.yaml")])
    assert again.exit_code == 0, again.output


def test_a_service_that_exits_at_once_is_an_error_with_its_output(example: Path) -> None:
    crash = example / "crash.py"
    crash.write_text("import sys\nprint('boom: no config')\nsys.exit(3)\n", encoding="utf-8")
    done = runner.invoke(app, ["test", str(example / "case.yaml"), "--", sys.executable, str(crash)])
    assert done.exit_code == 1
    assert "ERROR    matcher" in done.stdout
    assert "the service exited with code 3 before it was ready" in done.stdout
    assert "boom: no config" in done.stdout


def test_a_service_that_never_gets_ready_times_out(example: Path) -> None:
    case = example / "case.yaml"
    case.write_text(case.read_text(encoding="utf-8").replace("timeout: 20s", "timeout: 500ms"), encoding="utf-8")
    idle = example / "idle.py"
    idle.write_text("import time\nprint('idling', flush=True)\ntime.sleep(60)\n", encoding="utf-8")
    result = run_case(load_case(case), command=[sys.executable, str(idle)])
    assert result.status == "error"
    assert "did not become ready within 0.5 s (no consumer group 'matcher' on 'order.request')" in result.message
    assert "idling" in result.service_output


def test_a_service_that_ignores_sigterm_is_killed_after_the_grace(redis_url: str, tmp_path: Path) -> None:
    stubborn = tmp_path / "stubborn.py"
    stubborn.write_text(
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('up', flush=True)\ntime.sleep(60)\n",
        encoding="utf-8",
    )
    service = Service([sys.executable, str(stubborn)], redis_url, grace=0.5).start()
    try:
        for _ in range(200):
            if "up" in service.output:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        service.stop()
        assert service.killed and service.returncode == -9
    finally:
        service.close()


@pytest.mark.slow
def test_twenty_runs_of_the_unchanged_service_show_no_difference(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    # One service process, 20 replays and captures: ids, timestamps and generated ids
    # differ on every run and the rules must ignore exactly those.
    case = load_case(EXAMPLE / "case.yaml")
    assert case.service is not None and case.ready is not None
    with Service(case.service.command, redis_url, cwd=case.service.cwd) as service:
        service.wait_ready(case.ready)
        seen_ids: set[bytes] = set()
        for run in range(20):
            actual = tmp_path / f"run{run}.xtape"
            capture = replay_and_capture(
                case.source, case.outputs, actual, url=redis_url, options=case.options, settle=0.2
            )
            assert capture.entries == 10
            result = diff_recordings(case.golden, actual, case.rules)
            assert result.same, render_text(result)
            assert result.totals()["same"] == 10
        for stream in (b"order.accepted", b"order.rejected"):
            for _, flat in r.execute_command("XRANGE", stream, "-", "+"):
                fields = dict(zip(flat[::2], flat[1::2], strict=True))
                seen_ids.add(fields.get(b"matchId") or fields[b"rejectId"])
        assert len(seen_ids) == 200  # every answer had a fresh generated id
        assert service.running


def test_several_cases_one_line_each_and_exit_1_when_one_differs(example: Path, tmp_path: Path) -> None:
    other = tmp_path / "bugged"
    shutil.copytree(example, other)
    service = other / "service.py"
    service.write_text(service.read_text(encoding="utf-8").replace(*BUG), encoding="utf-8")
    junit = tmp_path / "report.xml"

    done = runner.invoke(app, ["test", str(example / "case.yaml"), str(other / "case.yaml"), "--junit", str(junit)])

    assert done.exit_code == 1, done.output
    lines = [line for line in done.stdout.splitlines() if not line.startswith("  latency ")]
    assert lines[0].startswith("same     matcher") and lines[1].startswith("DIFFERS  matcher")
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")


def test_readiness_waits_for_a_key_and_then_the_delay(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    from xtape.regress import Readiness

    late = tmp_path / "late.py"
    late.write_text(
        "import os, time, redis\ntime.sleep(0.4)\n"
        "redis.Redis.from_url(os.environ['REDIS_URL']).set('svc:ready', '1')\ntime.sleep(60)\n",
        encoding="utf-8",
    )
    start = time.monotonic()
    with Service([sys.executable, str(late)], redis_url, grace=1.0) as service:
        service.wait_ready(Readiness(key="svc:ready", delay=0.3, timeout=20))
        assert r.exists("svc:ready")
        assert time.monotonic() - start >= 0.7  # the key came after 0.4 s, then the delay
        assert service.running
