"""``xtape info`` of a big recording is instant: its sparklines come from the stored
chunk index (per-stream entry counts in each chunk's meta), not from a pass over the
entries, and a plain ``xtape info FILE`` runs before typer (and pydantic) are imported.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.e2e import XTAPE, invoke, ok
from support.paths import ROOT

from xtape.plot.rates import count_rates, index_rates, sparkline, sparklines
from xtape.recording import Recording, RecordingWriter, read_v2, summarize
from xtape.recording.chunks import ChunkMeta
from xtape.recording.records import Malformed, SeriesTag
from xtape.timeline import NS_PER_MS

T0 = 1_764_000_000_000  # ms
STREAMS = (b"steady", b"burst", b"quiet-spell", b"rare")


def _round_sizes(k: int) -> dict[bytes, int]:
    """Entries per stream in round ``k`` of :func:`write_rounds`: a steady stream, one
    that bursts, one silent for a while, one that writes now and then."""
    return {
        b"steady": 10,
        b"burst": 100 if 300 <= k < 340 else 2,
        b"quiet-spell": 0 if 500 <= k < 700 else 5,
        b"rare": 1 if k % 37 == 0 else 0,
    }


def write_rounds(
    path: Path, *, producer_ids: bool = False, rounds: int = 1200, first: int = 0, part: int = 0
) -> Path:
    """Ten minutes of recorder rounds every 500 ms, each round one chunk (flushed), its
    entries all in the round's millisecond: no chunk straddles a bucket boundary.
    ``producer_ids`` gives ids set by producers (``1-1``...), so ``info`` times the
    recording by the capture clock. ``first``: the first round's number (a later file of
    a split recording, ``part`` of its series)."""
    seq = dict.fromkeys(STREAMS, first * 1000)
    with RecordingWriter(path, series=SeriesTag("day", part) if part else None) as w:
        for k in range(first, first + rounds):
            ms = T0 + k * 500
            for stream, n in _round_sizes(k).items():
                if not n:
                    continue
                if producer_ids:
                    ids = [f"1-{seq[stream] + j + 1}".encode() for j in range(n)]
                else:
                    ids = [f"{ms}-{j}".encode() for j in range(n)]
                seq[stream] += n
                w.write_entries(stream, [[i, [b"k", b"v"]] for i in ids], (ms + 3) * NS_PER_MS)
            w.flush()
    return path


def without_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Write chunk metas as before the addition: six elements, no per-stream counts."""
    encode = ChunkMeta.encode
    monkeypatch.setattr(ChunkMeta, "encode", lambda self: encode(self)[:6])


def damage_every_chunk(path: Path) -> int:
    """Flip the last byte of every chunk (its compressed data), leaving the summary and
    trailer intact; the number of chunks damaged."""
    summary = Recording(path).stored_summary()
    assert summary is not None
    data = bytearray(path.read_bytes())
    for chunk in summary.chunks:
        data[chunk.offset + chunk.length - 1] ^= 0xFF
    path.write_bytes(bytes(data))
    return len(summary.chunks)


def rate_lines(text: str) -> list[str]:
    """The sparkline parts of ``info``'s text: the rate line (without where it came
    from) and each stream's bars."""
    lines = text.splitlines()
    rate = next(line for line in lines if line.startswith("rate:"))
    bars = [line.split("|")[1] for line in lines if line.startswith("  ") and "|" in line]
    return [rate.rsplit(" (from the ", 1)[0], *bars]


# -- the meta addition ---------------------------------------------------------------------


def test_chunk_meta_counts_round_trip_and_old_metas_still_read() -> None:
    meta = ChunkMeta(5, 9, 1, 2, 7, ((0, b"a"), (3, b"b")), (4, 3))
    encoded = meta.encode()
    assert len(encoded) == 7 and list(encoded[6]) == [4, 3]  # an addition at the end
    back = ChunkMeta.decode(tuple(tuple(x) if isinstance(x, list) else x for x in encoded))
    assert back.counts == (4, 3) and back.stream_counts() == (4, 3)
    # A meta written before the addition: no counts; known anyway where the chunk has one stream.
    old = ChunkMeta.decode((5, 9, 1, 2, 7, ((0, b"a"), (3, b"b"))))
    assert old.counts is None and old.stream_counts() is None
    assert ChunkMeta.decode((5, 9, 1, 2, 7, ((0, b"a"),))).stream_counts() == (7,)
    # Counts that do not fit are ignored (the rates then come from a pass), not damage.
    for counts in ((4,), (4, 4), (4, -1), ("4", 3), 7, None):
        assert ChunkMeta.decode((5, 9, 1, 2, 7, ((0, b"a"), (3, b"b")), counts)).counts is None
    with pytest.raises(Malformed):
        ChunkMeta.decode((5, 9, 1, 2))  # the meta itself is still checked


def test_every_chunk_stores_its_entries_per_stream(tmp_path: Path) -> None:
    path = write_rounds(tmp_path / "r.xtape", rounds=50)
    summary = Recording(path).stored_summary()
    assert summary is not None
    totals: dict[bytes, int] = {}
    for chunk in summary.chunks:
        assert chunk.meta.counts is not None
        assert sum(chunk.meta.counts) == chunk.meta.entries
        for (_, name), n in zip(chunk.meta.streams, chunk.meta.counts, strict=True):
            totals[name] = totals.get(name, 0) + n
    assert totals == {name: n for _, name, n, _, _ in summary.streams}


# -- the sparklines from the index ----------------------------------------------------------


@pytest.mark.parametrize("producer_ids", [False, True], ids=["id clock", "capture clock"])
def test_index_sparklines_equal_the_pass_over_the_entries(tmp_path: Path, producer_ids: bool) -> None:
    path = write_rounds(tmp_path / "r.xtape", producer_ids=producer_ids)
    info = summarize(path)
    drawn = sparklines(path, info)
    assert drawn is not None and drawn.source == "chunk index"
    time_base = drawn.series.time_base
    assert time_base == ("capture" if producer_ids else "id")
    scanned = count_rates(path, info, time_base=time_base, buckets=24, nice=False)
    assert (drawn.series.start_ns, drawn.series.bucket_ns, drawn.series.buckets) == (
        scanned.start_ns,
        scanned.bucket_ns,
        scanned.buckets,
    )
    assert drawn.series.counts == scanned.counts
    assert drawn.streams == {name: sparkline(row) for name, row in scanned.counts.items()}
    assert " " in drawn.streams[b"quiet-spell"]  # the shape shows: the silent stretch
    assert "█" in drawn.streams[b"burst"] and "▁" in drawn.streams[b"burst"]


def test_a_split_recording_draws_from_the_index_of_every_file(tmp_path: Path) -> None:
    day = tmp_path / "day"
    day.mkdir()
    write_rounds(day / "000001.xtape", rounds=600, part=1)
    write_rounds(day / "000002.xtape", rounds=600, first=600, part=2)
    info = summarize(day)
    assert info.files == 2 and len(info.index) == 2
    drawn = sparklines(day, info)
    assert drawn is not None and drawn.source == "chunk index"
    assert drawn.series.counts == count_rates(day, info, buckets=24, nice=False).counts
    whole = index_rates(summarize(write_rounds(tmp_path / "whole.xtape")), buckets=24)
    assert whole is not None and drawn.series.counts == whole.counts  # as one file


def test_a_straddling_chunk_is_split_by_time_and_totals_stay_exact(tmp_path: Path) -> None:
    rnd = random.Random(7)
    path = tmp_path / "r.xtape"
    with RecordingWriter(path) as w:
        for k in range(600):  # rounds of 1 s, a chunk every 3 (a bucket is 25 s)
            ms = T0 + k * 1000
            for stream in (b"a", b"b"):
                n = rnd.choice([0, 1, 5, 20, 80])
                if n:
                    ids = [f"{ms + j * 1000 // n}-0".encode() for j in range(n)]
                    w.write_entries(stream, [[i, [b"k", b"v"]] for i in ids], (ms + 999) * NS_PER_MS)
            if k % 3 == 2:
                w.flush()
    info = summarize(path)
    by_index = index_rates(info, time_base="id", buckets=24)
    assert by_index is not None
    scanned = count_rates(path, info, time_base="id", buckets=24, nice=False)
    most = max(c.meta.entries for s in info.index for c in s.chunks)
    for name in (b"a", b"b"):
        assert sum(by_index.counts[name]) == sum(scanned.counts[name]) == info.streams[name].entries
        for mine, true in zip(by_index.counts[name], scanned.counts[name], strict=True):
            assert abs(mine - true) <= most  # at most a chunk's entries misplaced


def test_chunks_long_against_a_bucket_give_coarser_buckets_not_a_pass(tmp_path: Path) -> None:
    path = write_rounds(tmp_path / "r.xtape", rounds=20)  # 10 s: a chunk is 1/48 of it...
    with RecordingWriter(tmp_path / "coarse.xtape") as w:  # ...one chunk for a minute is not
        for k in range(60):
            w.write_entries(b"s", [[f"{T0 + k * 1000}-0".encode(), [b"k", b"v"]]], (T0 + k * 1000) * NS_PER_MS)
    assert index_rates(summarize(path)) is not None
    coarse = summarize(tmp_path / "coarse.xtape")
    assert index_rates(coarse) is None
    drawn = sparklines(tmp_path / "coarse.xtape", coarse)
    assert drawn is not None and drawn.source == "chunk index" and drawn.coarse
    assert drawn.series.buckets == 1 and drawn.series.counts[b"s"] == [60]
    # a pass over the entries only when asked
    scanned = sparklines(tmp_path / "coarse.xtape", coarse, scan=True)
    assert scanned is not None and scanned.source == "entries" and not scanned.coarse
    assert scanned.series.counts == count_rates(tmp_path / "coarse.xtape", coarse, buckets=24, nice=False).counts


def _captured_within_a_second(path: Path) -> Path:
    """What ``record --from start`` makes of a backlog: 60,000 entries read in 12 rounds
    of 5,000 within 50 ms, their ids over 0.6 s, each round its own chunk of ~0.3 MiB: a
    chunk spans far more than a 24th of the span."""
    with RecordingWriter(path, flush_interval=3600) as w:
        for r in range(12):
            entries = [[f"{T0 + (r * 5000 + i) // 100}-{i}".encode(), [b"k", b"v" * 40]] for i in range(5000)]
            w.write_entries(STREAMS[r % 2], entries, (T0 + 10_000 + r * 4) * NS_PER_MS)
            w.flush()
    return path


def _count_chunk_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the chunks any reading decompresses from now on."""
    read: list[int] = []
    unpack = read_v2.chunk_records

    def counted(*args: Any) -> Any:
        read.append(1)
        return unpack(*args)

    monkeypatch.setattr(read_v2, "chunk_records", counted)
    return read


def test_info_of_a_recording_captured_within_a_second_reads_no_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _captured_within_a_second(tmp_path / "fast.xtape")
    read = _count_chunk_reads(monkeypatch)
    text = ok(invoke("info", path)).stdout
    assert read == [] and "(from the chunk index; coarse" in text
    assert "checked:   summary read" in text and "chunks not verified" in text
    assert json.loads(ok(invoke("info", path, "--json")).stdout)["sparkline"]["coarse"] is True
    assert read == []
    scanned = ok(invoke("info", path, "--scan")).stdout
    assert len(read) == 12 and "(from the entries)" in scanned
    assert "checked:   every chunk read and its checksum verified" in scanned


def test_info_says_what_it_read(tmp_path: Path) -> None:
    sample = ROOT / "recordings" / "sample.xtape"
    assert "checked:   every record read (format v1 has no checksums)" in ok(invoke("info", sample)).stdout
    path = write_rounds(tmp_path / "r.xtape", rounds=20)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"XTS2")])  # lost its end: read chunk by chunk
    text = ok(invoke("info", path)).stdout
    assert "summary:   rebuilt by scanning" in text and "checked:   every chunk read" in text
    assert json.loads(ok(invoke("info", path, "--json")).stdout)["checked"] == "chunks"


# -- xtape info ------------------------------------------------------------------------------


def test_info_reads_no_chunk_when_the_summary_is_stored(tmp_path: Path) -> None:
    path = write_rounds(tmp_path / "r.xtape")
    before = ok(invoke("info", path)).stdout
    assert damage_every_chunk(path) == 1200
    # The chunks are damaged: anything that read one would fail...
    cat = subprocess.run([XTAPE, "cat", str(path)], capture_output=True, timeout=60, check=False)
    assert cat.returncode == 2 and b"checksum mismatch" in cat.stderr
    # ...but info, its sparklines and its JSON read the summary alone (the console
    # script's quick path, and the typer command).
    proc = subprocess.run([XTAPE, "info", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    for out in (proc.stdout, ok(invoke("info", path)).stdout):
        assert "(from the chunk index)" in out and "complete:  yes" in out
        assert rate_lines(out) == rate_lines(before)
    data = json.loads(ok(invoke("info", path, "--json")).stdout)
    assert data["sparkline"]["from"] == "chunk index"
    assert data["summary"] == "stored"


def test_an_old_file_gets_its_total_from_the_index_and_streams_by_a_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = write_rounds(tmp_path / "new.xtape")
    with monkeypatch.context() as m:
        without_counts(m)
        old = write_rounds(tmp_path / "old.xtape")
    assert all(c.meta.counts is None for c in summarize(old).index[0].chunks)
    new_text, old_text = ok(invoke("info", new)).stdout, ok(invoke("info", old)).stdout
    assert "(from the chunk index)" in new_text
    assert "(from the chunk index; coarse" in old_text
    # the total is known from the index; each stream's rate only by a pass (--scan)
    assert rate_lines(old_text)[0].split(" (")[0] == rate_lines(new_text)[0].split(" (")[0]
    assert rate_lines(old_text)[1:] == []
    scanned = ok(invoke("info", old, "--scan")).stdout
    assert "(from the entries)" in scanned and rate_lines(scanned)[1:] == rate_lines(new_text)[1:]
    # --json never makes the pass: per stream, null where the index cannot tell.
    spark = json.loads(ok(invoke("info", old, "--json")).stdout)["sparkline"]
    assert spark["streams"] == [None] * len(STREAMS) and sum(spark["total"]) == summarize(old).entries
    assert json.loads(ok(invoke("info", new, "--json")).stdout)["sparkline"] is not None


def test_info_json_gives_the_counts_it_draws(tmp_path: Path) -> None:
    path = write_rounds(tmp_path / "r.xtape")
    data = json.loads(ok(invoke("info", path, "--json")).stdout)
    spark = data["sparkline"]
    assert spark["from"] == "chunk index" and spark["clock"] == "id"
    assert spark["start_ns"] == T0 * NS_PER_MS and len(spark["total"]) == 24
    assert sum(spark["total"]) == data["entries"]
    by_name = {s["name"]: sum(row) for s, row in zip(data["streams"], spark["streams"], strict=True)}
    assert by_name == {s["name"]: s["entries"] for s in data["streams"]}
    assert json.loads(ok(invoke("info", path, "--json", "--no-sparkline")).stdout)["sparkline"] is None


# -- start-up ----------------------------------------------------------------------------------

HEAVY = ("typer", "click", "rich", "pydantic", "yaml", "redis", "matplotlib")

_RUN_MAIN = """
import sys
sys.argv = ["xtape", *sys.argv[1:]]
from xtape.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
print(code, sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def run_main(*args: object) -> subprocess.CompletedProcess[str]:
    """``xtape ARGS`` through the console script's ``main``; its stderr ends with the
    exit code and which heavy modules it imported."""
    code = _RUN_MAIN.format(heavy=HEAVY)
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_plain_info_imports_no_typer_and_prints_as_the_typer_command(tmp_path: Path) -> None:
    path = write_rounds(tmp_path / "r.xtape", rounds=100)
    for args in (("info", path), ("info", "--json", path), ("info", path, "--no-sparkline")):
        proc = run_main(*args)
        assert proc.stderr.splitlines()[-1] == "0 []", proc.stderr
        assert proc.stdout == ok(invoke(*args)).stdout
    # An error is the same one line, with the same exit code.
    proc = run_main("info", tmp_path / "missing.xtape")
    typer_way = invoke("info", tmp_path / "missing.xtape")
    assert proc.stderr.splitlines() == [typer_way.stderr.strip(), f"{typer_way.exit_code} []"]


@pytest.mark.parametrize(
    "args",
    # (`xtape --version` alone skips typer too: tests/cli/test_cli_startup.py)
    [("info", "--help"), ("info",), ("info", "a.xtape", "b.xtape"), ("info", "--bogus", "a.xtape"), ("--version", "--help")],
)
def test_anything_else_is_parsed_by_typer_as_before(args: tuple[str, ...]) -> None:
    proc = run_main(*args)
    code, heavy = proc.stderr.splitlines()[-1].split(" ", 1)
    assert "typer" in heavy
    if args == ("info", "--help"):
        assert code == "0" and proc.stdout.startswith("Usage: xtape info [OPTIONS] FILE")
    elif args == ("--version", "--help"):
        assert code == "0" and proc.stdout.startswith("xtape ")
    else:
        assert code == "2" and proc.stderr.startswith("xtape: error: ")
        assert len(proc.stderr.splitlines()) == 2  # one line, then the check's own


def test_help_lists_the_commands_in_order_whatever_was_imported_first() -> None:
    code = (
        "import xtape.cli.replay, xtape.cli.demo\n"
        "from xtape.cli import app\n"
        "print(' '.join(c.name or c.callback.__name__ for c in app.registered_commands))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    names = proc.stdout.split()
    assert names[:5] == ["record", "info", "cat", "plot", "merge"]
    assert names.index("replay") < names.index("demo") and names[-1] == "demo"
    help_text = subprocess.run([XTAPE, "--help"], capture_output=True, text=True, timeout=60, check=True).stdout
    listed = [line.split()[0] for line in help_text.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == names
