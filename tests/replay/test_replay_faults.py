"""A replay under faults: its target dies and comes back, or refuses everything.

Real redis-server processes throughout; the replay runs as a process (``xtape replay
--json``), as a user runs it, so its report and exit code are the ones a user sees.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from support.e2e import XTAPE, invoke, wait_for, write_recording
from support.streams import xrange_raw

from xtape.connection import connect
from xtape.server import RedisServer

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

T0 = 1_700_000_000_000
N = 200


@pytest.fixture()
def two_seconds(tmp_path: Path) -> Path:
    """200 entries on one stream, 10 ms apart: 2 s at 1x."""
    return write_recording(
        tmp_path / "steady.xtape",
        [(b"s", T0 + 10 * i, 0, [b"i", str(i).encode()]) for i in range(N)],
    )


def kill_and_restart(server: RedisServer, client: redis.Redis, after: int) -> None:
    """SIGKILL ``server`` once the stream holds ``after`` entries; start it again on the
    same port (with its append-only file, so what it confirmed survives)."""
    wait_for(lambda: client.xlen(b"s") >= after, what=f"{after} entries replayed")
    assert server.proc is not None
    server.proc.kill()
    server.proc.wait()
    server.proc = None
    server.start()


def run(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [XTAPE, "replay", *args, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_replay_whose_target_restarts_reconnects_and_sends_only_what_was_not_confirmed(
    two_seconds: Path, make_server: Callable[..., RedisServer]
) -> None:
    server = make_server(appendonly=True)
    client = connect(server.url)
    try:
        # --keep-ids makes a duplicate visible: Redis would refuse an id sent twice.
        proc = run([str(two_seconds), "--keep-ids", "--url", server.url])
        try:
            kill_and_restart(server, client, after=50)
        finally:
            out, err = finish(proc)
        entries = xrange_raw(client, b"s")
    finally:
        client.close()

    assert proc.returncode == 0, err
    report = json.loads(out)
    assert report["published"] == N
    assert report["errors"] == 0
    assert report["reconnects"] >= 1
    assert "lost the connection to" in err and "reconnected to" in err
    assert [entry_id for entry_id, _ in entries] == [f"{T0 + 10 * i}-0".encode() for i in range(N)]
    assert [fields for _, fields in entries] == [[b"i", str(i).encode()] for i in range(N)]


def test_without_keep_ids_every_entry_arrives_after_a_restart(
    two_seconds: Path, make_server: Callable[..., RedisServer]
) -> None:
    server = make_server(appendonly=True)
    client = connect(server.url)
    try:
        proc = run([str(two_seconds), "--url", server.url])
        try:
            kill_and_restart(server, client, after=50)
        finally:
            out, err = finish(proc)
        values = [fields[1] for _, fields in xrange_raw(client, b"s")]
    finally:
        client.close()

    assert proc.returncode == 0, err
    assert json.loads(out)["published"] == N
    assert {int(v) for v in values} == set(range(N))
    # only unconfirmed entries are sent again: a few duplicates at most, never a re-run
    assert N <= len(values) < N + 20


def test_no_reconnect_fails_fast_with_a_report_of_what_was_confirmed(
    two_seconds: Path, make_server: Callable[..., RedisServer]
) -> None:
    server = make_server(appendonly=True)
    client = connect(server.url)
    try:
        proc = run([str(two_seconds), "--keep-ids", "--no-reconnect", "--url", server.url])
        try:
            kill_and_restart(server, client, after=50)
        finally:
            out, err = finish(proc)
        stored = client.xlen(b"s")
    finally:
        client.close()

    assert proc.returncode == 1
    report = json.loads(out)  # the report of what was done, stdout stays JSON
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("xtape: error: cannot reach Redis at"), err
    assert "connection lost" in lines[0]
    # confirmed = a reply was read, and the server (fsync always) had stored it first
    assert 0 < report["published"] <= stored < N
    assert report["published"] == report["streams"]["s"]


def test_a_target_that_refuses_everything_stops_after_100_refusals_naming_the_first(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    r.set(b"s", b"not a stream")
    rec = write_recording(
        tmp_path / "many.xtape", [(b"s", T0 + i, 0, [b"i", b"%d" % i]) for i in range(3000)]
    )

    result = invoke("replay", rec, "--rate", "1000", "--json", "--url", redis_url)

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert 100 <= report["errors"] < 3000  # stopped long before the end (3 s)
    assert report["published"] == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("xtape: error: Redis refused ")
    assert "in a row, the first with: s: WRONGTYPE" in lines[0]
    assert "--keep-going" in lines[0]


def test_keep_going_publishes_through_refusals(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    r.set(b"s", b"not a stream")
    rec = write_recording(
        tmp_path / "many.xtape",
        [(b"s" if i < 300 else b"ok", T0 + i, 0, [b"i", b"%d" % i]) for i in range(310)],
    )

    result = invoke("replay", rec, "--rate", "5000", "--keep-going", "--json", "--url", redis_url)

    assert result.exit_code == 1  # entries were refused
    report = json.loads(result.stdout)
    assert (report["errors"], report["published"]) == (300, 10)
    assert r.xlen(b"ok") == 10
    assert "error" not in result.stderr
