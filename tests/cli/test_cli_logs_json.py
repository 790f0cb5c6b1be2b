"""``--log-format json``: every message xtape prints on stderr is one JSON object per line
(``ts``, ``level``, ``event``, ``message`` and the event's fields), for log shippers; the
default stays text."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import redis
from support.e2e import XTAPE, invoke, wait_for

from xtape.cli import app

COMMANDS = sorted(info.name or info.callback.__name__ for info in app.registered_commands if info.callback)


def json_lines(stderr: str) -> list[dict[str, Any]]:
    """Each line of ``stderr`` as a JSON object, holding the keys every line holds."""
    records = [json.loads(line) for line in stderr.splitlines()]
    for record in records:
        assert {"ts", "level", "event", "message"} <= set(record), record
        assert record["ts"].endswith("Z") and "T" in record["ts"], record
        assert record["level"] in ("debug", "info", "warning", "error"), record
    return records


@pytest.mark.slow
def test_a_recorder_through_a_server_restart_logs_markers_progress_and_summary_as_json(
    tmp_path: Path, make_server: Any
) -> None:
    server = make_server()
    client = redis.Redis.from_url(server.url)
    out = tmp_path / "r.xtape"
    proc = subprocess.Popen(
        [XTAPE, "record", "orders", "-o", out, "--url", server.url, "--log-format", "json"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "XTAPE_LOG_PROGRESS_EVERY": "200ms"},
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True)
    reader.start()  # (stderr read as it comes: the test waits for a progress event)
    try:
        wait_for(lambda: out.exists() and out.stat().st_size > 0, what="the recording to start")
        size = out.stat().st_size
        for i in range(30):
            client.xadd("orders", {"n": i})
        wait_for(lambda: out.stat().st_size > size, what="the entries written")
        server.restart()  # no persistence: the stream is gone, the recorder reconnects
        client = redis.Redis.from_url(server.url)
        # the recorder's two connections (it reads on one, takes hints on the other) and ours
        wait_for(lambda: client.info("clients")["connected_clients"] >= 3, what="the recorder back")
        for i in range(20):
            client.xadd("orders", {"n": i})
        # The recorder reports progress at most 4 times a second, from its start or its
        # reconnection: a quick run could end before the first (this waits for it).
        wait_for(lambda: any('"event": "progress"' in line for line in lines), what="a progress event")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
    err = "".join(lines)
    assert proc.returncode == 0, err
    records = json_lines(err)
    events = [r["event"] for r in records]
    assert {"disconnected", "restart", "reconnected", "progress"} <= set(events), events
    reconnected = next(r for r in records if r["event"] == "reconnected")
    assert reconnected["level"] == "warning" and reconnected["url"] == server.url
    assert isinstance(reconnected["down_s"], float)
    restart = next(r for r in records if r["event"] == "restart")
    assert restart["old_run_id"] != restart["run_id"]
    progress = [r for r in records if r["event"] == "progress"]
    assert all(isinstance(p["entries"], int) and p["level"] == "info" for p in progress)
    summary = records[-1]
    assert summary["event"] == "recorded", records
    assert summary["entries"] >= 30 and summary["restarts"] == 1 and summary["reconnects"] == 1
    assert summary["streams"] == {"orders": summary["entries"]}
    assert summary["message"].startswith(f"recorded {summary['entries']} entries from 1 stream")


def test_a_gap_is_an_event_with_its_stream_and_ids() -> None:
    from xtape.capture.journal import Journal, RecordStats
    from xtape.cli import logs

    got: list[str] = []

    class Writer:
        def write_gap(self, *args: object) -> None:
            pass

    journal = Journal(RecordStats("x"), got.append, lambda: Writer())  # type: ignore[arg-type, return-value]
    journal.gap(b"prices", b"1-1", b"1-9", 7, 0)
    logs.set_format("json")
    try:
        line = logs.json_line("warning", *_event(got[0]))
    finally:
        logs.set_format("text")
    record = json.loads(line)
    assert record["event"] == "gap"
    assert (record["stream"], record["after"], record["before"], record["lost"]) == ("prices", "1-1", "1-9", 7)
    assert record["message"] == got[0] == "gap in 'prices': 7 entries between 1-1 and 1-9 were trimmed before they could be read"


def _event(message: str) -> tuple[str, str, dict[str, Any]]:
    from xtape.notice import event_of

    event, fields = event_of(message, "warning")
    return event, message, fields


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_writes_its_error_as_one_json_line(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.xtape"
    args = {
        "record": ["s", "-o", tmp_path / "no" / "r.xtape"],
        "convert": [missing, "-o", tmp_path / "out.yaml"],
        "merge": [missing, missing, "-o", tmp_path / "m.xtape"],
        "plot": [missing, "-o", tmp_path / "p.html"],
        "test": [tmp_path / "missing.yaml", "--junit", tmp_path / "no" / "j.xml"],
        "demo": ["--scenarios", tmp_path / "no-such-folder"],
    }.get(command, [missing])
    done = subprocess.run([XTAPE, command, *args, "--log-format", "json"], capture_output=True, text=True)
    assert done.returncode in (1, 2), done
    (record,) = json_lines(done.stderr)
    assert record["level"] == "error" and record["event"] == "error", record
    assert record["exit_code"] == done.returncode
    assert not record["message"].startswith("xtape:"), record


def test_the_environment_chooses_json_and_a_usage_error_is_json_too() -> None:
    done = subprocess.run(
        [XTAPE, "replay", "--speed", "fast"], capture_output=True, text=True, env={**os.environ, "XTAPE_LOG_FORMAT": "json"}
    )
    assert done.returncode == 2
    (record,) = json_lines(done.stderr)
    assert record["level"] == "error" and "--speed" in record["message"]


def test_info_of_a_missing_file_is_json_through_the_quick_path_too(tmp_path: Path) -> None:
    done = subprocess.run(
        [XTAPE, "info", tmp_path / "nope.xtape", "--log-format", "json"], capture_output=True, text=True
    )
    assert done.returncode == 2
    (record,) = json_lines(done.stderr)
    assert record["event"] == "error" and "nope.xtape" in record["message"]


def test_warnings_and_summaries_of_a_dry_run_are_json(tmp_path: Path) -> None:
    scenario = tmp_path / "one.yaml"
    scenario.write_text("name: one\nevents:\n  - stream: s\n    payload: {a: 1}\n", encoding="utf-8")
    result = invoke("replay", scenario, "--dry-run", "--log-format", "json")
    assert result.exit_code == 0, result.output
    records = json_lines(result.stderr)
    assert any(r["message"].startswith("scheduled 1 event to 1 stream") for r in records), records
    result = invoke("replay", scenario, "--dry-run", "--json", "--log-format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["published"] == 1  # the report (of a dry run), on stdout as before
    (line,) = json_lines(result.stderr)  # the events scheduled, on stderr beside --json
    assert (line["event"], line["message"]) == ("scheduled", "+0.000s  s  1 field")


def test_the_default_stays_text(tmp_path: Path) -> None:
    result = invoke("record", "s", "-o", tmp_path / "no" / "r.xtape")
    assert result.stderr == f"xtape: error: -o {tmp_path}/no/r.xtape: no such folder {tmp_path}/no\n"


def test_a_value_that_is_no_format_is_refused_naming_the_formats(tmp_path: Path) -> None:
    result = invoke("info", tmp_path / "x.xtape", "--log-format", "yaml")
    assert result.exit_code == 2
    assert result.stderr == "xtape: error: invalid --log-format 'yaml': choose text or json\n"


def test_library_log_records_are_json_events(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from xtape.cli import logs

    record = logging.LogRecord("xtape.codecs", logging.WARNING, __file__, 1, "codec %s failed", ("x",), None)
    logs.set_format("json")
    try:
        logs.Handler().emit(record)
    finally:
        logs.set_format("text")
    logs.Handler().emit(record)
    first, second = capsys.readouterr().err.splitlines()
    got = json.loads(first)
    assert (got["level"], got["event"], got["message"], got["logger"]) == ("warning", "log", "codec x failed", "xtape.codecs")
    assert second == "xtape: WARNING: codec x failed"
