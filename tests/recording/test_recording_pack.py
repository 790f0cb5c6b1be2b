"""The writer's packer (msgpack's strict fast path) writes exactly what the default
packer writes, so recordings are byte for byte what they were."""

from __future__ import annotations

import io
from enum import IntEnum
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xtape.recording.writer as writer_module
from xtape.recording import Recording, RecordingWriter
from xtape.recording.records import Tag
from xtape.recording.writer import packer


class Level(IntEnum):
    LOW = 1
    HIGH = 300


class Name(bytes):
    pass


class Text(str):
    pass


class Flat(list):  # type: ignore[type-arg]
    pass


class Attrs(dict):  # type: ignore[type-arg]
    pass


def default_pack(obj: Any) -> bytes:
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False),
    st.binary(max_size=40),
    st.binary(max_size=10).map(Name),
    st.binary(max_size=10).map(bytearray),
    st.text(max_size=20),
    st.text(max_size=10).map(Text),
    st.sampled_from([*Tag, *Level]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.lists(inner, max_size=6).map(tuple),
        st.lists(inner, max_size=6).map(Flat),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4).map(Attrs),
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_the_strict_packer_writes_the_bytes_of_the_default_packer(value: Any) -> None:
    assert packer().pack(value) == default_pack(value)


def test_what_the_default_packer_refuses_the_strict_packer_refuses() -> None:
    for value in (object(), {1, 2}, 2**64):
        with pytest.raises((TypeError, OverflowError)) as default_error:
            default_pack(value)
        with pytest.raises(default_error.type):
            packer().pack(value)


def _batches() -> list[tuple[bytes, list[Any], int]]:
    """Batches as a recorder (lists from hiredis) or a library user (tuples, other
    byte types) may give them: duplicate names, empty names and values, non-UTF-8."""
    return [
        (b"s1", [[b"1-1", [b"a", b"1", b"a", b"2", b"", b""]], [b"1-2", [b"\xff\xfe", b"\x00\x80"]]], 10),
        (b"s\xff", [(b"2-0", (b"k", b"v" * 300)), (b"2-1", [b"k", bytearray(b"\xc0")])], 20),
        (b"s1", [[b"3-0", [Name(b"n"), b"x" * 70_000, b"n", b""]]], 30),
    ]


def _records(data: bytes) -> list[bytes]:
    """The bytes of each msgpack object in a v1 file, the header and END left out."""
    unpacker = msgpack.Unpacker(io.BytesIO(data), raw=True, strict_map_key=False)
    out: list[bytes] = []
    start = 0
    for _ in unpacker:
        end = unpacker.tell()
        out.append(data[start:end])
        start = end
    return out[1:-1]


def test_a_file_holds_the_bytes_the_default_packer_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def write(path: Path) -> None:
        with RecordingWriter(path, version=1) as writer:
            for stream, entries, ns in _batches():
                writer.write_entries(stream, entries, ns)
            writer.write_gap(b"s1", b"3-0", b"4-0", 2, 40)
            writer.write_marker("reconnect", "reconnected after 0.1s: é", 50)

    write(tmp_path / "strict.xtape")
    monkeypatch.setattr(writer_module, "packer", lambda: msgpack.Packer(use_bin_type=True))
    write(tmp_path / "default.xtape")
    strict = _records((tmp_path / "strict.xtape").read_bytes())
    assert len(strict) == 7  # 2 stream definitions, 3 batches, a gap, a marker
    assert strict == _records((tmp_path / "default.xtape").read_bytes())


@pytest.mark.parametrize("compression", ["zstd", "lz4", "none"])
def test_entries_read_back_byte_exact_whatever_sequence_types(tmp_path: Path, compression: str) -> None:
    path = tmp_path / "r.xtape"
    with RecordingWriter(path, compression=compression, background=True) as writer:
        for stream, entries, ns in _batches():
            writer.write_entries(stream, entries, ns)
    got = [(e.stream, e.id, [part for pair in e.fields for part in pair]) for e in Recording(path).entries()]
    want = [
        (stream, bytes(entry_id), [bytes(part) for part in flat])
        for stream, entries, _ in _batches()
        for entry_id, flat in entries
    ]
    assert got == want
    assert all(type(part) is bytes for _, _, flat in got for part in flat)
