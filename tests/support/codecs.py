"""Real FastStream and taskiq processes for the codec tests (their packages: the test extra)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import redis

from support.e2e import write_recording
from support.paths import FRAMEWORKS
from support.streams import xrange_raw


def run_app(script: str, *args: object, timeout: float = 120) -> None:
    """Run one of tests/support/frameworks/ to its end (fails the test with its output if it fails)."""
    done = subprocess.run(
        [sys.executable, str(FRAMEWORKS / script), *map(str, args)],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"{script} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def faststream_publish(url: str, stream: str, count: int, bump: int = -1) -> None:
    """A real FastStream app (default settings) publishes ``count`` orders on ``stream``
    (order ``bump``'s ``total`` one more than the others would make it)."""
    pytest.importorskip("faststream")
    run_app("faststream_app.py", "publish", url, stream, count, bump)


def recording_of(client: redis.Redis, path: Path, *streams: bytes) -> Path:
    """A recording of what ``streams`` hold now (their real bytes and ids)."""
    entries = []
    for stream in streams:
        for entry_id, flat in xrange_raw(client, stream):
            ms, seq = entry_id.split(b"-")
            entries.append((stream, int(ms), int(seq), flat))
    return write_recording(path, entries)


def taskiq_kick(url: str, queue: str, count: int) -> None:
    """A real taskiq producer (taskiq-redis RedisStreamBroker) kicks ``count`` tasks."""
    pytest.importorskip("taskiq_redis")
    run_app("taskiq_app.py", url, queue, count)
