"""The .xtape format: round trips, truncation, refusal of foreign and future files."""

from __future__ import annotations

import os
from pathlib import Path

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xtape.errors import RecordingError, RuntimeFailure
from xtape.recording import End, Gap, Marker, Recording, RecordingWriter, summarize
from xtape.recording.records import Tag

AWKWARD = [
    [b"1-1", [b"a", b"1", b"a", b"2", b"b", b""]],
    [b"1-2", [b"", b"\xff\xfe\x00", "ü😀".encode(), b"x" * 70_000]],
]


def write(
    path: Path, batches: list[tuple[bytes, list[list[object]], int]], version: int = 2
) -> None:
    with RecordingWriter(path, source={"url": "redis://h:6379/0"}, version=version) as writer:
        for stream, entries, capture_ns in batches:
            writer.write_entries(stream, entries, capture_ns)


def test_awkward_entries_read_back_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "a.xtape"
    write(path, [("ström:😀".encode(), AWKWARD, 5)])
    entries = list(Recording(path).entries())
    assert [(e.stream, e.id) for e in entries] == [
        ("ström:😀".encode(), b"1-1"),
        ("ström:😀".encode(), b"1-2"),
    ]
    assert entries[0].fields == ((b"a", b"1"), (b"a", b"2"), (b"b", b""))
    assert entries[1].fields == ((b"", b"\xff\xfe\x00"), ("ü😀".encode(), b"x" * 70_000))
    assert all(e.capture_ns == 5 for e in entries)


fields_st = st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=50)), min_size=1, max_size=5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=10), fields_st), min_size=1, max_size=20))
def test_any_bytes_round_trip(tmp_path_factory: pytest.TempPathFactory, items: list[tuple[bytes, list[tuple[bytes, bytes]]]]) -> None:
    path = tmp_path_factory.mktemp("rt") / "x.xtape"
    with RecordingWriter(path) as writer:
        for i, (stream, fields) in enumerate(items):
            flat = [part for pair in fields for part in pair]
            writer.write_entries(stream, [[f"{i + 1}-0".encode(), flat]], i)
    got = [(e.stream, e.fields) for e in Recording(path).entries()]
    assert got == [(stream, tuple(fields)) for stream, fields in items]


def test_batches_of_one_round_interleave_by_id(tmp_path: Path) -> None:
    path = tmp_path / "m.xtape"
    write(
        path,
        [
            (b"a", [[b"10-0", [b"k", b"a1"]], [b"30-0", [b"k", b"a2"]]], 7),
            (b"b", [[b"20-0", [b"k", b"b1"]], [b"40-0", [b"k", b"b2"]]], 7),
            (b"a", [[b"35-0", [b"k", b"a3"]]], 8),
        ],
    )
    events = list(Recording(path).events())
    assert [e.fields[0][1] for e in events] == [b"a1", b"b1", b"a2", b"b2", b"a3"]
    assert [e.offset_ns for e in events] == [0, 10_000_000, 20_000_000, 30_000_000, 25_000_000]


def test_capture_clock_offsets_follow_capture_time(tmp_path: Path) -> None:
    path = tmp_path / "c.xtape"
    write(path, [(b"a", [[b"10-0", [b"k", b"1"]]], 1_000), (b"a", [[b"11-0", [b"k", b"2"]]], 501_000)])
    assert [e.offset_ns for e in Recording(path, time_base="capture").events()] == [0, 500_000]
    unmerged = Recording(path, time_base="capture", interleave=False).events()
    assert [e.offset_ns for e in unmerged] == [0, 500_000]


@pytest.mark.parametrize("version", [1, 2])
def test_truncated_tail_is_skipped_and_reported(tmp_path: Path, version: int) -> None:
    path = tmp_path / "t.xtape"
    with RecordingWriter(path, version=version, compression="none") as writer:
        writer.write_entries(b"s", [[b"1-0", [b"k", b"v"]]], 1)
        writer.flush()
        complete = path.stat().st_size
        writer.write_entries(b"s", [[b"2-0", [b"k", b"v" * 1000]]], 2)
    # cut the file in the middle of the second entries record
    data = path.read_bytes()
    path.write_bytes(data[: complete + 500])
    rec = Recording(path)
    assert [e.id for e in rec.entries()] == [b"1-0"]
    assert rec.truncated_bytes == 500
    info = summarize(path)
    assert info.truncated_bytes == 500
    assert not info.complete
    assert info.summary == (None if version == 1 else "rebuilt")


def test_clean_close_writes_end_record(tmp_path: Path) -> None:
    path = tmp_path / "e.xtape"
    write(path, [(b"s", [[b"1-0", [b"k", b"v"]]], 1)])
    records = list(Recording(path).records())
    assert isinstance(records[-1], End)
    assert records[-1].entries == 1
    assert summarize(path).complete


def test_gaps_and_markers_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "g.xtape"
    with RecordingWriter(path) as writer:
        writer.write_entries(b"s", [[b"1-0", [b"k", b"v"]]], 1)
        writer.write_gap(b"s", b"1-0", b"9-0", 7, 2)
        writer.write_marker("reconnect", "connection lost", 3)
    info = summarize(path)
    assert [(name, g.after_id, g.before_id, g.lost) for name, g in info.gaps] == [(b"s", b"1-0", b"9-0", 7)]
    assert [(m.kind, m.text) for m in info.markers] == [("reconnect", "connection lost")]
    assert isinstance(list(Recording(path).records())[2], Gap)
    assert any(isinstance(r, Marker) for r in Recording(path).records())


def test_unknown_record_tags_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "u.xtape"
    write(path, [(b"s", [[b"1-0", [b"k", b"v"]]], 1)], version=1)
    data = path.read_bytes()
    with open(path, "wb") as fh:
        fh.write(data)
        fh.write(msgpack.packb([99, "from the future"]))
        fh.write(msgpack.packb([int(Tag.STREAM), 1, b"t"]))
        fh.write(msgpack.packb([int(Tag.ENTRIES), 1, 5, [[b"2-0", [b"k", b"w"]]]]))
    assert [(e.stream, e.id) for e in Recording(path).entries()] == [(b"s", b"1-0"), (b"t", b"2-0")]


def test_a_file_that_is_not_a_recording_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, world\n")
    with pytest.raises(RecordingError, match=r"notes.txt: not an xtape recording"):
        Recording(path)
    empty = tmp_path / "empty.xtape"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError, match="not an xtape recording"):
        Recording(empty)


def test_an_unknown_version_is_refused_with_the_next_step(tmp_path: Path) -> None:
    path = tmp_path / "v9.xtape"
    path.write_bytes(msgpack.packb({"magic": "xtape", "version": 9}))
    with pytest.raises(RecordingError, match=r"version 9 is not supported.*upgrade xtape"):
        Recording(path)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="cannot open"):
        Recording(tmp_path / "nope.xtape")


def test_writer_flushes_within_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "f.xtape"
    writer = RecordingWriter(path, flush_interval=0.0)
    writer.write_entries(b"s", [[b"1-0", [b"k", b"v"]]], 1)
    # without close, what was written is already in the file and reads back
    assert [e.id for e in Recording(path).entries()] == [b"1-0"]
    writer.close()
    assert os.path.getsize(path) > 0


def test_without_interleave_each_streams_batch_comes_whole_in_its_own_order(tmp_path: Path) -> None:
    path = tmp_path / "w.xtape"
    write(
        path,
        [
            (b"a", [[b"10-0", [b"k", b"a1"]], [b"30-0", [b"k", b"a2"]]], 7),
            (b"b", [[b"20-0", [b"k", b"b1"]], [b"40-0", [b"k", b"b2"]]], 7),
        ],
    )
    events = list(Recording(path, interleave=False).events())
    assert [e.fields[0][1] for e in events] == [b"a1", b"a2", b"b1", b"b2"]
    # the same entries as with interleaving, and the same offsets for each entry
    merged = {e.id: e for e in Recording(path).events()}
    assert {e.id: e for e in events} == merged


def test_background_writer_keeps_record_order_and_flushes_on_demand(tmp_path: Path) -> None:
    path = tmp_path / "bg.xtape"
    writer = RecordingWriter(path, background=True, flush_interval=3600)
    for i in range(50):
        writer.write_entries(b"s%d" % (i % 3), [[b"%d-0" % (i + 1), [b"k", b"v%d" % i]]], i)
        if i == 20:
            writer.write_gap(b"s0", b"1-0", b"2-0", 3, i)
            writer.write_marker("note", "half way", i)
    writer.flush()
    # flushed: everything given so far is in the file, in order, before close
    assert [e.id for e in Recording(path).entries()] == [b"%d-0" % (i + 1) for i in range(50)]
    writer.close()
    records = list(Recording(path).records())
    kinds = [type(r).__name__ for r in records]
    gap_at = kinds.index("Gap")
    assert kinds[gap_at + 1] == "Marker" and kinds[-1] == "End"
    assert isinstance(records[-1], End) and records[-1].entries == 50
    # the gap sits after the 21st batch, as it was given
    assert sum(1 for k in kinds[:gap_at] if k == "Entries") == 21


def test_background_writer_failure_is_raised_by_the_next_call(tmp_path: Path) -> None:
    path = tmp_path / "fail.xtape"
    writer = RecordingWriter(path, background=True)
    full = os.open("/dev/full", os.O_WRONLY)
    assert isinstance(writer._out, int)
    os.dup2(full, writer._out)  # the disk fills up under the writer
    os.close(full)
    writer.write_entries(b"s", [[b"1-0", [b"k", b"v"]]], 1)
    with pytest.raises(RuntimeFailure, match=r"fail\.xtape: No space left on device"):
        writer.flush()
    with pytest.raises(RuntimeFailure, match="No space left on device"):
        writer.close()  # stops the thread; the end record cannot be written either
    assert writer.closed
