"""Recordings known by their content and read from standard input, pipes and streams
in one pass; ``record -o -`` writes to standard output (never a terminal)."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import threading
from pathlib import Path

import pytest
import redis
from support.e2e import AWKWARD, XTAPE, error_line, invoke, ok, write_recording, xadd
from support.paths import ROOT

from xtape.errors import RecordingError, UsageError
from xtape.recording import Recording, RecordingWriter, summarize
from xtape.recording.reader import has_recording_header
from xtape.recording.records import HEAD_BYTES, is_recording_head

SAMPLE = ROOT / "recordings" / "sample.xtape"


def test_a_recording_is_known_by_its_first_bytes_not_its_name(tmp_path: Path) -> None:
    renamed = tmp_path / "traffic.txt"
    renamed.write_bytes(SAMPLE.read_bytes())
    scenario = tmp_path / "looks.xtape"
    scenario.write_text("name: x\nevents: []\n")

    assert has_recording_header(renamed)
    assert not has_recording_header(scenario)
    assert not has_recording_header(tmp_path / "missing.xtape")
    assert is_recording_head(SAMPLE.read_bytes()[:HEAD_BYTES])
    assert not is_recording_head(b"\x86\xa5magic")  # too short to tell
    assert not is_recording_head(b'{"magic": "xtape"}')
    # a buffered stream is peeked at, not consumed
    stream = io.BufferedReader(io.BytesIO(SAMPLE.read_bytes()))  # type: ignore[arg-type]
    assert has_recording_header(stream)
    assert Recording(stream).header.version == 1
    # and a recording with another name reads and summarizes as usual
    assert summarize(renamed).entries == summarize(SAMPLE).entries


def test_a_stream_is_read_in_one_pass_and_a_second_pass_is_refused() -> None:
    rec = Recording(io.BytesIO(SAMPLE.read_bytes()))
    assert rec.one_pass
    entries = list(rec.entries())
    assert [e.id for e in entries] == [e.id for e in Recording(SAMPLE).entries()]
    assert rec.summary is not None and rec.summary.size == SAMPLE.stat().st_size
    assert rec.summary.complete and rec.summary.truncated_bytes == 0
    with pytest.raises(RecordingError, match="can be read only once"):
        list(rec.entries())


def test_a_fifo_path_is_opened_once(tmp_path: Path) -> None:
    fifo = tmp_path / "rec.fifo"
    os.mkfifo(fifo)
    data = SAMPLE.read_bytes()

    def feed() -> None:
        with open(fifo, "wb") as fh:  # blocks until the reader opens it
            fh.write(data)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        rec = Recording(fifo)
        assert rec.one_pass
        assert len(list(rec.entries())) == summarize(SAMPLE).entries
    finally:
        feeder.join(timeout=30)
    assert not feeder.is_alive()


def test_info_and_cat_read_standard_input(tmp_path: Path) -> None:
    data = SAMPLE.read_bytes()
    info = json.loads(ok(invoke("info", "-", "--json", input=data)).stdout)
    assert info["path"] == "<stdin>"
    assert info["file_size"] == len(data)
    assert info["entries"] == summarize(SAMPLE).entries and info["complete"]
    lines = ok(invoke("cat", "-", input=data)).stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [
        e.id.decode() for e in Recording(SAMPLE).entries()
    ]


def test_writer_refuses_a_terminal_and_writes_a_stream() -> None:
    main, secondary = pty.openpty()
    try:
        with open(secondary, "wb", closefd=False) as tty, pytest.raises(UsageError, match="terminal"):
            RecordingWriter(tty)
    finally:
        os.close(main)
        os.close(secondary)
    out = io.BytesIO()
    with RecordingWriter(out) as writer:
        writer.write_entries(b"s", [[b"1-1", [b"k", b"v"]]], 1)
    rec = Recording(io.BytesIO(out.getvalue()))
    assert [(e.stream, e.fields) for e in rec.entries()] == [(b"s", ((b"k", b"v"),))]
    assert rec.summary is not None and rec.summary.complete


def test_record_to_standard_output_pipes_into_cat(redis_url: str, r: redis.Redis) -> None:
    for i, flat in enumerate(AWKWARD):
        xadd(r, b"pipe:%d" % (i % 2), flat, f"{1_700_000_000_000 + i}-0")
    record = subprocess.Popen(
        [XTAPE, "record", "pipe:*", "--from", "start", "--count", str(len(AWKWARD)), "-q",
         "-o", "-", "--url", redis_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    cat = subprocess.Popen(
        [XTAPE, "cat", "-"], stdin=record.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert record.stdout is not None
    record.stdout.close()  # cat holds the pipe now
    try:
        out, cat_err = cat.communicate(timeout=60)
        record_err = record.communicate(timeout=60)[1]
    finally:
        for proc in (record, cat):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert record.returncode == 0, record_err
    assert cat.returncode == 0 and cat_err == b"", cat_err
    objects = [json.loads(line) for line in out.splitlines()]
    assert [o["id"] for o in objects] == [f"{1_700_000_000_000 + i}-0" for i in range(len(AWKWARD))]
    assert objects[0]["fields"] == [["a", "1"], ["a", "2"], ["b", ""]]


def test_record_to_a_terminal_is_refused_in_one_line(redis_url: str, r: redis.Redis) -> None:
    xadd(r, b"tty", [b"k", b"v"])
    main, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [XTAPE, "record", "tty", "--from", "start", "--count", "1", "-o", "-", "--url", redis_url],
            stdout=secondary,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(main)
        os.close(secondary)
    assert proc.returncode == 2
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and "terminal" in lines[0] and lines[0].startswith("xtape: error: ")


def test_record_dash_does_not_need_force_or_make_a_file(
    tmp_path: Path, redis_url: str, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").write_text("a file named -")
    xadd(r, b"d", [b"k", b"v"])
    proc = subprocess.run(
        [XTAPE, "record", "d", "--from", "start", "--count", "1", "-q", "-o", "-", "--url", redis_url],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "-").read_text() == "a file named -"
    assert [e.fields for e in Recording(io.BytesIO(proc.stdout)).entries()] == [((b"k", b"v"),)]


def test_a_scenario_given_to_cat_is_one_line_not_a_recording(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.xtape", [(b"s", 1, 0, [b"k", b"v"])])
    text = tmp_path / "s.yaml"
    text.write_text("name: x\n")
    assert "not an xtape recording" in error_line(invoke("cat", text), 2)
    assert ok(invoke("cat", path)).stdout.count("\n") == 1
