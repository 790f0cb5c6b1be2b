"""The readers behind ``Recording``: options passed to ``events``/``entries``/``batches``
(never set on the object), one "where the timeline starts" shared by the reader, its
seeks and ``diff --compare-times``, and one small module per reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.paths import ROOT

from xtape.diff import DiffRules, diff_recordings
from xtape.recording import Recording, RecordingWriter
from xtape.recording import reader as reader_module
from xtape.replay import ReplayOptions, open_source
from xtape.replay.scheduler import Pacing
from xtape.timeline import NS_PER_MS


def write(path: Path, version: int = 2, shift_ms: int = 0, a_first: bool = False) -> Path:
    """Two streams read in one round (capture 7 ms), then a later round (8 ms): the
    first round's earliest id is ``10`` although stream ``b`` comes first (unless
    ``a_first``); every id ``shift_ms`` later."""

    def ids(*entries: tuple[int, bytes]) -> list[list[object]]:
        return [[f"{ms + shift_ms}-0".encode(), [b"k", v]] for ms, v in entries]

    first_round = [(b"b", ids((20, b"b1"), (40, b"b2"))), (b"a", ids((10, b"a1"), (30, b"a2")))]
    with RecordingWriter(path, version=version) as writer:
        for stream, entries in first_round[::-1] if a_first else first_round:
            writer.write_entries(stream, entries, 7 * NS_PER_MS)
        writer.write_entries(b"a", ids((35, b"a3")), 8 * NS_PER_MS)
    return path


@pytest.mark.parametrize("version", [1, 2])
def test_interleave_and_timed_are_arguments_of_one_recording(tmp_path: Path, version: int) -> None:
    rec = Recording(write(tmp_path / "r.xtape", version))
    merged = list(rec.events(interleave=True))
    assert [e.fields[0][1] for e in merged] == [b"a1", b"b1", b"a2", b"b2", b"a3"]
    whole = list(rec.events(interleave=False))
    assert [e.fields[0][1] for e in whole] == [b"b1", b"b2", b"a1", b"a2", b"a3"]
    # Not interleaved, the offsets still count from the round's earliest id (10 ms).
    assert [e.offset_ns // NS_PER_MS for e in whole] == [10, 30, 0, 20, 25]
    untimed = list(rec.events(interleave=False, timed=False))
    assert [e.offset_ns for e in untimed] == [0] * 5
    assert [e.stream for e in rec.entries(interleave=False)] == [b"b", b"b", b"a", b"a", b"a"]
    assert [e.stream for e in rec.entries()] == [b"a", b"b", b"a", b"b", b"a"]
    assert [len(raw) for _, _, raw in rec.batches(interleave=False)] == [2, 2, 1]
    assert rec.interleave is True  # nothing was set on it


@pytest.mark.parametrize("version", [1, 2])
def test_one_timeline_start_for_events_window_and_diff(tmp_path: Path, version: int) -> None:
    path = write(tmp_path / "r.xtape", version)
    rec = Recording(path)
    assert rec.timeline_start() == 10 * NS_PER_MS
    assert rec.timeline_start("capture") == 7 * NS_PER_MS
    # A seek counts from it: entries at offset >= 24 ms are ids >= 34.
    rec.window(24 * NS_PER_MS, None)
    assert [e.id for e in rec.events(interleave=False) if e.offset_ns >= 24 * NS_PER_MS] == [b"40-0", b"35-0"]
    # diff --compare-times counts from the same start: a copy a second later whose
    # first round comes in another order has the same offsets (were the start the
    # first batch's first id, 20 ms here and 10 ms there, every offset would be 10 ms off).
    later = write(tmp_path / "later.xtape", version, shift_ms=1000, a_first=True)
    assert diff_recordings(path, later, DiffRules(compare_times=True)).same


def test_replay_passes_its_options_to_events(tmp_path: Path) -> None:
    path = write(tmp_path / "r.xtape")
    fast = open_source(path, ReplayOptions(pacing=Pacing.max_speed()))
    events = list(fast.timeline(0, lambda i, t: t))
    assert [e.offset_ns for e in events] == [0] * 5  # untimed, not interleaved
    assert [e.fields[0][1] for e in events] == [b"b1", b"b2", b"a1", b"a2", b"a3"]
    timed = open_source(path, ReplayOptions())
    events = list(timed.timeline(0, lambda i, t: t))
    assert [e.fields[0][1] for e in events] == [b"a1", b"b1", b"a2", b"b2", b"a3"]


def test_each_reader_is_a_small_module() -> None:
    modules = ["reader", "opening", "read_v1", "read_v2", "read_series", "timebase"]
    sizes = {m: len((ROOT / "xtape" / "recording" / f"{m}.py").read_text().splitlines()) for m in modules}
    assert max(sizes.values()) <= 500, sizes
    assert not hasattr(reader_module.Recording, "_records_v2")
