"""Support for the damage tests: sound recordings to damage (v1 and v2, with every record
kind and awkward bytes, and the sample), where their records and chunks start, and what
every reading command does with a file, through the library and through the CLI."""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import msgpack

from support.e2e import invoke
from support.paths import SAMPLE
from support.recording import rewrite
from xtape.clock import FakeClock
from xtape.convert import ConvertOptions, convert
from xtape.errors import XtapeError
from xtape.recording import Recording, RecordingWriter, summarize
from xtape.recording.chunks import CHUNK_MAGIC, ChunkMeta, Compressor
from xtape.recording.jsonl import write_jsonl
from xtape.recording.records import Tag
from xtape.replay import Pacing, PrintPublisher, ReplayOptions, replay_through


def base_recording(version: int = 1, **options: Any) -> bytes:
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


BASES: list[bytes] = [base_recording(), SAMPLE.read_bytes()]


def boundaries(data: bytes) -> list[int]:
    """Where each record after the header starts (and the end)."""
    unpacker = msgpack.Unpacker(io.BytesIO(data), raw=False, strict_map_key=False)
    next(unpacker)
    bounds = [unpacker.tell()]
    for _ in unpacker:
        bounds.append(unpacker.tell())
    return bounds


BOUNDARIES = [boundaries(data) for data in BASES]


def packb(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)  # type: ignore[no-any-return]


GOOD_HEADER = {"magic": "xtape", "version": 1, "created_ns": 1, "tool": "t", "source": {}, "options": {}}


STREAM = packb([int(Tag.STREAM), 0, b"s"])


COMMANDS: list[list[str]] = [
    ["info"],
    ["info", "--json"],
    ["cat"],
    ["convert", "-o", "-"],
    ["replay", "--dry-run"],
    ["replay", "--dry-run", "--max-speed"],
]


def read_everything(data: bytes, tmp: Path) -> None:
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


def exit_0_or_one_error_line(
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


def v2_of(data: bytes, **options: Any) -> bytes:
    """The same recording written as format v2."""
    out = io.BytesIO()
    rewrite(io.BytesIO(data), out, version=2, **options)
    return out.getvalue()


#: v2 bases: one chunk (zstd), a chunk per batch (zstd and none), the sample's traffic.
V2_BASES: list[bytes] = [
    base_recording(2),
    base_recording(2, flush_interval=0.0),
    base_recording(2, flush_interval=0.0, compression="none"),
    v2_of(SAMPLE.read_bytes(), flush_interval=0.0),
]


def magic_starts(data: bytes) -> list[int]:
    """Where each chunk frame of a v2 file starts."""
    return [match.start() for match in re.finditer(re.escape(CHUNK_MAGIC), data)]


def v2_with_records(*records: bytes) -> bytes:
    """A v2 file whose one chunk (checksum right) holds these records, stream 0 = b"s"."""
    header = packb({**GOOD_HEADER, "version": 2})
    meta = ChunkMeta(5, 5, 1, 1, 1, ((0, b"s"),))
    return header + Compressor("zstd").frame(b"".join(records), meta)


def lie(data: bytearray, start: int, field: int, value: int, *, fix_crc: bool) -> None:
    """Make the chunk at ``start`` lie: its head's ``field`` (8 meta_len, 12 data_len,
    16 raw_len) set to ``value``, its checksum made right again with ``fix_crc``."""
    struct.pack_into("<I", data, start + field, value)
    if fix_crc:
        meta_len, data_len = struct.unpack_from("<II", data, start + 8)
        body = bytes(data[start + 24 : start + 24 + meta_len + data_len])
        crc = zlib.crc32(body[meta_len:], zlib.crc32(body[:meta_len], zlib.crc32(bytes(data[start : start + 20]))))
        struct.pack_into("<I", data, start + 20, crc)
