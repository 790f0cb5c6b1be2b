"""Support for the capture tests (no tests here): run the recorder in a thread, read a
recording per stream. (Waiting for a condition: :func:`support.e2e.wait_for`.)"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from support.e2e import wait_for
from xtape.capture import Recorder, RecordOptions, RecordStats
from xtape.recording import Recording


class Background:
    """A recorder running in a thread; :meth:`join` returns its stats."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.stats: RecordStats | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.stats = self.recorder.run()
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float = 20.0) -> RecordStats:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the recorder did not stop"
        if self.error is not None:
            raise self.error
        assert self.stats is not None
        return self.stats


def start_recorder(
    url: str, path: Path, options: RecordOptions, recorder_cls: type[Recorder] = Recorder, **kw: Any
) -> Background:
    """Start recording and return once the streams present are resolved (file exists)."""
    warnings: list[str] = kw.pop("warnings", [])
    bg = Background(recorder_cls(url, path, options, warn=warnings.append, **kw))
    wait_for(lambda: path.exists() or not bg.thread.is_alive(), what="the recorder to start")
    return bg


def by_stream(path: Path) -> dict[bytes, list[tuple[bytes, list[bytes]]]]:
    """The recorded entries of each stream, in file order, in ``xrange_raw``'s shape."""
    out: dict[bytes, list[tuple[bytes, list[bytes]]]] = {}
    for entry in Recording(path).entries():
        flat = [part for pair in entry.fields for part in pair]
        out.setdefault(entry.stream, []).append((entry.id, flat))
    return out


class _TrimAfterFirstBatch(Recorder):
    """Trims the stream (as a busy producer with MAXLEN would) right after the first
    batch was written, before the next read: a deterministic way to lose entries."""

    trim: Any = None

    def _write(self, *args: Any) -> None:
        super()._write(*args)
        if self.trim is not None:
            trim, self.trim = self.trim, None
            trim()


def record_through_a_trim(
    url: str, path: Path, ids: list[bytes], observer: Any = None, **options: Any
) -> tuple[RecordStats, list[str]]:
    """Record stream ``g`` (its first entries' ids in ``ids``) from its start, 4 entries a
    batch, 9 in all; right after the first batch, 20 more entries are added with MAXLEN 5
    (their ids appended to ``ids``), so entries 5 to 25 are trimmed before they are read.
    ``observer``: the recorder's; ``options``: more :class:`RecordOptions`. Returns the
    stats and the warnings."""
    from xtape.capture import parse_start
    from xtape.connection import connect

    def trim() -> None:
        client = connect(url)
        for i in range(20):
            ids.append(client.execute_command("XADD", "g", "MAXLEN", "5", "*", "n", str(10 + i)))
        client.close()

    class Trimming(_TrimAfterFirstBatch):
        pass

    Trimming.trim = staticmethod(trim)
    warnings: list[str] = []
    record_options = RecordOptions(["g"], start=parse_start("start"), batch=4, count=9, **options)
    stats = start_recorder(
        url, path, record_options, Trimming, warnings=warnings, observer=observer
    ).join()
    return stats, warnings
