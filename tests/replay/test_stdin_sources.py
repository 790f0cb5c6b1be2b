"""``replay`` and ``convert`` read ``-`` (standard input) in one pass, so
``xtape record ... -o - | xtape replay - --url ...`` mirrors live traffic."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import redis
from support.e2e import AWKWARD, XTAPE, invoke, ok, wait_for, xadd
from support.paths import ROOT
from support.streams import xrange_raw

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

SAMPLE = ROOT / "recordings" / "sample.xtape"


def run_with_input(args: list[str], data: bytes) -> tuple[int, str, str]:
    result = invoke(*args, input=data)
    return result.exit_code, result.stdout, result.stderr


def test_replay_of_a_recording_on_standard_input_matches_the_file(redis_url: str, r: redis.Redis) -> None:
    code, _, err = run_with_input(
        ["replay", "-", "--max-speed", "--prefix", "in:", "--url", redis_url], SAMPLE.read_bytes()
    )
    assert code == 0, err
    ok(invoke("replay", str(SAMPLE), "--max-speed", "--prefix", "file:", "--url", redis_url))
    piped = sorted(k for k in r.keys("in:*"))
    assert piped and len(piped) == len(r.keys("file:*"))
    for key in piped:
        twin = b"file:" + key[3:]
        assert [f for _, f in xrange_raw(r, key)] == [f for _, f in xrange_raw(r, twin)]


def test_convert_reads_standard_input_once_and_warns_of_its_gaps(tmp_path: Path) -> None:
    code, piped, err = run_with_input(["convert", "-", "-o", "-", "--name", "sample"], SAMPLE.read_bytes())
    assert code == 0, err
    from_file = ok(invoke("convert", str(SAMPLE), "-o", "-", "--name", "sample")).stdout
    # same events; only the description names where they came from
    assert piped.split("events:", 1)[1] == from_file.split("events:", 1)[1]
    gappy = tmp_path / "gappy.xtape"
    from xtape.recording import RecordingWriter

    with RecordingWriter(gappy) as writer:
        writer.write_entries(b"s", [[b"1-1", [b"k", b"v"]]], 1)
        writer.write_gap(b"s", b"1-1", b"5-1", 3, 2)
        writer.write_entries(b"s", [[b"5-1", [b"k", b"w"]]], 3)
    code, _, err = run_with_input(["convert", "-", "-o", "-"], gappy.read_bytes())
    assert code == 0
    assert "<stdin>: the recording has 1 gap (3 entries trimmed" in err, err


def test_a_scenario_on_standard_input_replays(tmp_path: Path) -> None:
    text = b"name: piped\nevents:\n  - stream: s\n    payload: {a: 1}\n  - stream: t\n    delay: 5\n    payload: {b: x}\n"
    code, out, err = run_with_input(["replay", "-", "--dry-run"], text)
    assert code == 0, err
    assert "scheduled 2 events to 2 streams" in err
    assert "+0.005s  t" in out
    code, _, err = run_with_input(["replay", "-", "--dry-run"], b"name: x\nevents:\n  - strem: s\n")
    assert code == 2 and "<stdin>:3:" in err and "strem" in err, err


def test_record_piped_into_replay_mirrors_live_traffic(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    record_err, replay_err = tmp_path / "record.err", tmp_path / "replay.err"
    with record_err.open("wb") as rec_err, replay_err.open("wb") as rep_err:
        record = subprocess.Popen(
            [XTAPE, "record", "live:*", "-q", "-o", "-", "--url", redis_url],
            stdout=subprocess.PIPE, stderr=rec_err,
        )  # fmt: skip
        replay = subprocess.Popen(
            [XTAPE, "replay", "-", "--prefix", "mirror:", "-q", "--url", redis_url],
            stdin=record.stdout, stdout=subprocess.DEVNULL, stderr=rep_err,
        )  # fmt: skip
    assert record.stdout is not None
    record.stdout.close()
    try:
        # the recorder is live once a first entry comes through the mirror
        def mirrored(n: int) -> bool:
            return r.xlen("mirror:live:a") >= n if r.exists("mirror:live:a") else False

        wait_for(lambda: (xadd(r, b"live:a", [b"warm", b"up"]) and False) or mirrored(1),
                 timeout=30, what="the mirror to start")  # fmt: skip
        before = r.xlen("mirror:live:a")
        for i, flat in enumerate(AWKWARD):
            xadd(r, b"live:a" if i % 2 else b"live:b", flat)
        wait_for(lambda: r.exists("mirror:live:b") and r.xlen("mirror:live:b") >= 2 and mirrored(before + 2),
                 timeout=30, what="the traffic to be mirrored")  # fmt: skip
    finally:
        record.terminate()
        record.wait(timeout=30)
        replay.wait(timeout=30)
        for proc in (record, replay):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert record.returncode == 0, record_err.read_text()
    assert replay.returncode == 0, replay_err.read_text()
    src_b = [f for _, f in xrange_raw(r, "live:b")]
    assert [f for _, f in xrange_raw(r, "mirror:live:b")] == src_b
    # live:a had warm-up entries before the recorder was live: the mirror holds the rest
    src_a = [f for _, f in xrange_raw(r, "live:a")]
    mirror_a = [f for _, f in xrange_raw(r, "mirror:live:a")]
    assert mirror_a == src_a[len(src_a) - len(mirror_a) :]
    assert mirror_a[-2:] == [list(AWKWARD[1]), list(AWKWARD[3])]
