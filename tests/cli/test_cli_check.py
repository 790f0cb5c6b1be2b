"""``xtape check``: every chunk read, every checksum and the summary verified, each problem
with its byte offset (exit 0 sound, 1 problems, 2 not a recording); ``--repair -o OUT``
writes what is sound into a new file."""

from __future__ import annotations

import struct
from pathlib import Path

from support.e2e import invoke
from support.paths import ROOT
from support.recording import chunk_starts, ghost, resummarize, thousand

from xtape.recording import Recording, RecordingWriter
from xtape.recording.chunks import SUMMARY_MAGIC
from xtape.recording.split import SplitWriter

SAMPLE = ROOT / "recordings" / "sample.xtape"


def _flip_data(data: bytearray, chunk: int) -> None:
    """Flip the last byte of a chunk's compressed data (its head and meta stay sound)."""
    meta_len, data_len = struct.unpack_from("<II", data, chunk + 8)
    data[chunk + 24 + meta_len + data_len - 1] ^= 0xFF


def test_a_sound_recording_is_sound(tmp_path: Path) -> None:
    result = invoke("check", thousand(tmp_path / "ok.xtape"))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("sound: 10 of 10 chunks sound, 1,000 entries; the summary matches them")


def test_every_damaged_chunk_is_reported_with_its_offset_and_reading_goes_on(tmp_path: Path) -> None:
    data = bytearray(thousand(tmp_path / "ok.xtape").read_bytes())
    starts = chunk_starts(bytes(data))
    for k in (2, 3, 7):
        _flip_data(data, starts[k])
    path = tmp_path / "flipped.xtape"
    path.write_bytes(bytes(data))
    # info reads the summary alone, and says so
    info = invoke("info", path)
    assert info.exit_code == 0 and "chunks not verified" in info.stdout
    result = invoke("check", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"{path}: byte {starts[k]}: chunk checksum mismatch (the chunk's bytes changed)" for k in (2, 3, 7)]
    assert lines[3] == f"{path}: 3 problems: 7 of 10 chunks sound, 700 entries; the summary's index matches the chunks' heads"


def test_a_summary_that_lies_is_a_problem_at_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "ghost.xtape"
    data = resummarize(thousand(tmp_path / "ok.xtape").read_bytes(), ghost)
    path.write_bytes(data)
    result = invoke("check", path)
    assert result.exit_code == 1
    at = data.rindex(SUMMARY_MAGIC)
    assert f"{path}: byte {at}: the summary counts 100,000,504 entries, its chunks 1,000" in result.stdout
    assert "the summary does not match them" in result.stdout


def test_a_lost_end_and_a_lying_length_are_told_apart(tmp_path: Path) -> None:
    data = bytearray(thousand(tmp_path / "ok.xtape").read_bytes())
    del data[data.rindex(SUMMARY_MAGIC) :]
    starts = chunk_starts(bytes(data))
    cut = tmp_path / "cut.xtape"
    cut.write_bytes(bytes(data[: starts[-1] + 30]))
    result = invoke("check", cut)
    assert result.exit_code == 1
    assert f"byte {starts[-1]}: the last 30 bytes are an incomplete chunk" in result.stdout
    assert "no summary at the end" in result.stdout
    struct.pack_into("<I", data, starts[1] + 12, 10_000_000)
    lying = tmp_path / "lying.xtape"
    lying.write_bytes(bytes(data))
    result = invoke("check", lying)
    assert result.exit_code == 1
    assert f"byte {starts[1]}: a chunk's length runs past the end of the file, but a sound frame follows at byte {starts[2]}" in result.stdout
    assert "9 of 10 chunks sound, 900 entries" in result.stdout


def test_repair_writes_what_is_sound_into_a_new_file(tmp_path: Path) -> None:
    data = bytearray(thousand(tmp_path / "ok.xtape", markers=True).read_bytes())
    _flip_data(data, chunk_starts(bytes(data))[4])
    path = tmp_path / "flipped.xtape"
    path.write_bytes(bytes(data))
    out = tmp_path / "repaired.xtape"
    result = invoke("check", path, "--repair", "-o", out)
    assert result.exit_code == 1  # the input has problems
    assert f"wrote {out}: " in result.stderr
    assert invoke("check", out).exit_code == 0
    kept = [e.id for e in Recording(out).entries()]
    whole = [e.id for e in Recording(tmp_path / "ok.xtape").entries()]
    assert len(kept) < len(whole) and set(kept) < set(whole)
    assert [m.text for m in Recording(out).markers()] == [m.text for m in Recording(tmp_path / "ok.xtape").markers()][: len(Recording(out).markers())]
    # never over an input, never over a file without --force
    before = out.read_bytes()
    refused = invoke("check", path, "--repair", "-o", out)
    assert refused.exit_code == 2 and "--force" in refused.stderr and out.read_bytes() == before
    refused = invoke("check", path, "--repair", "-o", path, "--force")
    assert refused.exit_code == 2 and "is also an input" in refused.stderr and path.read_bytes() == bytes(data)
    assert invoke("check", path, "--repair").exit_code == 2
    assert invoke("check", path, "-o", out).exit_code == 2


def test_v1_files_and_split_directories(tmp_path: Path) -> None:
    assert invoke("check", SAMPLE).exit_code == 0
    data = bytearray(SAMPLE.read_bytes())
    data[len(data) // 2] = 0xC1  # never used in msgpack
    broken = tmp_path / "v1.xtape"
    broken.write_bytes(bytes(data))
    result = invoke("check", broken)
    assert result.exit_code == 1 and f"{broken}: byte " in result.stdout
    folder = tmp_path / "split"
    writer = SplitWriter(folder, split_size=2_000, flush_interval=0.0)
    for i in range(200):
        writer.write_entries(b"s", [[f"{1700000000000 + i}-0".encode(), [b"k", b"v" * 30]]], 10 + i)
    writer.close()
    files = sorted(folder.iterdir())
    assert len(files) > 1
    ok = invoke("check", folder)
    assert ok.exit_code == 0 and len(ok.stdout.splitlines()) == len(files)
    second = bytearray(files[1].read_bytes())
    _flip_data(second, chunk_starts(bytes(second))[0])
    files[1].write_bytes(bytes(second))
    bad = invoke("check", folder)
    assert bad.exit_code == 1 and f"{files[1]}: byte " in bad.stdout


def test_what_is_not_a_recording_is_exit_2(tmp_path: Path) -> None:
    text = tmp_path / "notes.xtape"
    text.write_text("hello\n")
    result = invoke("check", text)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "not an xtape recording" in result.stderr
    with RecordingWriter(tmp_path / "empty.xtape"):
        pass
    assert invoke("check", tmp_path / "empty.xtape").exit_code == 0
