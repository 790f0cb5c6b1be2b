"""``xtape cut REC -o OUT`` (issue 21, item 4): recording -> recording, every kept entry
byte for byte (id, fields, capture time), gaps and markers of the window kept,
``--redact`` with the recorder's digests, ``--compression``, re-split, flat memory."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest
import redis
from support.e2e import error_line, invoke, ok, xadd
from support.shape import T0, entries_of, ids_of, order, write_orders

from xtape.cut import CutOptions, cut
from xtape.recording import Recording
from xtape.recording.records import Gap, Marker


@pytest.fixture()
def rec(tmp_path: Path) -> Path:
    # 200 entries, 10 a round (a round every 10 ms of ids); markers before rounds 0, 5
    # and 15, a gap before round 10
    return write_orders(tmp_path / "in.xtape", 200, marks={0: "start", 50: "m50", 150: "m150"}, gap_at=100)


def _events(path: Path) -> list[tuple[str, str]]:
    out = []
    for record in Recording(path).records():
        if isinstance(record, Marker):
            out.append(("marker", record.text))
        elif isinstance(record, Gap):
            out.append(("gap", record.before_id.decode()))
    return out


def test_a_cut_of_everything_reads_back_identical(rec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xtape"
    result = ok(invoke("cut", rec, "-o", out))
    assert "wrote " in result.stderr and "200 entries of 200 read, 2 streams, 1 gap, 3 markers" in result.stderr
    assert entries_of(out) == entries_of(rec)  # ids, fields and capture times, in order
    assert _events(out) == _events(rec)
    assert Recording(out).header.source == Recording(rec).header.source


def test_streams_window_and_content_select_the_entries_kept_byte_for_byte(rec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xtape"
    ok(invoke("cut", rec, "-o", out, "-q", "--exclude", "payments", "--since", "40ms", "--until", "160ms",
              "--where", "fields.user != 'eve'"))  # fmt: skip
    expected = [
        e for e in entries_of(rec)
        if e[0] == b"orders" and 40 <= int(e[1][:-2]) - T0 < 160 and b"eve" not in e[2][3]
    ]  # fmt: skip
    assert expected and entries_of(out) == expected
    # the gap (of orders) and the markers inside the window, not the first marker
    assert _events(out) == [("marker", "m50"), ("gap", f"{T0 + 100}-0"), ("marker", "m150")]


def test_markers_after_the_window_and_gaps_of_streams_left_out_are_dropped(rec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xtape"
    ok(invoke("cut", rec, "-o", out, "-q", "--until", "120ms", "--stream", "payments"))
    assert {s for s, _ in ids_of(out)} == {b"payments"}
    assert _events(out) == [("marker", "start"), ("marker", "m50")]  # the gap is of orders
    assert ok(invoke("cut", rec, "-o", tmp_path / "late.xtape", "-q", "--since", "120ms"))
    assert _events(tmp_path / "late.xtape") == [("marker", "m150")]


def test_capture_clock_window(rec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xtape"
    ok(invoke("cut", rec, "-o", out, "-q", "--clock", "capture", "--since", "50ms", "--until", "100ms"))
    assert sorted(int(i[:-2]) - T0 for _, i in ids_of(out)) == list(range(50, 100))


def test_redact_gives_the_digests_record_gives(tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    key = tmp_path / "key"
    key.write_text("0123456789abcdef0123456789abcdef")
    for i in range(20):
        xadd(r, "orders", order(i))
    plain, redacted = tmp_path / "plain.xtape", tmp_path / "redacted.xtape"
    for path, extra in ((plain, []), (redacted, ["--redact", "USER", "--redact-key-file", key])):
        ok(invoke("record", "orders", "-o", path, "--url", redis_url, "--from", "start", "--count", "20", "-q", *extra))
    cut_redacted = tmp_path / "cut.xtape"
    ok(invoke("cut", plain, "-o", cut_redacted, "-q", "--redact", "USER", "--redact-key-file", key))
    got = [(s, i, f) for s, i, f, _ in entries_of(cut_redacted)]
    assert got == [(s, i, f) for s, i, f, _ in entries_of(redacted)]
    assert all(f[3].startswith(b"redacted:") for _, _, f in got)
    options = Recording(cut_redacted).header.options
    assert options["redact"] == ["USER"] and options["redact_key_id"] == Recording(redacted).header.options["redact_key_id"]
    # a glob that matched nothing is worth a warning
    warned = ok(invoke("cut", plain, "-o", tmp_path / "w.xtape", "--redact", "secret*"))
    assert "--redact 'secret*' matched no field name" in warned.stderr


def test_compression_and_reading_back(rec: Path, tmp_path: Path) -> None:
    for kind in ("none", "lz4", "zstd"):
        out = tmp_path / f"{kind}.xtape"
        ok(invoke("cut", rec, "-o", out, "-q", "--compression", kind))
        assert entries_of(out) == entries_of(rec)
    assert (tmp_path / "none.xtape").stat().st_size > (tmp_path / "zstd.xtape").stat().st_size
    assert "xtape: error: " in error_line(invoke("cut", rec, "-o", tmp_path / "x.xtape", "--compression", "gzip"), 2)


def test_re_split_by_size_and_by_capture_duration(tmp_path: Path) -> None:
    big = write_orders(tmp_path / "big.xtape", 3000, per_round=50)
    by_size = tmp_path / "by_size"
    result = ok(invoke("cut", big, "-o", f"{by_size}/", "--split-size", "40KB", "--compression", "none"))
    files = sorted(by_size.glob("*.xtape"))
    assert len(files) >= 3 and f"({len(files)} files)" in result.stderr
    assert entries_of(by_size) == entries_of(big)
    # --split-duration counts the recording's capture time (3000 entries = 3 s of ids):
    # about one file per 500 ms, however fast the cut runs
    by_time = tmp_path / "by_time"
    ok(invoke("cut", big, "-o", f"{by_time}/", "-q", "--split-duration", "500ms"))
    assert 5 <= len(list(by_time.glob("*.xtape"))) <= 7
    assert entries_of(by_time) == entries_of(big)


def test_the_output_policy_of_every_command(rec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xtape"
    out.write_bytes(b"keep")
    assert "exists; pass --force" in error_line(invoke("cut", rec, "-o", out), 2)
    assert out.read_bytes() == b"keep"
    assert "is also an input" in error_line(invoke("cut", rec, "-o", rec, "--force"), 2)
    ok(invoke("cut", rec, "-o", out, "-q", "--force"))
    assert len(entries_of(out)) == 200
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    # a split's folder may not be (or hold) the input: its files would join that recording
    assert "an input of this command" in error_line(invoke("cut", rec, "-o", f"{tmp_path}/", "--split-size", "1MB"), 2)
    split = tmp_path / "split"
    ok(invoke("cut", rec, "-o", f"{split}/", "-q", "--split-size", "1MB"))
    assert "an input of this command" in error_line(invoke("cut", split, "-o", f"{split}/", "--split-size", "1MB"), 2)


def test_nothing_kept_is_an_error_and_writes_nothing(rec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xtape"
    line = error_line(invoke("cut", rec, "-o", out, "--where", "fields.user == 'nobody'"), 2)
    assert "no entries match the selection" in line
    assert not out.exists() and list(tmp_path.iterdir()) == [rec]


def test_cut_to_standard_output_and_from_standard_input(rec: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "from xtape.cli import main; main()", "cut", str(rec), "-o", "-", "-q", "--stream", "orders"],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    piped = tmp_path / "piped.xtape"
    piped.write_bytes(done.stdout)
    assert entries_of(piped) == [e for e in entries_of(rec) if e[0] == b"orders"]
    back = subprocess.run(
        [sys.executable, "-c", "from xtape.cli import main; main()", "cut", "-", "-o", str(tmp_path / "again.xtape"), "-q"],
        input=done.stdout, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    assert back.returncode == 0
    assert entries_of(tmp_path / "again.xtape") == entries_of(piped)


def _cut_peak(source: Path, out: Path) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        cut(source, out, CutOptions(exclude=("payments",), redact=("user",)))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_on_a_recording_much_larger_than_the_bound(tmp_path: Path) -> None:
    small = write_orders(tmp_path / "small.xtape", 15_000, per_round=500, compression="none")
    big = write_orders(tmp_path / "big.xtape", 200_000, per_round=500, compression="none")
    _cut_peak(small, tmp_path / "warm.xtape")  # (imports and first-use caches out of the way)
    peak_small = _cut_peak(small, tmp_path / "small-out.xtape")
    peak_big = _cut_peak(big, tmp_path / "big-out.xtape")
    size = big.stat().st_size
    assert size > 25_000_000
    assert peak_big < 8_000_000 < size / 3, f"peak {peak_big:,} bytes for a {size:,}-byte recording"
    # thirteen times the entries, about the same peak: nothing grows with the recording
    assert peak_big < 1.5 * peak_small + 1_000_000, (peak_small, peak_big)
    assert len(entries_of(tmp_path / "big-out.xtape")) == 100_000


@pytest.mark.parametrize("option", ["--stream", "--exclude", "--since", "--until", "--where", "--sample", "--redact", "--compression", "--split-size", "--split-duration"])
def test_help_lists_every_option(option: str) -> None:
    text = " ".join(ok(invoke("cut", "--help")).stdout.split())
    assert option in text
    assert "byte for byte" in text or "as they were read" in text
