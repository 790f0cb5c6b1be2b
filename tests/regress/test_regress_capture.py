"""replay --capture: the recorder and the replayer run together, the capture is an
ordinary recording of what the outputs received from the start of the replay."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from xtape.cli import app
from xtape.connection import command, connect
from xtape.errors import UsageError
from xtape.recording import Recording
from xtape.regress import replay_and_capture
from xtape.replay import Pacing, ReplayOptions

runner = CliRunner()

INPUT = """\
name: pings
events:
  - stream: in
    payload: {n: "{{index}}", blob: !!binary /w==}
    repeat: 20
    interval: 5
"""


class Echo(threading.Thread):
    """A tiny service: every entry on ``in`` is answered on ``out`` (fields kept, one
    added), after ``delay_s``."""

    def __init__(self, url: str, delay_s: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.client = connect(url, socket_timeout=5.0)
        self.delay_s = delay_s
        self.halt = threading.Event()

    def run(self) -> None:
        cursor = b"0-0"
        while not self.halt.is_set():
            reply = command(self.client, "XREAD", "BLOCK", 50, "STREAMS", "in", cursor)
            for _name, entries in reply or []:
                for entry_id, flat in entries:
                    cursor = entry_id
                    if self.delay_s:
                        time.sleep(self.delay_s)
                    command(self.client, "XADD", "out", "*", *flat, b"echo", b"1")

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)
        self.client.close()


@pytest.fixture()
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "pings.yaml"
    path.write_text(INPUT, encoding="utf-8")
    return path


@pytest.fixture()
def echo(redis_url: str) -> Iterator[Echo]:
    service = Echo(redis_url)
    service.start()
    yield service
    service.stop()


def _entries(path: Path) -> list[tuple[bytes, list[tuple[bytes, bytes]]]]:
    return [(e.stream, list(e.fields)) for e in Recording(path).entries()]


def test_capture_holds_every_answer_and_nothing_from_before(
    redis_url: str, r: redis.Redis, echo: Echo, scenario: Path, tmp_path: Path
) -> None:
    command(r, "XADD", "out", "*", "old", "entry")  # there before the replay: not captured
    out = tmp_path / "actual.xtape"

    result = replay_and_capture(
        scenario, ["out"], out, url=redis_url, options=ReplayOptions(pacing=Pacing.max_speed()), settle=0.5
    )

    got = _entries(out)
    assert result.replay.published == 20
    assert result.stop_reason == "settled" and result.complete
    assert [fields for _, fields in got] == [
        [(b"n", str(i).encode()), (b"blob", b"\xff"), (b"echo", b"1")] for i in range(20)
    ]
    assert {stream for stream, _ in got} == {b"out"}
    assert Recording(out).header.options["patterns"] == ["out"]  # an ordinary recording


def test_the_first_answer_is_captured_even_when_it_comes_at_once(
    redis_url: str, echo: Echo, scenario: Path, tmp_path: Path
) -> None:
    # The answer to the first input lands within a millisecond or two of the first
    # publish: only cursors resolved before that publish can hold it.
    for attempt in range(3):
        out = tmp_path / f"a{attempt}.xtape"
        replay_and_capture(
            scenario, ["o*"], out, url=redis_url,
            options=ReplayOptions(pacing=Pacing.max_speed()), settle=0.3,
        )  # fmt: skip
        fields = [dict(f) for _, f in _entries(out)]
        assert fields[0][b"n"] == b"0" and len(fields) == 20


def test_settle_waits_for_answers_that_come_after_the_replay(
    redis_url: str, scenario: Path, tmp_path: Path
) -> None:
    slow = Echo(redis_url, delay_s=0.03)  # 20 answers over ~0.6 s after a 0.1 s replay
    slow.start()
    try:
        result = replay_and_capture(
            scenario, ["out"], tmp_path / "a.xtape", url=redis_url,
            options=ReplayOptions(pacing=Pacing.max_speed()), settle=1.0,
        )  # fmt: skip
    finally:
        slow.stop()
    assert result.entries == 20
    assert result.waited_s >= 1.0


def test_expect_stops_once_the_entries_arrived(
    redis_url: str, echo: Echo, scenario: Path, tmp_path: Path
) -> None:
    start = time.monotonic()
    result = replay_and_capture(
        scenario, ["out"], tmp_path / "a.xtape", url=redis_url,
        options=ReplayOptions(pacing=Pacing.max_speed()), expect=5, timeout=30,
    )  # fmt: skip
    assert result.stop_reason == "expected"
    assert result.entries == 5
    assert time.monotonic() - start < 20


def test_timeout_ends_a_capture_that_waits_for_more_than_comes(
    redis_url: str, echo: Echo, scenario: Path, tmp_path: Path
) -> None:
    result = replay_and_capture(
        scenario, ["out"], tmp_path / "a.xtape", url=redis_url,
        options=ReplayOptions(pacing=Pacing.max_speed()), expect=500, timeout=1.0,
    )  # fmt: skip
    assert result.stop_reason == "timeout"
    assert result.entries == 20 and not result.complete


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"settle": 0}, "--settle"),
        ({"expect": 0}, "--expect"),
        ({"timeout": -1}, "--timeout"),
        ({"options": ReplayOptions(dry_run=True)}, "--dry-run"),
        ({"options": ReplayOptions(loop=True)}, "--loop"),
    ],
)
def test_capture_options_that_cannot_work_are_refused(
    scenario: Path, tmp_path: Path, kwargs: dict[str, object], needle: str
) -> None:
    with pytest.raises(UsageError, match=needle):
        replay_and_capture(scenario, ["out"], tmp_path / "a.xtape", url="redis://127.0.0.1:1/0", **kwargs)  # type: ignore[arg-type]


def test_cli_replay_capture_writes_the_recording_and_says_so(
    redis_url: str, echo: Echo, scenario: Path, tmp_path: Path
) -> None:
    out = tmp_path / "actual.xtape"
    done = runner.invoke(
        app,
        ["replay", str(scenario), "--url", redis_url, "--max-speed", "--capture", "out",
         "-o", str(out), "--settle", "300ms"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "captured 20 entries from 1 stream into" in done.stderr
    assert len(_entries(out)) == 20


def test_cli_replay_capture_exit_1_when_fewer_than_expected_arrive(
    redis_url: str, echo: Echo, scenario: Path, tmp_path: Path
) -> None:
    done = runner.invoke(
        app,
        ["replay", str(scenario), "--url", redis_url, "--max-speed", "--capture", "out",
         "-o", str(tmp_path / "a.xtape"), "--expect", "21", "--timeout", "1s"],
    )  # fmt: skip
    assert done.exit_code == 1
    assert "expected 21 entries on the outputs, captured 20" in done.stderr


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["-o", "x.xtape"], "-o only apply with --capture"),
        (["--settle", "1s"], "--settle only apply with --capture"),
        (["--capture", "out"], "--capture needs -o FILE"),
        (["--capture", "out", "-o", "x.xtape", "--settle", "1"], "invalid --settle '1'"),
        (["--capture", "out", "-o", "-"], "--capture writes a file"),
    ],
)
def test_cli_capture_option_mistakes_are_one_line_exit_2(
    scenario: Path, extra: list[str], needle: str
) -> None:
    done = runner.invoke(app, ["replay", str(scenario), "--url", "redis://127.0.0.1:1/0", *extra])
    assert done.exit_code == 2
    assert needle in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_cli_capture_refuses_to_overwrite_without_force(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.xtape"
    out.write_bytes(b"keep")
    done = runner.invoke(
        app, ["replay", str(scenario), "--capture", "out", "-o", str(out), "--url", "redis://127.0.0.1:1/0"]
    )
    assert done.exit_code == 2 and "pass --force" in done.stderr
    assert out.read_bytes() == b"keep"
