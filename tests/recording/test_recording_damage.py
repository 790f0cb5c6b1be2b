"""Damaged recordings: every shape of damage is one line "damaged at byte N" (exit 2) or
a reported skip (a truncated tail), never a traceback, in every command that reads one.

The property tests damage real recordings (the sample recording and one with gaps,
markers and awkward bytes) by truncating, flipping bits, inserting bytes and splicing
in records of the wrong types, several at once, then run every reading command on them:
through the library for hundreds of cases, through the CLI in-process for a hundred, and
as real processes for a few. Each single damage at every place it matters is made once
in test_recording_damage_sweep.py (thousands of cases, no drawing), so the random
combinations here need far fewer cases than when they had to find those too.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.damage import (
    BASES,
    BOUNDARIES,
    COMMANDS,
    GOOD_HEADER,
    STREAM,
    V2_BASES,
    exit_0_or_one_error_line,
    lie,
    magic_starts,
    packb,
    read_everything,
    v2_with_records,
)
from support.e2e import XTAPE, invoke

from xtape.errors import DamagedRecording, RecordingError
from xtape.recording import Recording
from xtape.recording.jsonl import write_jsonl
from xtape.recording.records import Tag

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

# --------------------------------------------------------------------------- seen cases


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
        cut_flip_or_insert(draw, data, how)
    return bytes(data)


def cut_flip_or_insert(draw: st.DrawFn, data: bytearray, how: str) -> None:
    """At a drawn place in ``data``: cut it there (``truncate``), flip a bit (``flip``)
    or insert a few bytes (``insert``); any other ``how`` only draws the place."""
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    if how == "truncate":
        del data[at:]
    elif how == "flip" and data:
        data[at] ^= 1 << draw(st.integers(0, 7))
    elif how == "insert":
        data[at:at] = draw(st.binary(min_size=1, max_size=8))


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(damaged())
def test_damaged_recordings_never_raise_anything_but_one_line_errors(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    read_everything(data, tmp_path_factory.getbasetemp())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged(), st.sampled_from(COMMANDS))
def test_damaged_recordings_in_the_cli_exit_0_or_2_without_traceback(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, command: list[str]
) -> None:
    # one error line (after warnings, such as a truncated tail)
    exit_0_or_one_error_line(tmp_path_factory.getbasetemp() / "cli.xtape", data, command)


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


@st.composite
def damaged_v2(draw: st.DrawFn) -> bytes:
    """A v2 recording cut, bit-flipped, with bytes inserted, or with a chunk's lengths
    lying (its checksum made right again or not); or a chunk of wrongly shaped records."""
    if draw(st.integers(0, 4)) == 0:
        return v2_with_records(*draw(st.lists(crafted_record(), min_size=1, max_size=3)))
    data = bytearray(V2_BASES[draw(st.integers(0, len(V2_BASES) - 1))])
    hows = st.sampled_from(["truncate", "flip", "flip", "insert", "lie", "lie-crc"])
    for how in draw(st.lists(hows, min_size=1, max_size=3)):
        cut_flip_or_insert(draw, data, how)
        if how.startswith("lie"):
            starts = magic_starts(bytes(data))
            if not starts:
                continue
            start = draw(st.sampled_from(starts))
            field = draw(st.sampled_from([8, 12, 16]))  # meta_len, data_len, raw_len
            if start + 24 > len(data):
                continue
            value = draw(st.sampled_from([0, 1, 2**31, 2**32 - 1]) | st.integers(0, 4096))
            lie(data, start, field, value, fix_crc=how == "lie-crc")
    return bytes(data)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(damaged_v2())
def test_damaged_v2_recordings_never_raise_anything_but_one_line_errors(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    read_everything(data, tmp_path_factory.getbasetemp())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_v2(), st.sampled_from(COMMANDS))
def test_damaged_v2_recordings_in_the_cli_exit_0_or_2_without_traceback(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, command: list[str]
) -> None:
    # one error line, after warnings and (a replay stopped midway) its report
    exit_0_or_one_error_line(
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
    starts = magic_starts(data)
    path = tmp_path / "lost.xtape"
    path.write_bytes(data[: starts[-1] + 10])  # the last chunk cut, no summary
    rec = Recording(path)
    ids = [e.id for e in rec.entries()]
    assert ids == [b"1700000000000-0", b"1700000000001-0"]
    assert rec.summary is not None and rec.summary.rebuilt and rec.truncated_bytes == 10
    text = invoke("info", path).stdout
    assert "summary:   rebuilt by scanning" in text and "complete:  no" in text
