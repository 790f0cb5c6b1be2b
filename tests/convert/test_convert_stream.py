"""``xtape convert`` at real sizes and with imperfect traffic: it streams (flat memory,
the same text as the whole-document dump), reports progress against the recording's
total, warns about gaps, folds jittery runs with ``--jitter``, and selects the same
window as ``replay --since/--until``."""

from __future__ import annotations

import os
import pty
import random
import re
import subprocess
import tracemalloc
from pathlib import Path

import pytest
from support.e2e import AWKWARD, XTAPE, error_line, invoke, ok

from xtape.convert import ConvertOptions, ConvertProgress, convert, select
from xtape.recording import Recording, RecordingWriter
from xtape.scenario import dump_scenario_yaml, event_from_fields, load_scenario, render
from xtape.timeline import NS_PER_MS
from xtape.units import plural

#: End-to-end or property tests of some seconds: `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow

T0 = 1_700_000_000_000


def write(path: Path, rounds: list[list[tuple[bytes, list[list[object]]]]]) -> Path:
    """A recording of recorder rounds: each a list of ``(stream, raw entries)`` batches
    read at one capture time."""
    with RecordingWriter(path) as writer:
        for i, batches in enumerate(rounds):
            for stream, raw in batches:
                writer.write_entries(stream, raw, (T0 + i) * NS_PER_MS)
    return path


def entry(ms: int, *flat: bytes, seq: int = 0) -> list[object]:
    return [f"{T0 + ms}-{seq}".encode(), list(flat)]


def big_recording(path: Path, n: int) -> Path:
    rng = random.Random(5)
    rounds = []
    for start in range(0, n, 1000):
        raw = [
            entry(
                k,
                b"symbol", rng.choice([b"BTC-USD", b"ETH-USD"]),
                b"price", b"%.2f" % (40_000 + rng.random() * 5_000),
                b"client_id", b"%032x" % rng.getrandbits(128),
            )
            for k in range(start, min(start + 1000, n))
        ]  # fmt: skip
        rounds.append([(b"orders", raw)])
    return write(path, rounds)


def whole_document(path: Path, options: ConvertOptions) -> str:
    """The scenario as the converter wrote it before it streamed: every event in one
    document, dumped at once."""
    events = []
    previous = None
    for event in select(Recording(path).events(), options):
        delay = 0 if previous is None else max(event.offset_ns - previous, 0)
        previous = event.offset_ns if previous is None else max(previous, event.offset_ns)
        ms = delay // NS_PER_MS if delay % NS_PER_MS == 0 else round(delay / NS_PER_MS, 3)
        events.append(event_from_fields(event.stream, event.fields, delay=ms, id=event.id))
    streams = {e["stream"] for e in events}
    return dump_scenario_yaml(
        {
            "name": path.stem,
            "description": f"Converted by xtape from {path.name}: "
            f"{plural(len(events), 'entry', 'entries')} on {plural(len(streams), 'stream')}.",
            "events": events,
        }
    )


def peak_bytes(path: Path, out: Path) -> int:
    tracemalloc.start()
    try:
        convert(path, out)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_convert_streams_in_flat_memory_and_writes_the_whole_document_text(
    tmp_path: Path,
) -> None:
    small_path = big_recording(tmp_path / "small.xtape", 4000)
    small_out = tmp_path / "small.yaml"
    small = peak_bytes(small_path, small_out)
    path = big_recording(tmp_path / "big.xtape", 32_000)
    out = tmp_path / "big.yaml"

    big = peak_bytes(path, out)

    # 8x the entries, about the same memory (the reader's buffers); holding the
    # events, as the converter did, would take several times the file's size.
    size = out.stat().st_size
    assert size > 5 * 2**20
    assert big < small * 1.5 + 2**20, (small, big)
    # The text compared on the small one (the converter has no size-dependent step; the
    # whole-document dump of the big one alone took 6 s of CPU).
    assert small_out.read_text(encoding="utf-8") == whole_document(small_path, ConvertOptions())


def test_awkward_traffic_converts_to_the_whole_document_text(tmp_path: Path) -> None:
    raw = [entry(10 * i, *flat) for i, flat in enumerate(AWKWARD * 3)]
    raw += [entry(100 + i, b"v", text, seq=i) for i, text in enumerate([b"5.0", b"{{x}}", b"a\nb"])]
    path = write(tmp_path / "awk.xtape", [[(b"s:\xc3\xa9", raw)]])
    out = tmp_path / "awk.yaml"

    convert(path, out)

    assert out.read_text(encoding="utf-8") == whole_document(path, ConvertOptions())
    assert ok(invoke("validate", out)).stdout.startswith(f"ok  {out}: 15 events")


def test_progress_counts_against_the_recordings_total(tmp_path: Path) -> None:
    path = big_recording(tmp_path / "p.xtape", 5000)
    seen: list[ConvertProgress] = []

    convert(path, tmp_path / "p.yaml", progress=seen.append, progress_every=0)

    assert len(seen) >= 4
    assert all(p.total == 5000 for p in seen)
    reads = [p.read for p in seen]
    assert reads == sorted(reads)
    last = seen[-1]
    assert (last.read, last.entries, last.events, last.fraction) == (5000, 5000, 5000, 1.0)
    assert last.rate > 0
    assert last.eta_s == 0


def test_cli_draws_no_progress_line_without_a_terminal(tmp_path: Path) -> None:
    path = big_recording(tmp_path / "q.xtape", 3000)
    out = tmp_path / "q.yaml"

    result = ok(invoke("convert", path, "-o", out))

    assert "\r" not in result.stderr
    assert result.stderr.splitlines() == [result.stderr.splitlines()[0]]
    assert result.stderr.startswith(f"wrote {out}: 3000 events from 3000 entries on 1 stream")


def test_cli_draws_progress_on_a_terminal_then_clears_it(tmp_path: Path) -> None:
    path = big_recording(tmp_path / "t.xtape", 3000)
    out = tmp_path / "t.yaml"
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [XTAPE, "convert", str(path), "-o", str(out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=slave,
            timeout=60,
            check=False,
        )
        os.close(slave)
        slave = -1
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)

    assert proc.returncode == 0
    text = seen.decode()
    assert "\rconvert: 3,000/3,000 entries (100%), " in text
    assert "/s, ETA 0 s" in text
    assert re.search(r"\r +\rwrote ", text)  # the line is cleared before the summary


def test_a_failed_conversion_leaves_no_file_behind(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.xtape", [[(b"\xff", [entry(0, b"k", b"v")])]])
    out = tmp_path / "bad.yaml"

    line = error_line(invoke("convert", path, "-o", out), 2)

    assert "not UTF-8" in line
    assert list(tmp_path.iterdir()) == [path]


def test_convert_warns_once_when_the_recording_has_gaps(tmp_path: Path) -> None:
    path = tmp_path / "gaps.xtape"
    with RecordingWriter(path) as writer:
        writer.write_entries(b"s", [entry(0, b"k", b"1")], T0 * NS_PER_MS)
        writer.write_gap(b"s", b"%d-0" % T0, b"%d-0" % (T0 + 50), 7, (T0 + 1) * NS_PER_MS)
        writer.write_entries(b"s", [entry(50, b"k", b"2")], (T0 + 1) * NS_PER_MS)
    out = tmp_path / "gaps.yaml"

    result = ok(invoke("convert", path, "-o", out))

    warnings = [line for line in result.stderr.splitlines() if line.startswith("xtape: warning:")]
    assert len(warnings) == 1
    assert "the recording has 1 gap (7 entries trimmed before they were recorded, on s)" in warnings[0]
    assert len(load_scenario(out).events) == 2


def test_no_gap_no_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.xtape", [[(b"s", [entry(0, b"k", b"1")])]])

    result = ok(invoke("convert", path, "-o", tmp_path / "ok.yaml"))

    assert "xtape: warning" not in result.stderr


# --------------------------------------------------------------------------- --jitter


def jittery(path: Path) -> Path:
    """14 equal entries 100 ms +/- 5 ms apart, then a different one 300 ms later."""
    intervals = [95, 105, 103, 97, 100, 101, 99, 104, 96, 102, 98, 105, 95]
    at = [sum(intervals[:i]) for i in range(14)]
    raw = [entry(ms, b"beat", b"1") for ms in at] + [entry(1600, b"beat", b"2")]
    return write(path, [[(b"tick", raw)]])


def offsets_ms(scenario_path: Path) -> list[float]:
    return [e.offset_ns / NS_PER_MS for e in render(load_scenario(scenario_path), seed=1)]


def test_collapse_repeats_with_jitter_folds_a_jittery_run_into_one_event(tmp_path: Path) -> None:
    path = jittery(tmp_path / "j.xtape")
    strict, loose = tmp_path / "strict.yaml", tmp_path / "loose.yaml"

    ok(invoke("convert", path, "-o", strict, "--collapse-repeats"))
    ok(invoke("convert", path, "-o", loose, "--collapse-repeats", "--jitter", "5ms"))

    assert len(load_scenario(strict).events) > 2
    run, after = load_scenario(loose).events
    assert (run.repeat, run.interval, run.payload) == (14, 100, {"beat": "1"})
    assert after.payload == {"beat": "2"}
    # the event after the run keeps its time, and the run spans what it spanned
    assert offsets_ms(loose)[-1] == 1600
    assert offsets_ms(loose)[-2] == 1300


def test_jitter_does_not_fold_intervals_further_apart(tmp_path: Path) -> None:
    raw = [entry(ms, b"beat", b"1") for ms in (0, 100, 200, 320, 420)]
    path = write(tmp_path / "far.xtape", [[(b"tick", raw)]])
    out = tmp_path / "far.yaml"

    ok(invoke("convert", path, "-o", out, "--collapse-repeats", "--jitter", "5ms"))

    events = load_scenario(out).events
    assert [e.repeat for e in events] == [3, 2]
    assert offsets_ms(out) == [0, 100, 200, 320, 420]


def test_jitter_without_collapse_repeats_is_refused(tmp_path: Path) -> None:
    path = jittery(tmp_path / "j.xtape")

    line = error_line(invoke("convert", path, "-o", tmp_path / "x.yaml", "--jitter", "5ms"), 2)

    assert "--collapse-repeats" in line


# --------------------------------------------------------------------------- --since


@pytest.fixture()
def late_and_out_of_order(tmp_path: Path) -> Path:
    """Round 1 reads stream a (ids from 200 ms) before stream b (ids from 0 ms); round 2
    finds stream c, read from its start (ids from 50 ms)."""
    return write(
        tmp_path / "order.xtape",
        [
            [
                (b"a", [entry(ms, b"at", b"a%d" % ms) for ms in range(200, 1000, 100)]),
                (b"b", [entry(ms, b"at", b"b%d" % ms) for ms in range(0, 1000, 100)]),
            ],
            [(b"c", [entry(ms, b"at", b"c%d" % ms) for ms in range(50, 1000, 100)])],
        ],
    )


def replayed_ids(path: Path, *options: str) -> list[str]:
    result = ok(invoke("replay", path, "--dry-run", "-v", "--keep-ids", *options))
    return sorted(line.split()[2] for line in result.stdout.splitlines())


def converted_ids(path: Path, *options: str) -> list[str]:
    out = path.with_name("window.yaml")
    ok(invoke("convert", path, "-o", out, "--force", *options))
    return sorted(str(e.id) for e in load_scenario(out).events)


@pytest.mark.parametrize(
    "window",
    [["--since", "300ms"], ["--until", "450ms"], ["--since", "250ms", "--until", "700ms"]],
    ids=" ".join,
)
def test_convert_and_replay_select_the_same_window(
    late_and_out_of_order: Path, window: list[str]
) -> None:
    path = late_and_out_of_order
    converted = converted_ids(path, *window)

    assert converted == replayed_ids(path, *window)
    assert converted == replayed_ids(path, *window, "--max-speed")
    assert converted == replayed_ids(path, *window, "--rate", "1000")
    if window[0] == "--since":
        # the window counts from the earliest entry of the first round (b's 0 ms)
        assert f"{T0 + int(window[1][:-2])}-0" in converted


@pytest.mark.parametrize(
    "command",
    [
        ["convert", "{rec}", "-o", "{out}", "--since", "1500"],
        ["convert", "{rec}", "-o", "{out}", "--until", "2"],
        ["replay", "{rec}", "--dry-run", "--since", "1500"],
        ["replay", "{rec}", "--dry-run", "--until", "1.5"],
        ["record", "s", "-o", "{out}", "--url", "redis://127.0.0.1:1/0", "--duration", "1500"],
        ["record", "s", "-o", "{out}", "--url", "redis://127.0.0.1:1/0", "--until-idle", "3"],
        ["record", "s", "-o", "{out}", "--url", "redis://127.0.0.1:1/0", "--from", "-5"],
    ],
    ids=lambda c: f"{c[0]} {c[-2]} {c[-1]}",
)
def test_a_duration_without_a_unit_is_refused_everywhere(
    late_and_out_of_order: Path, command: list[str]
) -> None:
    out = late_and_out_of_order.with_name("unit.out")
    args = [a.format(rec=late_and_out_of_order, out=out) for a in command]

    line = error_line(invoke(*args), 2)

    assert "with a unit: ms, s, m, h or d" in line
    assert f"{args[-1]!r}" in line
    assert not out.exists()


def test_an_entry_of_the_wrong_shape_is_a_damaged_recording_not_a_traceback(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "odd.xtape", [[(b"s", [entry(0, b"k", b"v", b"dangling")])]])

    line = error_line(invoke("convert", path, "-o", tmp_path / "odd.yaml"), 2)

    assert "damaged" in line
