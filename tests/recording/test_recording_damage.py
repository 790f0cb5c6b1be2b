"""Damaged recordings: every shape of damage is one line "damaged at byte N" (exit 2) or
a reported skip (a truncated tail), never a traceback, in every command that reads one.

The property tests damage real recordings (the sample recording and one with gaps,
markers and awkward bytes) by truncating, flipping bits, inserting bytes and splicing
in records of the wrong types, then run every reading command on them: through the
library for thousands of cases, through the CLI in-process for hundreds, and as real
processes for a few.
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.e2e import XTAPE, invoke
from support.paths import ROOT

from xtape.clock import FakeClock
from xtape.convert import ConvertOptions, convert
from xtape.errors import DamagedRecording, RecordingError, XtapeError
from xtape.recording import Recording, RecordingWriter, summarize
from xtape.recording.chunks import CHUNK_MAGIC, ChunkMeta, Compressor
from xtape.recording.jsonl import write_jsonl
from xtape.recording.records import Entries, Gap, Marker, StreamDef, Tag
from xtape.replay import Pacing, PrintPublisher, ReplayOptions, replay_through

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

SAMPLE = ROOT / "recordings" / "sample.xtape"


def _base_recording(version: int = 1, **options: Any) -> bytes:
    """A small recording with every record kind and awkward bytes."""
    out = io.BytesIO()
    with RecordingWriter(
        out, source={"url": "redis://h/0", "patterns": ["s:*"]}, version=version, **options
    ) as writer:
        writer.write_entries(b"s:a", [[b"1700000000000-0", [b"n", b"1", b"n", b"dup"]]], 10)
        writer.write_entries(
            "s:ü\x1b".encode(), [[b"1700000000001-0", [b"bin\xff", b"\x00\x80", b"", b""]]], 10
        )
        writer.write_gap(b"s:a", b"1700000000000-0", b"1700000000005-0", 3, 20)
        writer.write_marker("reconnect", "lost \x1b[31m", 21)
        writer.write_entries(b"s:a", [[b"1700000000006-1", [b"k", b"v" * 40]]], 30)
    return out.getvalue()


BASES: list[bytes] = [_base_recording(), SAMPLE.read_bytes()]


def _boundaries(data: bytes) -> list[int]:
    """Where each record after the header starts (and the end)."""
    unpacker = msgpack.Unpacker(io.BytesIO(data), raw=False, strict_map_key=False)
    next(unpacker)
    bounds = [unpacker.tell()]
    for _ in unpacker:
        bounds.append(unpacker.tell())
    return bounds


BOUNDARIES = [_boundaries(data) for data in BASES]


def packb(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- seen cases

GOOD_HEADER = {"magic": "xtape", "version": 1, "created_ns": 1, "tool": "t", "source": {}, "options": {}}
STREAM = packb([int(Tag.STREAM), 0, b"s"])


def _entries(*entries: Any) -> bytes:
    return packb([int(Tag.ENTRIES), 0, 5, list(entries)])


#: The damage seen in the issue, each as a whole file.
SEEN: dict[str, bytes] = {
    "header map with a map key": b"\x81\x81\xa1a\x01\x01",
    "header created_ns text": packb({**GOOD_HEADER, "created_ns": "abc"}),
    "header source an array": packb({**GOOD_HEADER, "source": [1, 2]}),
    "header source holding bytes": packb({**GOOD_HEADER, "source": {"url": b"x"}}),
    "field value an int": packb(GOOD_HEADER) + STREAM + _entries([b"1-1", [b"k", 7]]),
    "field value text": packb(GOOD_HEADER) + STREAM + _entries([b"1-1", [b"k", "text"]]),
    "field value an array": packb(GOOD_HEADER) + STREAM + _entries([b"1-1", [b"k", [b"v"]]]),
    "fields a map": packb(GOOD_HEADER) + STREAM + _entries([b"1-1", {b"k": b"v"}]),
    "odd field items": packb(GOOD_HEADER) + STREAM + _entries([b"1-1", [b"k", b"v", b"x"]]),
    "id too large": packb(GOOD_HEADER) + STREAM + _entries([b"99999999999999999999999-1", [b"k", b"v"]]),
    "id not digits": packb(GOOD_HEADER) + STREAM + _entries([b"1-1", [b"k", b"v"]], [b"x-1", [b"k", b"v"]]),
    "entry of three items": packb(GOOD_HEADER) + STREAM + _entries([b"1-1", [b"k", b"v"], b"extra"]),
    "no entries": packb(GOOD_HEADER) + STREAM + _entries(),
    "stream never defined": packb(GOOD_HEADER) + _entries([b"1-1", [b"k", b"v"]]),
    "stream name text": packb(GOOD_HEADER) + packb([int(Tag.STREAM), 0, "s"]),
    "gap with a bad id": packb(GOOD_HEADER) + STREAM + packb([int(Tag.GAP), 0, 1, b"x", b"2-0", 1]),
    "marker text bytes": packb(GOOD_HEADER) + packb([int(Tag.MARKER), 1, "note", b"\xff"]),
    "capture_ns negative": packb(GOOD_HEADER) + STREAM + packb([int(Tag.ENTRIES), 0, -5, [[b"1-1", [b"k", b"v"]]]]),
    "a record that is not an array": packb(GOOD_HEADER) + packb(5),
    "a record with a bool tag": packb(GOOD_HEADER) + packb([True, 0, b"s"]),
    "an ext value": packb(GOOD_HEADER) + STREAM + packb([int(Tag.ENTRIES), 0, 5, [[b"1-1", [b"k", msgpack.ExtType(3, b"v")]]]]),
    "a huge array length": packb(GOOD_HEADER) + b"\xdd\xff\xff\xff\xf0",
    "invalid utf-8 text": packb(GOOD_HEADER) + b"\x94\x04\x01\xa4note\xa2\xff\xfe",
}

COMMANDS: list[list[str]] = [
    ["info"],
    ["info", "--json"],
    ["cat"],
    ["convert", "-o", "-"],
    ["replay", "--dry-run"],
    ["replay", "--dry-run", "--max-speed"],
]


@pytest.mark.parametrize("case", sorted(SEEN))
def test_each_seen_damage_is_one_line_exit_2_in_every_reading_command(
    tmp_path: Path, case: str
) -> None:
    path = tmp_path / "damaged.xtape"
    path.write_bytes(SEEN[case])
    for command in COMMANDS:
        result = invoke(command[0], path, *command[1:])
        assert result.exit_code == 2, (case, command, result.output)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("xtape: error: "), (case, command, lines)
        assert "Traceback" not in result.output
        assert "damaged at byte" in lines[0] or "not an xtape recording" in lines[0], lines[0]


def test_the_damage_is_located_and_named() -> None:
    data = SEEN["field value an int"]
    with pytest.raises(DamagedRecording) as caught:
        list(Recording(io.BytesIO(data)).entries())
    assert caught.value.offset == len(packb(GOOD_HEADER)) + len(STREAM)
    assert "damaged at byte" in str(caught.value) and "fields are not an array of bytes" in str(caught.value)


def test_ids_of_20_digits_below_2_64_are_kept() -> None:
    data = packb(GOOD_HEADER) + STREAM + _entries([b"18446744073709551615-18446744073709551615", [b"k", b"v"]])
    [entry] = Recording(io.BytesIO(data)).entries()
    assert entry.id == b"18446744073709551615-18446744073709551615"
    cat = io.BytesIO()
    write_jsonl(Recording(io.BytesIO(data)), cat)  # type: ignore[arg-type]
    assert json.loads(cat.getvalue())["time"] is None  # beyond what a date can show


# --------------------------------------------------------------------------- damage


#: Any msgpack value, of any type (most of them wrong wherever they land). Built once:
#: a recursive strategy built anew in every draw cost most of the fuzz tests' time.
WRONG_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=True),
        st.text(max_size=8),
        st.binary(max_size=8),
        st.just(b"1-1"),
        st.just(b"99999999999999999999999-1"),
        st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=4)),
    ),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=4) | st.integers(0, 9), inner, max_size=3),
    max_leaves=8,
)


def wrong_values() -> st.SearchStrategy[Any]:
    """Any msgpack value, of any type (most of them wrong wherever they land)."""
    return WRONG_VALUES


@st.composite
def crafted_record(draw: st.DrawFn) -> bytes:
    """A record of a known tag whose items are of the right count but any type, or an
    ENTRIES record with one item of an entry replaced."""
    tag = draw(st.sampled_from([int(t) for t in Tag]))
    sizes = {Tag.STREAM: 3, Tag.ENTRIES: 4, Tag.GAP: 6, Tag.MARKER: 4, Tag.END: 3}
    if tag == Tag.ENTRIES and draw(st.booleans()):
        entry: list[Any] = [b"1700000000009-0", [b"k", b"v"]]
        where = draw(st.sampled_from(["id", "fields", "field", "entry"]))
        value = draw(wrong_values())
        if where == "id":
            entry[0] = value
        elif where == "fields":
            entry[1] = value
        elif where == "field":
            entry[1][draw(st.integers(0, 1))] = value
        else:
            entry.append(value)
        return packb([tag, 0, 5, [entry]])
    items = [draw(wrong_values()) for _ in range(sizes[Tag(tag)] - 1)]
    return packb([tag, *items])


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A base recording with records of wrong types spliced in at record boundaries,
    then cut, bit-flipped or with bytes inserted anywhere; at least one of these."""
    base = draw(st.integers(0, len(BASES) - 1))
    data = bytearray(BASES[base])
    crafts = draw(
        st.lists(st.tuples(st.sampled_from(BOUNDARIES[base]), crafted_record()), max_size=2)
    )
    for at, record in sorted(crafts, key=lambda c: c[0], reverse=True):
        data[at:at] = record
    hows = st.sampled_from(["truncate", "flip", "flip", "insert"])
    for how in draw(st.lists(hows, min_size=0 if crafts else 1, max_size=3)):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "truncate":
            del data[at:]
        elif how == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


def _read_everything(data: bytes, tmp: Path) -> None:
    """What info, info --json, cat, convert and replay --dry-run do, through the library;
    only XtapeError may come out (any other exception fails the test)."""
    path = tmp / "d.xtape"
    path.write_bytes(data)
    steps = [
        lambda: json.dumps(summarize(path).to_dict()),
        lambda: write_jsonl(Recording(path), io.BytesIO()),  # type: ignore[arg-type]
        lambda: write_jsonl(Recording(path), io.BytesIO(), objects=True),  # type: ignore[arg-type]
        lambda: convert(path, io.StringIO(), ConvertOptions()),
        lambda: convert(
            path, io.StringIO(), ConvertOptions(time_base="capture", collapse_repeats=True, jitter=5e-9)
        ),
        lambda: replay_through(
            Recording(path, interleave=False),
            PrintPublisher(io.StringIO(), verbose=True),
            ReplayOptions(pacing=Pacing.max_speed()),
            clock=FakeClock.starting_now(),
        ),
    ]
    for step in steps:
        try:
            step()
        except XtapeError as exc:
            assert exc.exit_code == 2 or "no entries match" in str(exc), exc
            assert "\n" not in str(exc)


def _exit_0_or_one_error_line(
    path: Path, data: bytes, command: list[str], also_before: tuple[str, ...] = ()
) -> None:
    """``command`` on a file of ``data`` in the CLI exits 0, or 2 with one error line on
    stderr after its warnings (and lines starting with ``also_before``)."""
    path.write_bytes(data)
    result = invoke(command[0], path, *command[1:])  # raises on an escaped exception
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        errors = [line for line in lines if not line.startswith(("xtape: warning: ", *also_before))]
        assert len(errors) == 1 and errors[0].startswith("xtape: error: "), lines


@pytest.mark.timeout(900)  # 2,500 cases of six commands: about a minute on 2 quiet cores
@settings(
    max_examples=2500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(damaged())
def test_damaged_recordings_never_raise_anything_but_one_line_errors(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    _read_everything(data, tmp_path_factory.getbasetemp())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged(), st.sampled_from(COMMANDS))
def test_damaged_recordings_in_the_cli_exit_0_or_2_without_traceback(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, command: list[str]
) -> None:
    # one error line (after warnings, such as a truncated tail)
    _exit_0_or_one_error_line(tmp_path_factory.getbasetemp() / "cli.xtape", data, command)


def test_damaged_recordings_as_processes_exit_0_or_2_without_traceback(tmp_path: Path) -> None:
    cases = {
        "cut": BASES[1][: len(BASES[1]) // 2],
        "flipped": SEEN["field value an int"],
        "header": SEEN["header map with a map key"],
        "id": SEEN["id too large"],
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.xtape"
        path.write_bytes(data)
        for command in (["info"], ["cat"], ["convert", "-o", "-"], ["replay", "--dry-run"]):
            proc = subprocess.run(
                [XTAPE, command[0], str(path), *command[1:]],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert proc.returncode in (0, 2), (name, command, proc.stderr)
            assert "Traceback" not in proc.stderr, (name, command, proc.stderr)
            if name != "cut":
                assert proc.returncode == 2 and proc.stderr.count("\n") == 1, (name, proc.stderr)
            else:
                assert proc.returncode == 0, (command, proc.stderr)
                if command[0] in ("info", "cat"):  # (convert's report is convert's)
                    assert "incomplete record" in proc.stdout + proc.stderr, command


def test_a_truncated_recording_is_a_reported_skip(tmp_path: Path) -> None:
    path = tmp_path / "cut.xtape"
    path.write_bytes(BASES[0][:-3])
    result = invoke("cat", path)
    assert result.exit_code == 0
    assert "bytes are an incomplete record (skipped)" in result.stderr
    with pytest.raises(RecordingError, match="not an xtape recording"):
        Recording(io.BytesIO(BASES[0][:5]))


# --------------------------------------------------------------------------- format v2


def _v2_of(data: bytes, **options: Any) -> bytes:
    """The same recording written as format v2."""
    rec = Recording(io.BytesIO(data))
    out = io.BytesIO()
    names: dict[int, bytes] = {}
    with RecordingWriter(out, version=2, **options) as writer:
        for record in rec.records():
            if isinstance(record, Entries):
                name = names[record.stream_id]
                writer.write_entries(name, [list(e) for e in record.entries], record.capture_ns)
            elif isinstance(record, StreamDef):
                names[record.stream_id] = record.name
            elif isinstance(record, Gap):
                writer.write_gap(
                    names[record.stream_id], record.after_id, record.before_id, record.lost, record.capture_ns
                )
            elif isinstance(record, Marker):
                writer.write_marker(record.kind, record.text, record.capture_ns)
    return out.getvalue()


#: v2 bases: one chunk (zstd), a chunk per batch (zstd and none), the sample's traffic.
V2_BASES: list[bytes] = [
    _base_recording(2),
    _base_recording(2, flush_interval=0.0),
    _base_recording(2, flush_interval=0.0, compression="none"),
    _v2_of(SAMPLE.read_bytes(), flush_interval=0.0),
]


def _chunk_starts(data: bytes) -> list[int]:
    """Where each chunk frame of a v2 file starts."""
    return [match.start() for match in re.finditer(re.escape(CHUNK_MAGIC), data)]


def _v2_with_records(*records: bytes) -> bytes:
    """A v2 file whose one chunk (checksum right) holds these records, stream 0 = b"s"."""
    header = packb({**GOOD_HEADER, "version": 2})
    meta = ChunkMeta(5, 5, 1, 1, 1, ((0, b"s"),))
    return header + Compressor("zstd").frame(b"".join(records), meta)


@st.composite
def damaged_v2(draw: st.DrawFn) -> bytes:
    """A v2 recording cut, bit-flipped, with bytes inserted, or with a chunk's lengths
    lying (its checksum made right again or not); or a chunk of wrongly shaped records."""
    if draw(st.integers(0, 4)) == 0:
        return _v2_with_records(*draw(st.lists(crafted_record(), min_size=1, max_size=3)))
    data = bytearray(V2_BASES[draw(st.integers(0, len(V2_BASES) - 1))])
    hows = st.sampled_from(["truncate", "flip", "flip", "insert", "lie", "lie-crc"])
    for how in draw(st.lists(hows, min_size=1, max_size=3)):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "truncate":
            del data[at:]
        elif how == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif how.startswith("lie"):
            starts = _chunk_starts(bytes(data))
            if not starts:
                continue
            start = draw(st.sampled_from(starts))
            field = draw(st.sampled_from([8, 12, 16]))  # meta_len, data_len, raw_len
            if start + 24 > len(data):
                continue
            value = draw(st.sampled_from([0, 1, 2**31, 2**32 - 1]) | st.integers(0, 4096))
            struct.pack_into("<I", data, start + field, value)
            if how == "lie-crc":
                meta_len, data_len = struct.unpack_from("<II", data, start + 8)
                body = bytes(data[start + 24 : start + 24 + meta_len + data_len])
                crc = zlib.crc32(body[meta_len:], zlib.crc32(body[:meta_len], zlib.crc32(bytes(data[start : start + 20]))))
                struct.pack_into("<I", data, start + 20, crc)
    return bytes(data)


@settings(
    max_examples=2500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(damaged_v2())
def test_damaged_v2_recordings_never_raise_anything_but_one_line_errors(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    _read_everything(data, tmp_path_factory.getbasetemp())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_v2(), st.sampled_from(COMMANDS))
def test_damaged_v2_recordings_in_the_cli_exit_0_or_2_without_traceback(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, command: list[str]
) -> None:
    # one error line, after warnings and (a replay stopped midway) its report
    _exit_0_or_one_error_line(
        tmp_path_factory.getbasetemp() / "cli2.xtape",
        data,
        command,
        also_before=("scheduled ", "replayed "),
    )


def test_a_flipped_byte_in_a_v2_chunk_is_reported_as_damage(tmp_path: Path) -> None:
    data = bytearray(V2_BASES[2])  # uncompressed: the flipped byte is a field value
    at = data.index(b"v" * 40) + 3
    data[at] ^= 0x01
    path = tmp_path / "flip.xtape"
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedRecording, match="checksum mismatch"):
        list(Recording(path).entries())
    result = invoke("cat", path)
    assert result.exit_code == 2 and "checksum mismatch" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_v2_file_that_lost_its_end_reads_every_complete_chunk(tmp_path: Path) -> None:
    data = V2_BASES[1]  # a chunk per batch
    starts = _chunk_starts(data)
    path = tmp_path / "lost.xtape"
    path.write_bytes(data[: starts[-1] + 10])  # the last chunk cut, no summary
    rec = Recording(path)
    ids = [e.id for e in rec.entries()]
    assert ids == [b"1700000000000-0", b"1700000000001-0"]
    assert rec.summary is not None and rec.summary.rebuilt and rec.truncated_bytes == 10
    text = invoke("info", path).stdout
    assert "summary:   rebuilt by scanning" in text and "complete:  no" in text
