"""``xtape merge``: recordings into one, in id-time order; duplicates only if identical."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from xtape.cli import app
from xtape.recording import Recording, RecordingWriter

runner = CliRunner()


def write(path: Path, streams: dict[bytes, list[tuple[int, list[bytes]]]], gap: bool = False) -> None:
    """Each stream's entries as ``(ms, flat fields)``, one batch per entry, in ms order."""
    items = sorted((ms, name, flat) for name, entries in streams.items() for ms, flat in entries)
    with RecordingWriter(path, source={"url": f"redis://{path.stem}"}) as writer:
        for ms, name, flat in items:
            writer.write_entries(name, [[b"%d-0" % ms, flat]], ms * 1_000_000)
        if gap:
            writer.write_gap(b"a", b"1-0", b"3-0", 1, 3_000_000)
        writer.write_marker("note", "hello", 5_000_000)


def ids(path: Path) -> list[tuple[bytes, bytes]]:
    return [(e.stream, e.id) for e in Recording(path).entries()]


def test_shards_are_merged_in_entry_id_time_order(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    write(a, {b"a": [(1, [b"f", b"\xff"]), (4, [b"f", b""]), (6, [b"f", b"x", b"f", b"y"])]}, gap=True)
    write(b, {b"b": [(2, [b"g", b"1"]), (3, [b"g", b"2"]), (7, [b"g", b"3"])]})

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 0, result.output
    assert ids(out) == [
        (b"a", b"1-0"), (b"b", b"2-0"), (b"b", b"3-0"), (b"a", b"4-0"), (b"a", b"6-0"), (b"b", b"7-0")
    ]
    fields = {(e.stream, e.id): e.fields for e in Recording(out).entries()}
    assert fields[(b"a", b"6-0")] == ((b"f", b"x"), (b"f", b"y"))  # duplicates kept
    assert fields[(b"a", b"1-0")] == ((b"f", b"\xff"),)
    rec = Recording(out)
    [gap] = rec.gaps()
    assert (gap.after_id, gap.before_id, gap.lost) == (b"1-0", b"3-0", 1)
    assert sorted(m.text for m in rec.markers()) == ["[a.xtape] hello", "[b.xtape] hello"]
    assert [s["file"] for s in rec.header.source["merged"]] == ["a.xtape", "b.xtape"]
    assert "source:    merged from 2 recordings" in runner.invoke(app, ["info", str(out)]).output
    assert "merged 2 recordings" in result.output and "6 entries from 2 streams" in result.output


def test_identical_duplicates_are_written_once(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    shared = [(1, [b"f", b"1"]), (2, [b"f", b"2"])]
    write(a, {b"s": [*shared, (3, [b"f", b"3"])]})
    write(b, {b"s": [*shared], b"t": [(5, [b"h", b"5"])]})

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 0, result.output
    assert ids(out) == [(b"s", b"1-0"), (b"s", b"2-0"), (b"s", b"3-0"), (b"t", b"5-0")]
    assert "2 duplicates dropped" in result.output


def test_the_same_stream_with_other_bytes_is_refused(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    write(a, {b"s": [(1, [b"f", b"1"]), (2, [b"f", b"2"])]})
    write(b, {b"s": [(1, [b"f", b"1"]), (2, [b"f", b"other"])]})

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 2
    assert result.output.strip() == (
        f"xtape: error: cannot merge {a} and {b}: both hold stream 's' and entry 2-0 differs "
        "(only byte-identical duplicates of a stream can be merged)"
    )
    assert not out.exists()


def test_interleaved_entries_of_one_stream_in_two_files_are_refused(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    write(a, {b"s": [(1, [b"f", b"1"]), (3, [b"f", b"3"])]})
    write(b, {b"s": [(2, [b"f", b"2"])]})

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 2
    assert "entry 2-0 is in only one of them" in result.output
    assert not out.exists()


def test_an_existing_output_needs_force(tmp_path: Path) -> None:
    a, out = tmp_path / "a.xtape", tmp_path / "all.xtape"
    write(a, {b"s": [(1, [b"f", b"1"])]})
    out.write_bytes(b"keep")

    result = runner.invoke(app, ["merge", str(a), "-o", str(out)])

    assert result.exit_code == 2 and "pass --force" in result.output
    assert out.read_bytes() == b"keep"
