"""A disk that fills up during a live recording: one error line (exit 1), and the file
written so far stays a readable recording (its tail reported, no END record)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import redis
from support.e2e import XTAPE, invoke, ok, xadd

from xtape.recording import Recording


def test_a_full_disk_is_one_line_and_leaves_a_readable_recording(
    small_disk: Path, redis_url: str, r: redis.Redis
) -> None:
    value = b"x" * 1000
    # ~600 KB, three times the disk, in 12 streams: records of ~50 KB, so some fit whole
    for i in range(600):
        xadd(r, b"big:%02d" % (i % 12), [b"n", b"%d" % i, b"payload", value])
    path = small_disk / "full.xtape"

    proc = subprocess.run(
        [XTAPE, "record", "big:*", "--from", "start", "--count", "600", "-q", "-o", str(path),
         "--url", redis_url, "--compression", "none"],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip

    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert lines == [f"xtape: error: cannot write {path}: No space left on device"], lines
    # what was written reads back: complete records, then a skipped tail, no END
    info = json.loads(ok(invoke("info", path, "--json")).stdout)
    assert info["complete"] is False and info["writing"] is False
    # (v2 writes whole chunks: the chunk the disk could not hold is a skipped tail)
    assert info["entries"] < 600 and (info["entries"] > 0 or info["truncated_bytes"] > 0)
    entries = list(Recording(path).entries())
    assert len(entries) == info["entries"]
    assert all(e.fields[1] == (b"payload", value) for e in entries)
    assert "incomplete record" in ok(invoke("cat", path)).stderr or info["truncated_bytes"] == 0


def test_a_disk_filling_up_under_a_live_trickle_is_one_line(
    small_disk: Path, redis_url: str, r: redis.Redis
) -> None:
    """Small writes, one flush after another, as a live recording makes them: the last
    ones fail inside the file's buffer, and closing must not fail again louder."""
    path = small_disk / "live.xtape"
    xadd(r, b"live", [b"before", b"the recording"])  # recorded from after this one
    proc = subprocess.Popen(
        [XTAPE, "record", "live", "-q", "-o", str(path), "--url", redis_url,
         "--compression", "none"],  # (zstd would shrink the payloads to nothing)
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (path.exists() and path.stat().st_size > 0):  # the recorder is up
            assert proc.poll() is None and time.monotonic() < deadline, "recorder did not start"
            time.sleep(0.01)
        sent = 0
        while proc.poll() is None:  # ~2 KB an entry until the disk is full
            assert time.monotonic() < deadline and sent < 5000, "the disk never filled up"
            xadd(r, b"live", [b"n", b"%d" % sent, b"payload", b"y" * 2000])
            sent += 1
            time.sleep(0.002)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert err.splitlines() == [f"xtape: error: cannot write {path}: No space left on device"]
    info = json.loads(ok(invoke("info", path, "--json")).stdout)
    assert info["complete"] is False and 0 < info["entries"] < sent
    assert [e.fields[0] for e in Recording(path).entries()] == [
        (b"n", b"%d" % i) for i in range(info["entries"])
    ]
