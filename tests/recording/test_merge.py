"""``xtape merge``: recordings into one, in id-time order; duplicates only if identical."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import redis
from support.e2e import XTAPE, wait_for
from typer.testing import CliRunner

from xtape.cli import app
from xtape.recording import Recording, RecordingWriter
from xtape.recording.records import Entries, Marker, StreamDef

runner = CliRunner()
SECOND = 1_000_000_000


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


# -- capture times, lives of a recreated stream, copies, flat memory (issue 16 item 5) ----


def records(path: Path) -> list[tuple[str, bytes, bytes, int]]:
    """The entries and markers of ``path`` in file order: ``(stream, id, value, capture)``
    for an entry, ``("marker", kind, text, capture)`` for a marker."""
    names: dict[int, bytes] = {}
    out: list[tuple[str, bytes, bytes, int]] = []
    for record in Recording(path).records():
        if isinstance(record, StreamDef):
            names[record.stream_id] = record.name
        elif isinstance(record, Entries):
            out += [(names[record.stream_id].decode(), bytes(i), bytes(f[1]), record.capture_ns) for i, f in record.entries]
        elif isinstance(record, Marker):
            out.append(("marker", record.kind.encode(), record.text.encode(), record.capture_ns))
    return out


def test_each_entry_keeps_its_capture_time(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    with RecordingWriter(a) as writer:  # three rounds, one second apart
        for round_ in range(3):
            writer.write_entries(b"s", [[b"%d-%d" % (round_ + 1, i), [b"f", b"v"]] for i in range(3)], (round_ + 1) * SECOND)
    write(b, {b"t": [(100, [b"g", b"1"])]})

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 0, result.output
    times = [(e.id, e.capture_ns) for e in Recording(out).entries() if e.stream == b"s"]
    assert times == [(b"%d-%d" % (r + 1, i), (r + 1) * SECOND) for r in range(3) for i in range(3)]
    replayed = runner.invoke(app, ["replay", str(out), "--dry-run", "--clock", "capture", "--stream", "s"])
    assert replayed.exit_code == 0, replayed.output
    assert "scheduled 9 events to 1 stream in 2.000 s" in replayed.output


def recreated(path: Path, *, second: bytes = b"new") -> None:
    """Stream ``s`` with ids 1-1 1-2 1-3, then recreated with ids 1-1 1-2 again."""
    with RecordingWriter(path) as writer:
        writer.write_entries(b"s", [[b"1-%d" % i, [b"f", b"old"]] for i in (1, 2, 3)], SECOND)
        writer.write_marker("recreated", "stream 's' was deleted and created again", 2 * SECOND)
        writer.write_entries(b"s", [[b"1-%d" % i, [b"f", second]] for i in (1, 2)], 3 * SECOND)


def test_a_recreated_stream_keeps_its_lives_in_order_with_the_marker_between(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    recreated(a)
    write(b, {b"t": [(1, [b"g", b"1"])]})

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 0, result.output
    seen = [r[:3] for r in records(out) if r[0] != "t" and r[2] != b"[b.xtape] hello"]
    assert seen == [
        ("s", b"1-1", b"old"), ("s", b"1-2", b"old"), ("s", b"1-3", b"old"),
        ("marker", b"recreated", b"[a.xtape] stream 's' was deleted and created again"),
        ("s", b"1-1", b"new"), ("s", b"1-2", b"new"),
    ]


def test_identical_copies_of_a_recreated_stream_are_written_once(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    recreated(a)
    recreated(b)

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 0, result.output
    assert [r[1:3] for r in records(out) if r[0] == "s"] == [
        (b"1-1", b"old"), (b"1-2", b"old"), (b"1-3", b"old"), (b"1-1", b"new"), (b"1-2", b"new")
    ]
    assert "5 duplicates dropped" in result.output


def test_copies_that_differ_in_a_later_life_are_refused(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    recreated(a)
    recreated(b, second=b"other")

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 2
    assert "both hold stream 's' and entry 1-1 differs" in result.output
    assert sorted(tmp_path.iterdir()) == [a, b]  # no output, nothing half-written


def test_copies_read_in_other_rounds_are_matched(tmp_path: Path) -> None:
    """Two recorders of the same streams read them in other rounds: a's copy of ``t``
    comes after all of ``s``, b's in between; the copies still match."""
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    batch = {name: [[b"%d-0" % ms, [b"f", b"%s%d" % (name, ms)]] for ms in range(1, 7)] for name in (b"s", b"t")}
    with RecordingWriter(a) as writer:
        writer.write_entries(b"s", batch[b"s"], SECOND)
        writer.write_entries(b"t", batch[b"t"], SECOND)
    with RecordingWriter(b) as writer:
        for half in (slice(0, 3), slice(3, 6)):
            writer.write_entries(b"s", batch[b"s"][half], SECOND)
            writer.write_entries(b"t", batch[b"t"][half], SECOND)

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 0, result.output
    got = {name: [e.id for e in Recording(out).entries() if e.stream == name] for name in (b"s", b"t")}
    assert got == {name: [b"%d-0" % ms for ms in range(1, 7)] for name in (b"s", b"t")}
    assert "12 duplicates dropped" in result.output


def test_a_stream_continued_in_another_input_is_joined_and_said_so(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    write(a, {b"s": [(1, [b"f", b"1"]), (2, [b"f", b"2"])]})
    write(b, {b"s": [(5, [b"f", b"5"])]})

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 0, result.output
    assert ids(out) == [(b"s", b"1-0"), (b"s", b"2-0"), (b"s", b"5-0")]
    assert f"1 stream of {b} continues where {a} ends: joined" in result.output


def test_merging_runs_in_flat_memory(tmp_path: Path) -> None:
    """Two inputs of 200,000 entries: materialized, they took about 240 MB more than
    the interpreter; streamed, a small constant."""
    n = 200_000
    paths = [tmp_path / "a.xtape", tmp_path / "b.xtape"]
    for seq, path in enumerate(paths):
        with RecordingWriter(path) as writer:
            for start in range(0, n, 1000):
                batch = [[b"%d-%d" % (1000 + i, seq), [b"field", b"value-%d" % i, b"n", b"x" * 20]] for i in range(start, start + 1000)]
                writer.write_entries(b"s%d" % seq, batch, (1000 + start) * 1_000_000)
    peak = (
        "import resource, sys\n"
        "from xtape.merge import merge\n"
        "n = merge(sys.argv[1:3], sys.argv[3]).entries if sys.argv[1:] else 0\n"
        "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = tmp_path / "all.xtape"

    def entries_and_max_rss_kb(*args: str) -> list[int]:
        done = subprocess.run([sys.executable, "-c", peak, *args], capture_output=True, text=True, check=True)
        return [int(word) for word in done.stdout.split()]

    _, idle = entries_and_max_rss_kb()
    merged, merging = entries_and_max_rss_kb(*map(str, paths), str(out))

    assert merged == 2 * n
    assert merging - idle < 80_000, f"merging took {merging - idle} KB more than importing"


def test_the_help_says_what_merge_does_with_copies() -> None:
    shown = " ".join(runner.invoke(app, ["merge", "--help"], terminal_width=200).output.split())
    assert "copies that differ are refused and no output is written" in shown
    assert "continues in a later input (no overlap) is joined, with a warning" in shown
    assert "keeps its capture time" in shown


def test_merging_real_recordings_keeps_lives_markers_and_the_capture_clock(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    """The issue's reproduction with real recorder processes: one records a stream that
    is deleted and created again with the same ids, the other three rounds a second
    apart; the merge keeps both lives in order with the marker between them, and the
    capture clock of the rounds."""
    a, b, out = tmp_path / "a.xtape", tmp_path / "b.xtape", tmp_path / "all.xtape"
    rec_a = subprocess.Popen([XTAPE, "record", "mr:*", "--count", "5", "-q", "--url", redis_url, "-o", str(a)])
    rec_b = subprocess.Popen([XTAPE, "record", "mq:*", "--count", "3", "-q", "--url", redis_url, "-o", str(b)])
    try:
        wait_for(lambda: a.exists() and b.exists(), what="both recorders to start")
        for i in (1, 2, 3):
            r.execute_command("XADD", "mr:s", f"1-{i}", "life", "old")
        wait_for(lambda: _count(a) == 3, what="the first life to be recorded")
        r.execute_command("DEL", "mr:s")
        for i in (1, 2):
            r.execute_command("XADD", "mr:s", f"1-{i}", "life", "new")
        for round_ in range(3):
            if round_:
                time.sleep(1.0)
            r.execute_command("XADD", "mq:t", "*", "round", str(round_))
        assert rec_a.wait(timeout=30) == 0 and rec_b.wait(timeout=30) == 0
    finally:
        for proc in (rec_a, rec_b):
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    result = runner.invoke(app, ["merge", str(a), str(b), "-o", str(out)])

    assert result.exit_code == 0, result.output
    lives = [(kind, ident, value) for kind, ident, value, _ in records(out) if kind in ("mr:s", "marker")]
    assert [x[:2] for x in lives if x[0] == "mr:s"] == [("mr:s", b"1-1"), ("mr:s", b"1-2"), ("mr:s", b"1-3"), ("mr:s", b"1-1"), ("mr:s", b"1-2")]
    kinds = [x[0] if x[0] != "marker" else x[1].decode() for x in lives]
    # Between the two lives: "deleted" if the recorder looked while the key was gone,
    # else "recreated" (the same ids came back with fewer entries added).
    assert kinds[:3] == ["mr:s"] * 3 and kinds[-2:] == ["mr:s"] * 2, kinds
    assert set(kinds[3:-2]) & {"recreated", "deleted"}, kinds
    replayed = runner.invoke(app, ["replay", str(out), "--dry-run", "--clock", "capture", "--stream", "mq:*"])
    assert replayed.exit_code == 0, replayed.output
    span = float(replayed.output.split("scheduled 3 events to 1 stream in ")[1].split(" s")[0])
    assert span >= 1.9, replayed.output  # (before: 0.000 s, each batch at its first entry's time)


def _count(path: Path) -> int:
    try:
        return sum(1 for _ in Recording(path).entries())
    except Exception:
        return 0
