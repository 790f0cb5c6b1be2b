"""Every single damage, once: the damage the property tests of test_recording_damage.py
draw at random (a cut, a flipped bit, inserted bytes, a record of the wrong shape, a
chunk whose lengths lie), made here at every place where it changes what a reader
meets (every byte of the small recordings, records and chunks all over the
sample), each read by every reading command through the library. Only a one-line
:class:`~xtape.errors.XtapeError` may come out. The property tests then only need to
try combinations, with far fewer cases.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
from support.damage import (
    BASES,
    BOUNDARIES,
    COMMANDS,
    GOOD_HEADER,
    V2_BASES,
    exit_0_or_one_error_line,
    lie,
    magic_starts,
    packb,
    read_everything,
    v2_with_records,
)

from xtape.recording.chunks import SUMMARY_MAGIC
from xtape.recording.records import Tag

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

#: A value of each msgpack type, and the ones a reader must look at twice (an id that
#: is no id, one too large, a float, an empty text): a record's item can be any of them.
WRONG: list[Any] = [
    None, True, -1, 2**64 - 1, 1.5, float("nan"), "", "text", b"", b"bytes", b"1-1",
    b"99999999999999999999999-1", [], [b"k"], {}, {"k": 1}, msgpack.ExtType(3, b"v"),
]  # fmt: skip

#: Each record kind's items as a sound record has them.
RIGHT: dict[Tag, list[Any]] = {
    Tag.STREAM: [0, b"s"],
    Tag.ENTRIES: [0, 5, [[b"1700000000009-0", [b"k", b"v"]]]],
    Tag.GAP: [0, 5, b"1-1", b"2-1", 1],
    Tag.MARKER: [5, "note", "text"],
    Tag.END: [5, 1],
}


def crafted_records() -> Iterator[tuple[str, bytes]]:
    """Each record kind with each of its items, in turn, of each wrong type (the others
    right), one item short and one too many; an entry whose id, fields, field name,
    field value or an extra item is of each wrong type."""
    for tag, right in RIGHT.items():
        yield f"{tag.name} short", packb([int(tag), *right[:-1]])
        yield f"{tag.name} long", packb([int(tag), *right, 0])
        for at in range(len(right)):
            for value in WRONG:
                items = list(right)
                items[at] = value
                yield f"{tag.name}[{at}]={value!r}", packb([int(tag), *items])
    for value in WRONG:
        for where in ("id", "fields", "name", "value", "extra"):
            entry: list[Any] = [b"1700000000009-0", [b"k", b"v"]]
            if where == "id":
                entry[0] = value
            elif where == "fields":
                entry[1] = value
            elif where in ("name", "value"):
                entry[1][where == "value"] = value
            else:
                entry.append(value)
            yield f"entry {where}={value!r}", packb([int(Tag.ENTRIES), 0, 5, [entry]])


#: Bytes inserted: a type byte never used, a nil, a 32-bit array's head, an int's.
INSERTED = [b"\xc1", b"\x00", b"\xdd", b"\xff"]


def v1_damage() -> Iterator[tuple[str, bytes]]:
    small, sample = BASES
    for at in range(len(small)):  # every byte of the small recording
        yield f"cut at {at}", small[:at]
        yield f"flip {at}", flip(small, at, at % 8)
    for at in BOUNDARIES[0]:
        for extra in INSERTED:
            yield f"insert {extra!r} at {at}", small[:at] + extra + small[at:]
    for n, at in enumerate(BOUNDARIES[1][:-1:12]):  # records all over the sample
        yield f"sample cut at {at}", sample[:at]
        yield f"sample cut at {at + 1}", sample[: at + 1]
        yield f"sample flip {at}", flip(sample, at, n % 8)
        yield f"sample flip {at + 1}", flip(sample, at + 1, n % 8)
        yield f"sample insert at {at}", sample[:at] + INSERTED[n % 4] + sample[at:]
    for name, record in crafted_records():
        for at in (BOUNDARIES[0][0], BOUNDARIES[0][-1]):  # after the header, at the end
            yield f"{name} at {at}", small[:at] + record + small[at:]
    older = packb([int(Tag.ENTRIES), 0, 5, [[b"1699999999999-0", [b"k", b"v"]]]])
    yield "an entry older than the first", small + older
    awkward = [b"?", b"-", b"- x", b":", b"#c", b"? y", b"a: b", b" lead", b"trail ", b"\xff\xfe", b"-1"]
    flat = [text for name in awkward for text in (name, name)]
    yield "awkward text", small + packb([int(Tag.ENTRIES), 0, 5, [[b"1700000000009-0", flat]]])
    body = small[BOUNDARIES[0][0] :]
    for version in (1, 2):
        for name, header in headers(version):
            yield f"v{version} {name}", header + (body if version == 1 else b"")


def headers(version: int) -> Iterator[tuple[str, bytes]]:
    """The header map with each of its values of each wrong type, one key missing, and
    the sound header as a 16- and a 32-bit map (as another writer may write it)."""
    good = {**GOOD_HEADER, "version": version}
    for key in good:
        yield f"header without {key}", packb({k: v for k, v in good.items() if k != key})
        for value in WRONG:
            yield f"header {key}={value!r}", packb({**good, key: value})
    items = packb(good)[1:]
    yield "header as a map 16", b"\xde" + len(good).to_bytes(2, "big") + items
    yield "header as a map 32", b"\xdf" + len(good).to_bytes(4, "big") + items
    yield "header as a map 32 of one more item", b"\xdf" + (len(good) + 1).to_bytes(4, "big") + items


def v2_damage() -> Iterator[tuple[str, bytes]]:
    zstd, plain = V2_BASES[1], V2_BASES[2]  # a chunk per batch, compressed or not
    for at in framing(zstd):
        yield f"v2 cut at {at}", zstd[:at]
    for at in framing(plain):
        yield f"v2 flip {at}", flip(plain, at, at % 8)
    for b, base in enumerate(V2_BASES[:3]):
        for at in magic_starts(base):
            yield from lies(f"v2 base {b}", base, at)
            for extra in INSERTED:
                yield f"v2 base {b} insert {extra!r} at {at}", base[:at] + extra + base[at:]
    sample = V2_BASES[3]
    starts = magic_starts(sample)
    for at in starts[::36]:  # chunks all over the sample
        for cut in (at, at + 8, at + 24):
            yield f"v2 sample cut at {cut}", sample[:cut]
    for at in range(len(sample) - 40, len(sample), 8):  # its summary's end and the trailer
        yield f"v2 sample cut at {at}", sample[:at]
        yield f"v2 sample flip {at}", flip(sample, at, at % 8)
    yield from lies("v2 sample", sample, starts[-1])
    summary = zstd.rindex(SUMMARY_MAGIC)
    unclosed = zstd[:summary]  # what a killed recorder leaves
    for at in magic_starts(unclosed):
        yield from lies("v2 unclosed", unclosed, at)
    starts = magic_starts(zstd)
    for end in (summary + 12, summary + 40):  # killed while writing the summary
        for at in starts:
            for fix_crc in (False, True):
                data = bytearray(zstd[:end])
                lie(data, at, 12, 2**31, fix_crc=fix_crc)
                yield f"v2 cut at {end}, chunk at {at} lying", bytes(data)
    for at, after in itertools.pairwise(starts):  # a lying chunk before a damaged one
        data = bytearray(unclosed)
        lie(data, at, 12, 2**31, fix_crc=True)
        yield f"v2 unclosed, chunk at {at} lying, the next flipped", flip(bytes(data), after + 30, 0)
    for name, record in crafted_records():
        yield f"v2 chunk of {name}", v2_with_records(record)


def framing(base: bytes) -> list[int]:
    """The bytes of ``base`` where a cut or a flip meets something new: all of the header
    and of each chunk's and the summary's head (and the first bytes of what follows),
    every byte of the trailer, and every 16th byte of the compressed data between."""
    frames = [*magic_starts(base), base.rindex(SUMMARY_MAGIC)]
    places = set(range(frames[0])) | set(range(len(base) - 24, len(base))) | set(range(0, len(base), 16))
    for at in frames:
        places |= set(range(at, min(at + 32, len(base))))
    return sorted(places)


def lies(name: str, base: bytes, start: int) -> Iterator[tuple[str, bytes]]:
    """The chunk at ``start`` with each of its lengths lying, checksum right or not."""
    for field in (8, 12, 16):  # meta_len, data_len, raw_len
        (true,) = struct.unpack_from("<I", base, start + field)
        for value in (0, 1, true - 1, true + 1, 2**31, 2**32 - 1):
            for fix_crc in (False, True):
                data = bytearray(base)
                lie(data, start, field, value % 2**32, fix_crc=fix_crc)
                yield f"{name} chunk at {start} field {field}={value} crc {fix_crc}", bytes(data)


def flip(data: bytes, at: int, bit: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 1 << bit
    return bytes(out)


def read_all(cases: Iterator[tuple[str, bytes]], tmp: Path) -> tuple[int, list[str]]:
    """How many cases, and the ones where anything but a one-line error came out."""
    count, failures = 0, []
    for name, data in cases:
        count += 1
        try:
            read_everything(data, tmp)
        except Exception as exc:  # any other exception, or a failed check, is a finding
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    return count, failures


def test_every_single_damage_to_a_v1_recording_is_a_one_line_error(tmp_path: Path) -> None:
    count, failures = read_all(v1_damage(), tmp_path)
    assert count > 1000  # (the cases above; a sweep that made none would pass)
    assert failures == []


def test_every_single_damage_to_a_v2_recording_is_a_one_line_error(tmp_path: Path) -> None:
    count, failures = read_all(v2_damage(), tmp_path)
    assert count > 1000  # (the cases above; a sweep that made none would pass)
    assert failures == []


def readable_damage() -> Iterator[tuple[str, bytes]]:
    """Damaged files the commands still read (a reported skip, a rebuilt summary)."""
    small, sample = BASES
    yield "a cut record", sample[: BOUNDARIES[1][len(BOUNDARIES[1]) // 2] + 3]
    yield "a cut chunk", V2_BASES[3][: magic_starts(V2_BASES[3])[-1] + 30]
    yield "no summary", V2_BASES[1][: V2_BASES[1].rindex(SUMMARY_MAGIC)]
    yield "a cut header", small[:20]
    yield "sound", small
    for name, header in headers(1):
        if "map 16" in name or "map 32" in name:
            yield name, header + small[BOUNDARIES[0][0] :]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_readable_damage_in_the_cli_is_read_with_warnings(tmp_path: Path, command: list[str]) -> None:
    """What a damaged file still holds is shown (info's text and sparklines, cat, a
    scenario, a replay), with the damage as a warning; or one error line."""
    for name, data in readable_damage():
        try:
            exit_0_or_one_error_line(tmp_path / "damaged.xtape", data, command, also_before=("scheduled ", "replayed "))
        except AssertionError as exc:
            raise AssertionError(name) from exc
