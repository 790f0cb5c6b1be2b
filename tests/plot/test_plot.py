"""``xtape plot`` and ``info``'s sparklines: the picture of a recording's traffic.

Files are checked for what a reader relies on: valid PNG of a sensible size, SVG and
HTML that name every stream and marker, an HTML page with no reference outside itself
(``test_plot_chromium.py`` opens it in a real browser).
"""

from __future__ import annotations

import html
import json
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.e2e import error_line, invoke, ok
from support.paths import ROOT
from support.plot import MARKERS, SAMPLE_STREAMS, T0, no_outside_references, write_eventful

from xtape.plot import OTHER, collect, count_rates, load_report, sparkline
from xtape.plot.rates import ASCII_LEVELS, BLOCKS, nice_bucket_ns
from xtape.recording import RecordingWriter, summarize
from xtape.timeline import NS_PER_MS, NS_PER_S

SAMPLE = ROOT / "recordings" / "sample.xtape"
XTAPE = str(Path(sys.executable).parent / "xtape")


@pytest.fixture()
def eventful(tmp_path: Path) -> Path:
    return write_eventful(tmp_path / "eventful.xtape")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR, after checking the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# -- the files ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".html", ".svg", ".png"])
def test_plot_of_the_sample_writes_each_format(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"sample{suffix}"
    result = ok(invoke("plot", SAMPLE, "-o", out))
    assert result.stdout == ""
    assert result.stderr.startswith(f"wrote {out}: 155 entries, 10 rows, 0 markers, 0 gaps")
    data = out.read_bytes()
    if suffix == ".png":
        width, height = png_size(data)
        assert width == 1200
        assert 600 <= height <= 1600  # ten stream rows under the total
        assert len(data) > 20_000  # drawn, not blank
    else:
        text = data.decode("utf-8")
        for name in SAMPLE_STREAMS:
            assert name in text
        assert "entries/s" in text
        assert "time since the recording's start (s)" in text
    if suffix == ".svg":
        assert data.lstrip().startswith(b"<?xml") and b"<svg" in data
    if suffix == ".html":
        page = data.decode()
        assert page.startswith("<!DOCTYPE html>")
        no_outside_references(page)
        assert "no gaps, no markers" in page


def test_plot_marks_gaps_and_every_marker_kind(tmp_path: Path, eventful: Path) -> None:
    for suffix in (".html", ".svg", ".png"):
        out = tmp_path / f"eventful{suffix}"
        result = ok(invoke("plot", eventful, "-o", out))
        assert f"wrote {out}: 23,990 entries, 4 rows, 5 markers, 1 gap" in result.stderr
    svg = (tmp_path / "eventful.svg").read_text()
    page = (tmp_path / "eventful.html").read_text()
    for kind, text in MARKERS.values():
        assert f"marker: {kind}" in svg  # the legend
        assert f'<td class="kind">{kind}</td>' in page
        assert html.escape(text) in page
    assert "gap: 240 lost" in svg and "gap: 240 lost" in page
    assert "gap (entries lost)" in svg
    # A dollar sign in a name is a dollar sign, not the start of a formula.
    assert "prices.$btc" in svg and "prices.$btc" in page
    assert "time since the recording's start (min)" in svg
    no_outside_references(page)
    width, height = png_size((tmp_path / "eventful.png").read_bytes())
    assert width == 1200 and 500 <= height <= 900


def test_plot_data_puts_gaps_and_markers_on_the_time_axis(eventful: Path) -> None:
    data = collect(eventful)
    s = data.series
    assert s.time_base == "id"
    assert s.start_ns == T0 * NS_PER_MS
    assert s.bucket_ns == 5 * NS_PER_S  # a round width: about 120 buckets over 300 s
    assert [m.kind for m in data.markers] == [k for k, _ in MARKERS.values()]
    assert [m.offset_ns for m in data.markers] == [
        (sec * 1000 + 500) * NS_PER_MS for sec in MARKERS
    ]
    (gap,) = data.gaps
    assert (gap.stream, gap.row, gap.lost) == (b"orders:us", b"orders:us", 240)
    assert (gap.start_ns, gap.end_ns) == (99_875 * NS_PER_MS, 130_000 * NS_PER_MS)
    us = s.rates(b"orders:us")
    assert us[0] == 8.0 and us[20] == 0.0 and us[26] == 8.0  # 100-130 s: nothing
    eu = s.rates(b"orders:eu")
    assert eu[0] == 20.0 and eu[40] == 60.0  # tripled from 200 s
    assert sum(s.total()) == summarize(eventful).entries == s.entries


def test_capture_clock_places_entries_by_their_batches(eventful: Path) -> None:
    data = collect(eventful, time_base="capture")
    assert data.series.time_base == "capture"
    assert data.series.start_ns == (T0 + 999) * NS_PER_MS
    (gap,) = data.gaps
    assert gap.start_ns == gap.end_ns == (130_500 - 999) * NS_PER_MS  # when it was noticed


@pytest.mark.parametrize(
    ("ms", "id_span_ns"),
    [
        (lambda i: i + 1, 9 * NS_PER_MS),  # 1-0 .. 10-0: 1970
        (lambda i: T0 + i * 100_000, 900 * NS_PER_S),  # 15 minutes of ids read in 9 s
    ],
)
def test_ids_set_by_producers_are_drawn_by_the_capture_clock(
    tmp_path: Path, ms: Callable[[int], int], id_span_ns: int
) -> None:
    path = tmp_path / "ids.xtape"
    with RecordingWriter(path) as w:
        for i in range(10):  # read a second apart
            entry = [f"{ms(i)}-0".encode(), [b"k", b"v"]]
            w.write_entries(b"s", [entry], (T0 + i * 1000) * NS_PER_MS)
    result = ok(invoke("plot", path, "-o", tmp_path / "ids.svg"))
    assert "drawn by the recorder's clock" in result.stderr
    assert collect(path).series.span_ns == 9 * NS_PER_S
    assert collect(path, time_base="id").series.span_ns == id_span_ns
    assert "clock: the recorder's capture clock" in (tmp_path / "ids.svg").read_text()


def test_stream_globs_and_bucket_width(tmp_path: Path, eventful: Path) -> None:
    data = collect(eventful, streams=["orders:*"], bucket=1.0)
    assert data.rows == [b"orders:eu", b"orders:us"]
    assert data.series.bucket_ns == NS_PER_S and data.series.buckets == 300
    assert data.series.entries == 6800 + 2160
    out = tmp_path / "o.svg"
    ok(invoke("plot", eventful, "-o", out, "--stream", "orders:*", "--bucket", "1s"))
    svg = out.read_text()
    assert "orders:eu" in svg and "prices.$btc" not in svg
    assert "buckets of 1 s" in svg


def test_many_streams_share_an_other_row(tmp_path: Path) -> None:
    path = tmp_path / "many.xtape"
    with RecordingWriter(path) as w:
        for i in range(20):
            entries = [[f"{T0 + j * 100}-0".encode(), [b"k", b"v"]] for j in range(i + 1)]
            w.write_entries(f"s{i:02d}".encode(), entries, T0 * NS_PER_MS)
    data = collect(path)
    assert len(data.rows) == 12
    assert data.rows[-1] == OTHER
    assert data.label(OTHER) == "other (9 streams)"
    assert set(data.rows[:-1]) == {f"s{i:02d}".encode() for i in range(9, 20)}  # the busiest
    assert data.row_entries(OTHER) == sum(range(1, 10))
    out = tmp_path / "many.html"
    ok(invoke("plot", path, "-o", out))
    page = out.read_text()
    assert "other (9 streams)" in page
    assert "s00" in page  # every stream is in the table


def test_an_incomplete_recording_says_so(tmp_path: Path) -> None:
    cut = tmp_path / "cut.xtape"
    cut.write_bytes(SAMPLE.read_bytes()[:5000])
    out = tmp_path / "cut.svg"
    result = ok(invoke("plot", cut, "-o", out))
    assert "37 entries" in result.stderr
    assert "incomplete" in out.read_text()
    ok(invoke("plot", SAMPLE, "-o", tmp_path / "whole.svg"))
    assert "incomplete" not in (tmp_path / "whole.svg").read_text()


def test_an_empty_recording_still_draws(tmp_path: Path) -> None:
    path = tmp_path / "empty.xtape"
    RecordingWriter(path).close()
    for suffix in (".png", ".html"):
        ok(invoke("plot", path, "-o", tmp_path / f"empty{suffix}"))
    assert "no entries" in (tmp_path / "empty.html").read_text()


# -- memory stays bounded ----------------------------------------------------------------


def test_counts_are_a_fixed_number_of_buckets_whatever_the_span(tmp_path: Path) -> None:
    path = tmp_path / "long.xtape"
    day = 86_400_000
    with RecordingWriter(path) as w:
        for i in range(2000):  # 2000 batches spread over 30 days
            ms = T0 + i * (30 * day // 2000)
            w.write_entries(
                b"a", [[f"{ms}-{j}".encode(), [b"k", b"v"]] for j in range(5)], ms * NS_PER_MS
            )
    info = summarize(path)
    series = count_rates(path, info, buckets=120)
    assert series.buckets <= 121
    assert series.bucket_ns == 6 * 3600 * NS_PER_S  # 30 days / 120 -> 6 h
    assert sum(series.counts[b"a"]) == 10_000
    spark = count_rates(path, info, buckets=24, nice=False)
    assert spark.buckets <= 25 and sum(spark.counts[b"a"]) == 10_000


def test_nice_bucket_widths() -> None:
    assert nice_bucket_ns(5_240 * NS_PER_MS, 120) == 50 * NS_PER_MS
    assert nice_bucket_ns(300 * NS_PER_S, 120) == 5 * NS_PER_S
    assert nice_bucket_ns(6 * 3600 * NS_PER_S, 120) == 300 * NS_PER_S
    assert nice_bucket_ns(400 * 86400 * NS_PER_S, 120) == 4 * 86400 * NS_PER_S
    assert nice_bucket_ns(0, 120) == NS_PER_MS


def test_a_recording_still_being_written_is_counted_as_summarized(tmp_path: Path) -> None:
    path = tmp_path / "live.xtape"
    w = RecordingWriter(path)
    w.write_entries(b"a", [[f"{T0}-0".encode(), [b"k", b"v"]]], T0 * NS_PER_MS)
    w.flush()
    info = summarize(path)
    w.write_entries(b"a", [[f"{T0 + 5000}-0".encode(), [b"k", b"v"]]], (T0 + 5000) * NS_PER_MS)
    w.flush()
    series = count_rates(path, info)
    assert series.entries == 1  # the entry written after the summary is not counted
    w.close()


# -- replay reports: lateness --------------------------------------------------------------


def test_a_replay_report_shows_its_lateness(tmp_path: Path, redis_url: str) -> None:
    replayed = ok(invoke("replay", SAMPLE, "--speed", "20", "--json", "--url", redis_url))
    report_file = tmp_path / "report.json"
    report_file.write_text(replayed.stdout)
    report = json.loads(replayed.stdout)
    lat = report["lateness"]
    out = tmp_path / "r.html"
    ok(invoke("plot", SAMPLE, "-o", out, "--report", report_file))
    page = out.read_text()
    shown = f"p50 {lat['p50_ms']:.2f} ms, p99 {lat['p99_ms']:.2f} ms, max {lat['max_ms']:.2f} ms"
    assert shown in page
    assert f"{report['published']:,} published" in page
    svg = tmp_path / "r.svg"
    ok(invoke("plot", SAMPLE, "-o", svg, "--report", report_file))
    assert shown in svg.read_text()


def test_a_max_speed_report_says_there_is_no_lateness(tmp_path: Path) -> None:
    report = tmp_path / "fast.json"
    report.write_text(
        json.dumps(
            {
                "source": "x",
                "pacing": "max speed",
                "published": 10,
                "duration_s": 0.5,
                "rate": 20.0,
                "lateness": None,
            }
        )
    )
    note = load_report(report)
    assert note.lateness is None
    out = tmp_path / "f.html"
    ok(invoke("plot", SAMPLE, "-o", out, "--report", report))
    assert "no schedule to be late against" in out.read_text()


def test_a_capture_carrying_a_replay_report_marker_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "capture.xtape"
    report = {
        "source": "in.xtape",
        "pacing": "speed 1x",
        "published": 3,
        "duration_s": 2.0,
        "rate": 1.5,
        "lateness": {"p50_ms": 0.12, "p99_ms": 0.4, "max_ms": 1.5},
    }
    with RecordingWriter(path) as w:
        w.write_entries(b"out", [[f"{T0}-0".encode(), [b"k", b"v"]]], T0 * NS_PER_MS)
        w.write_marker("replay", json.dumps(report), (T0 + 2000) * NS_PER_MS)
    data = collect(path)
    assert data.report is not None and data.report.lateness is not None and data.report.lateness.p99_ms == 0.4
    out = tmp_path / "c.html"
    ok(invoke("plot", path, "-o", out))
    assert "p50 0.12 ms, p99 0.40 ms, max 1.50 ms" in out.read_text()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"pacing": "x", "published": 1}', "it has no 'duration_s'"),
        (
            '{"pacing": "x", "published": 1, "duration_s": 1, "lateness": {"p50_ms": "a"}}',
            "lateness.p50_ms is not a number",
        ),
    ],
)
def test_a_file_that_is_not_a_report_is_one_line_exit_2(
    tmp_path: Path, content: str, why: str
) -> None:
    report = tmp_path / "bad.json"
    report.write_text(content)
    line = error_line(invoke("plot", SAMPLE, "-o", tmp_path / "x.png", "--report", report), 2)
    assert f"{report}: not a replay --json report: {why}" in line
    assert not (tmp_path / "x.png").exists()


# -- usage errors and the optional extra ----------------------------------------------------


def test_an_unknown_output_suffix_is_refused(tmp_path: Path) -> None:
    line = error_line(invoke("plot", SAMPLE, "-o", tmp_path / "x.jpg"), 2)
    assert "end it in .html, .svg or .png" in line


def test_standard_input_is_refused(tmp_path: Path) -> None:
    line = error_line(invoke("plot", "-", "-o", tmp_path / "x.png"), 2)
    assert "give a file, not - (stdin)" in line


def test_no_stream_matching_is_refused(tmp_path: Path) -> None:
    line = error_line(invoke("plot", SAMPLE, "-o", tmp_path / "x.png", "--stream", "nope*"), 2)
    assert "no stream of" in line and "prod:price.update" in line


def test_a_missing_output_directory_is_one_line(tmp_path: Path) -> None:
    line = error_line(invoke("plot", SAMPLE, "-o", tmp_path / "no" / "x.png"), 2)
    assert "no such folder" in line


def test_without_the_plot_extra_it_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    line = error_line(invoke("plot", SAMPLE, "-o", tmp_path / "x.png"), 2)
    assert line == (
        "xtape: error: xtape plot needs matplotlib, which is not installed; "
        "install the plot extra: pip install 'xtape[plot]'"
    )
    assert not (tmp_path / "x.png").exists()
    # info's sparklines need no extra.
    assert "rate:" in ok(invoke("info", SAMPLE)).stdout


def test_an_existing_picture_is_replaced_whole_with_force(tmp_path: Path) -> None:
    out = tmp_path / "p.svg"
    out.write_text("old")
    ok(invoke("plot", SAMPLE, "-o", out, "--force"))
    assert out.read_text().startswith("<?xml")
    assert [p.name for p in tmp_path.iterdir()] == ["p.svg"]  # no temporary file left


# -- info sparklines -----------------------------------------------------------------------


def test_sparkline_levels() -> None:
    assert sparkline([0, 1, 4, 8]) == " ▁▄█"
    assert sparkline([0, 1, 4, 8], unicode=False) == " _:#"
    assert sparkline([0, 0]) == "  "
    assert sparkline([100, 1]) == "█▁"  # one entry still shows


def test_info_shows_a_sparkline_per_stream(eventful: Path) -> None:
    text = ok(invoke("info", eventful)).stdout
    rate = next(line for line in text.splitlines() if line.startswith("rate:"))
    assert "peak" in rate and "24 buckets of 12.5 s" in rate
    us = next(line for line in text.splitlines() if line.strip().startswith("orders:us"))
    spark = us.split("|")[1]
    assert len(spark) == 24
    assert set(spark) <= set(BLOCKS + " ")
    assert " " in spark  # the 30 s without entries
    eu = next(line for line in text.splitlines() if line.strip().startswith("orders:eu"))
    assert "█" in eu.split("|")[1] and "▃" in eu.split("|")[1]  # tripled for 20 s


def test_info_sparklines_fall_back_to_ascii(eventful: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    proc = subprocess.run(
        [XTAPE, "info", str(eventful)],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("ascii")  # nothing but ASCII
    us = next(line for line in text.splitlines() if line.strip().startswith("orders:us"))
    assert set(us.split("|")[1]) <= set(ASCII_LEVELS + " ")


def test_info_without_sparklines_and_from_standard_input(eventful: Path) -> None:
    assert "rate:" not in ok(invoke("info", eventful, "--no-sparkline")).stdout
    with eventful.open("rb") as fh:
        piped = subprocess.run(
            [XTAPE, "info", "-"], stdin=fh, capture_output=True, timeout=60, check=False
        )
    assert piped.returncode == 0 and b"rate:" not in piped.stdout and b"orders:us" in piped.stdout


def test_markers_at_about_the_same_time_share_one_label(tmp_path: Path) -> None:
    # a FLUSHALL and the deletions it causes are written within milliseconds: their
    # labels would print over each other, so one label names the kinds in order
    path = tmp_path / "flush.xtape"
    with RecordingWriter(path) as w:
        for sec in range(60):
            entries = [[f"{T0 + sec * 1000}-{j}".encode(), [b"k", b"v"]] for j in range(5)]
            w.write_entries(b"s", entries, (T0 + sec * 1000 + 999) * NS_PER_MS)
            if sec == 30:
                at = (T0 + 30_500) * NS_PER_MS
                w.write_marker("flush", "the server's data was flushed", at)
                w.write_marker("deleted", "stream 'a' was deleted", at + 2_000_000)
                w.write_marker("deleted", "stream 'b' was deleted", at + 3_000_000)
            if sec == 50:
                w.write_marker("reconnect", "reconnected", (T0 + 50_500) * NS_PER_MS)
    out = tmp_path / "flush.svg"
    ok(invoke("plot", path, "-o", out))
    svg = out.read_text()
    labels = re.findall(r"rotate\(-90\)\"> ([a-z, ]+)</text>", svg)  # the vertical labels
    assert labels == ["flush, deleted", "reconnect"], labels
