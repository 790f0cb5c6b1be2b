"""The recorder's guarantee under faults, checked entry by entry:

    every entry the source held while recording is either in the file or counted in a
    gap or named by a marker.

A producer logs every id it added; a real ``xtape record`` subprocess is stalled with
SIGSTOP while the fault happens (restart without persistence, FLUSHALL, a stream deleted
and recreated with lower ids, trimming) and resumed with SIGCONT.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from support.capture import start_recorder
from support.e2e import wait_for

from xtape.capture import RecordOptions
from xtape.connection import connect
from xtape.errors import XtapeError
from xtape.ids import id_key, id_ms
from xtape.recording import Recording
from xtape.recording.records import Entries, Gap, Marker, StreamDef
from xtape.server import RedisServer

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

XTAPE = str(Path(sys.executable).parent / "xtape")
STREAMS = [f"s:{i}".encode() for i in range(3)]
#: Markers that speak for every stream, and those that name one.
SERVER_WIDE = {"restart", "flush", "reconnect"}
PER_STREAM = {"recreated", "deleted"}
SLACK_MS = 50


class Producer:
    """Adds entries to STREAMS (MAXLEN ~ maxlen) until stopped; logs every id it got back."""

    def __init__(self, url: str, maxlen: int) -> None:
        self.url = url
        self.maxlen = maxlen
        self.added: dict[bytes, list[bytes]] = {s: [] for s in STREAMS}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        client: redis.Redis | None = None
        n = 0
        while not self._stop.is_set():
            try:
                if client is None:
                    client = connect(self.url)
                pipe = client.pipeline(transaction=False)
                for stream in STREAMS:
                    for _ in range(4):
                        pipe.execute_command(
                            "XADD", stream, "MAXLEN", "~", self.maxlen, "*", "n", str(n)
                        )
                        n += 1
                ids = pipe.execute()
                with self.lock:
                    for i, stream in enumerate(STREAMS):
                        self.added[stream].extend(ids[i * 4 : i * 4 + 4])
            except (redis.RedisError, OSError, XtapeError):
                if client is not None:
                    client.close()
                client = None
            time.sleep(0.004)
        if client is not None:
            client.close()

    def log(self, stream: bytes, entry_id: bytes) -> None:
        with self.lock:
            self.added[stream].append(entry_id)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(10)


def uncovered(path: Path, added: dict[bytes, list[bytes]]) -> list[tuple[bytes, bytes]]:
    """The logged entries that are neither in the file, nor inside a gap of their stream,
    nor in a period a marker speaks for (server-wide, or naming the stream): after the
    last entry of the stream recorded before the marker, up to the marker's time."""
    recorded: dict[bytes, set[bytes]] = {}
    last_id: dict[bytes, bytes] = {}
    periods: dict[bytes, list[tuple[bytes, int]]] = {s: [] for s in added}
    gaps: dict[bytes, list[tuple[bytes, bytes]]] = {s: [] for s in added}
    names: dict[int, bytes] = {}
    for record in Recording(path).records():
        if isinstance(record, StreamDef):
            names[record.stream_id] = record.name
        elif isinstance(record, Entries):
            stream = names[record.stream_id]
            recorded.setdefault(stream, set()).update(e[0] for e in record.entries)
            last_id[stream] = record.entries[-1][0]
        elif isinstance(record, Gap):
            gaps.setdefault(names[record.stream_id], []).append((record.after_id, record.before_id))
        elif isinstance(record, Marker):
            at = record.capture_ns // 1_000_000 + SLACK_MS
            for stream in added:
                named = f"'{stream.decode()}'" in record.text
                if record.kind in SERVER_WIDE or (record.kind in PER_STREAM and named):
                    periods[stream].append((last_id.get(stream, b"0-0"), at))
    missing = []
    for stream, ids in added.items():
        for entry_id in ids:
            if entry_id in recorded.get(stream, set()):
                continue
            key = id_key(entry_id)
            if any(id_key(a) < key < id_key(b) for a, b in gaps[stream]):
                continue
            if any(id_key(lo) < key and id_ms(entry_id) <= hi for lo, hi in periods[stream]):
                continue
            missing.append((stream, entry_id))
    return missing


def _has(path: Path, last: dict[bytes, bytes]) -> bool:
    """Whether the (flushed part of the) file holds each stream's last entry."""
    try:
        seen = {(e.stream, e.id) for e in Recording(path).entries()}
    except Exception:  # a header still being written
        return False
    return all((stream, entry_id) in seen for stream, entry_id in last.items())


def _restart(server: RedisServer, producer: Producer) -> None:
    server.restart()  # no persistence: every stream is gone


def _flush(server: RedisServer, producer: Producer) -> None:
    client = connect(server.url)
    client.flushall()
    client.close()


def _recreate(server: RedisServer, producer: Producer) -> None:
    client = connect(server.url)
    pipe = client.pipeline(transaction=True)
    pipe.execute_command("DEL", STREAMS[0])
    pipe.execute_command("XADD", STREAMS[0], "1-1", "phase", "x")
    pipe.execute_command("XADD", STREAMS[0], "1-2", "phase", "x")
    pipe.execute()
    producer.log(STREAMS[0], b"1-1")
    producer.log(STREAMS[0], b"1-2")
    client.close()


def _trim(server: RedisServer, producer: Producer) -> None:
    client = connect(server.url)
    for stream in STREAMS:
        client.execute_command("XTRIM", stream, "MAXLEN", 5)
    client.close()


FAULTS: dict[str, tuple[Callable[[RedisServer, Producer], None], str]] = {
    "stall+restart": (_restart, "restart"),
    "stall+flush": (_flush, "flush"),
    "delete+recreate": (_recreate, "recreated"),
    "trimming": (_trim, "gap"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_entry_is_recorded_or_in_a_gap_or_named_by_a_marker(
    make_server: Callable[..., RedisServer], tmp_path: Path, fault: str
) -> None:
    server = make_server()
    path = tmp_path / "fault.xtape"
    proc = subprocess.Popen(
        [XTAPE, "record", "s:*", "--url", server.url, "-o", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    producer: Producer | None = None
    try:
        wait_for(lambda: path.exists() and path.stat().st_size > 0, what="the recorder to start")
        # A recreated stream is told apart while its first entries are still there; once
        # trimmed away it looks like the old stream trimmed (a gap holds what was lost).
        producer = Producer(server.url, 1_000_000 if fault == "delete+recreate" else 300)
        time.sleep(0.5)
        # The recorder knows every stream before it is stalled (a stream created, then
        # deleted before the recorder ever saw it, cannot be told from a new one).
        first = {stream: ids[0] for stream, ids in producer.added.items() if ids}
        wait_for(lambda: len(first) == 3 and _has(path, first), timeout=60, what="every stream")
        proc.send_signal(signal.SIGSTOP)
        time.sleep(0.3)
        action, expected = FAULTS[fault]
        action(server, producer)
        time.sleep(1.0)  # the producer goes on while the recorder is stalled
        proc.send_signal(signal.SIGCONT)
        time.sleep(1.0)
        producer.stop()
        last = {stream: ids[-1] for stream, ids in producer.added.items() if ids}
        wait_for(lambda: _has(path, last), timeout=60, what="the recorder to catch up")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if producer is not None:
            producer.stop()
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert b"Traceback" not in err
    rec = Recording(path)
    kinds = {m.kind for m in rec.markers()} | ({"gap"} if rec.gaps() else set())
    assert expected in kinds, (kinds, err.decode())
    added = sum(len(v) for v in producer.added.values())
    assert added > 1000
    missing = uncovered(path, producer.added)
    assert missing == [], (
        f"{len(missing)} of {added} entries unaccounted for: {missing[:3]}..{missing[-1:]}; "
        f"markers {rec.markers()}; gaps {rec.gaps()}; stderr {err.decode()}"
    )
    if fault == "delete+recreate":
        recorded = {e.id for e in rec.entries() if e.stream == STREAMS[0]}
        assert {b"1-1", b"1-2"} <= recorded


def _recreate_with_lower_ids(client: redis.Redis) -> bytes:
    """Delete ``dr:s`` and add ``1-1`` and an entry of a new id in one round trip; that
    last id."""
    pipe = client.pipeline(transaction=False)
    pipe.execute_command("DEL", "dr:s")
    pipe.execute_command("XADD", "dr:s", "1-1", "phase", "x")
    pipe.execute_command("XADD", "dr:s", "*", "phase", "y")
    _, _, last = pipe.execute()
    return bytes(last)


def test_a_stream_recreated_with_lower_ids_is_recorded_from_its_start(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "dr.xtape"
    warnings: list[str] = []
    bg = start_recorder(redis_url, path, RecordOptions(["dr:*"], count=3), warnings=warnings)
    live = r.execute_command("XADD", "dr:s", "*", "phase", "live1")
    wait_for(lambda: bg.recorder.stats.entries == 1, what="the first entry")
    last = _recreate_with_lower_ids(r)
    stats = bg.join()
    assert [e.id for e in Recording(path).entries()] == [live, b"1-1", last]
    assert stats.recreated == 1
    [marker] = [m for m in Recording(path).markers() if m.kind == "recreated"]
    assert "'dr:s'" in marker.text
    assert any("recreated" in w or "created again" in w for w in warnings)


def test_without_hints_recreated_streams_and_new_streams_are_still_recorded(
    make_server: Callable[..., RedisServer], tmp_path: Path
) -> None:
    """A user who may not subscribe to the invalidation channel: the recorder falls back
    to polling all streams, and still records a recreated stream from its start."""
    server = make_server()
    admin = connect(server.url)
    admin.execute_command("ACL", "SETUSER", "nosub", "on", ">pw", "~*", "+@all", "resetchannels")
    url = f"redis://nosub:pw@127.0.0.1:{server.port}/0"
    path = tmp_path / "fallback.xtape"
    options = RecordOptions(["dr:*"], count=3, scan_interval=0.2)
    bg = start_recorder(url, path, options)
    live = admin.execute_command("XADD", "dr:s", "*", "phase", "live1")
    wait_for(lambda: bg.recorder.stats.entries == 1, what="the first entry")
    assert not bg.recorder.uses_hints
    last = _recreate_with_lower_ids(admin)
    stats = bg.join()
    assert [e.id for e in Recording(path).entries()] == [live, b"1-1", last]
    assert stats.recreated == 1
    admin.close()
