"""Opening a replay's source (``open_source``): kinds told by content, the warnings and
seed it carries, option checks in ``ReplayOptions``, progress with totals and ETA, and
the three-line library use that ``docs/replay.md`` shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import redis
from support.e2e import UNREACHABLE_URL, invoke, ok, write_recording
from support.paths import ROOT
from support.replay import ListSource

from xtape.errors import UsageError
from xtape.recording import RecordingWriter
from xtape.replay import (
    FakeClock,
    MemoryPublisher,
    OpenedSource,
    Pacing,
    ReplayOptions,
    ReplayProgress,
    open_source,
    replay_through,
)
from xtape.timeline import NS_PER_MS, Event, ScheduleFn
from xtape.transform import Transform

DOCS = ROOT / "docs" / "replay.md"
SMOKE = ROOT / "scenarios" / "smoke-test.yaml"
T0 = 1_700_000_000_000


def recording(path: Path, n: int = 3) -> Path:
    return write_recording(path, [(b"s", T0 + 100 * i, 0, [b"i", b"%d" % i]) for i in range(n)])


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize("name", ["x.txt", "recording", "data.yaml"])
def test_a_recording_is_told_by_its_content_whatever_its_name(name: str, tmp_path: Path) -> None:
    path = recording(tmp_path / name)
    source = open_source(path)
    assert source.kind == "recording"
    result = ok(invoke("replay", path, "--dry-run", "--url", UNREACHABLE_URL))
    assert result.stdout.splitlines() == [
        "+0.000s  s  1 field",
        "+0.100s  s  1 field",
        "+0.200s  s  1 field",
    ]


def test_a_scenario_source_carries_its_seed_only_when_it_generates(tmp_path: Path) -> None:
    generated = tmp_path / "g.yaml"
    generated.write_text("events:\n  - {stream: price.update, generator: true}\n")
    fixed = tmp_path / "f.yaml"
    fixed.write_text("events:\n  - {stream: s, payload: {a: 1}}\n")
    assert open_source(generated, seed=42).seed == 42
    assert open_source(fixed, seed=42).seed is None


def test_scenario_and_recording_options_are_refused_for_the_other_kind(tmp_path: Path) -> None:
    rec = recording(tmp_path / "r.xtape")
    with pytest.raises(UsageError, match="apply to scenarios"):
        open_source(rec, variables={"a": "b"})
    with pytest.raises(UsageError, match="--clock applies to recordings"):
        open_source(SMOKE, time_base="capture")


# --------------------------------------------------------------------------- warnings


def test_a_recording_with_gaps_is_warned_about_before_the_replay(tmp_path: Path) -> None:
    path = tmp_path / "gappy.xtape"
    with RecordingWriter(path) as writer:
        writer.write_entries(b"s", [[b"%d-0" % T0, [b"a", b"1"]]], 1)
        writer.write_gap(b"s", b"%d-0" % T0, b"%d-0" % (T0 + 50), 120, 2)
        writer.write_entries(b"s", [[b"%d-0" % (T0 + 50), [b"a", b"2"]]], 3)

    assert any("1 gap (120 entries trimmed" in w for w in open_source(path).warnings)
    result = ok(invoke("replay", path, "--dry-run", "--url", UNREACHABLE_URL))
    assert f"xtape: warning: {path}: the recording has 1 gap (120 entries trimmed" in result.stderr
    assert "on s)" in result.stderr


def test_a_map_that_matches_no_stream_is_warned_about_at_the_end(tmp_path: Path) -> None:
    result = ok(
        invoke(
            "replay",
            SMOKE,
            "--dry-run",
            "--map",
            "order.*=o.*",
            "--map",
            "nope*=x*",
            "--url",
            UNREACHABLE_URL,
        )
    )
    assert result.stderr.splitlines()[0] == (
        "xtape: warning: --map nope*=x*: no stream matched its source; nothing was renamed by it"
    )
    assert "  o.request  " in result.stdout


# --------------------------------------------------------------------------- option checks


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--loop-interval", "10"], "--loop-interval applies to --loop"),
        (["--dry-run", "--loop"], "--dry-run cannot be combined with --loop"),
        (["--maxlen", "0"], "--maxlen must be at least 1, not 0"),
        (["--map", "a*=b*c*"], "DST has 2 '*' and SRC has 1"),
    ],
)
def test_option_combinations_that_make_no_sense_are_refused_in_one_line(
    args: list[str], message: str
) -> None:
    result = invoke("replay", SMOKE, *args, "--url", UNREACHABLE_URL)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"xtape: error: {result.stderr.split('error: ', 1)[1].strip()}"
    ]
    assert message in result.stderr


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loop_interval": 0.005}, "--loop-interval applies to --loop"),
        ({"dry_run": True, "loop": True}, "--dry-run cannot be combined with --loop"),
        ({"maxlen": 0}, "--maxlen must be at least 1"),
        ({"keep_ids": True, "loop": True}, "--keep-ids cannot be combined with --loop"),
    ],
)
def test_replay_options_check_combinations_for_library_users_too(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        ReplayOptions(**kwargs)  # type: ignore[arg-type]


def test_pacing_is_chosen_from_at_most_one_option() -> None:
    assert Pacing.choose() == Pacing.speed(1)
    assert Pacing.choose(rate=5) == Pacing.rate(5)
    with pytest.raises(UsageError, match="choose one of"):
        Pacing.choose(speed=2, max_speed=True)


# --------------------------------------------------------------------------- progress


#: 41 events of one stream, 100 ms apart.
STEADY = [Event.of(i * 100 * NS_PER_MS, b"s", ((b"k", b"v"),)) for i in range(41)]


def test_progress_shows_done_total_percent_rate_and_eta_per_pass() -> None:
    source = OpenedSource(
        ListSource(STEADY, "steady"), "scenario", count=41, stream_counts={b"s": 41}, span_ns=4000 * NS_PER_MS
    )
    seen: list[ReplayProgress] = []
    replay_through(
        source,
        MemoryPublisher(),
        ReplayOptions(loop=True, max_iterations=2, pacing=Pacing.speed(2)),
        clock=FakeClock(),
        progress=seen.append,
    )
    first = [p for p in seen if p.iteration == 0]
    second = [p for p in seen if p.iteration == 1]
    assert first and second
    assert {p.pass_total for p in seen} == {41}
    assert all(p.pass_sent <= 41 and p.percent is not None for p in seen)
    # per pass: done counts restart, ETA counts down to the end of the pass (2 s at 2x)
    assert second[0].pass_sent < first[-1].pass_sent
    for run in (first, second):
        etas = [p.eta_s for p in run]
        assert all(e is not None for e in etas)
        assert etas == sorted(etas, reverse=True)  # type: ignore[type-var]
        assert 0 <= run[-1].eta_s <= 0.5 <= 1.5 <= run[0].eta_s <= 2.0  # type: ignore[operator]
    assert all(9 <= p.rate <= 41 for p in first[2:])  # about 20/s at 2x


def test_progress_total_follows_the_stream_filter_and_eta_the_rate() -> None:
    source = OpenedSource(ListSource(STEADY, "steady"), "scenario", count=50, stream_counts={b"s": 41, b"t": 9})
    seen: list[ReplayProgress] = []
    replay_through(
        source,
        MemoryPublisher(),
        ReplayOptions(pacing=Pacing.rate(10), transform=Transform(streams=("s",))),
        clock=FakeClock(),
        progress=seen.append,
    )
    assert {p.pass_total for p in seen} == {41}
    p = seen[len(seen) // 2]
    assert p.eta_s == pytest.approx((41 - p.pass_sent) / 10)
    assert p.percent == pytest.approx(100 * p.pass_sent / 41)


def test_progress_line_reads_like_a_tool() -> None:
    from xtape.cli.replay import _replay_progress

    p = ReplayProgress(
        sent=2400,
        errors=3,
        iteration=1,
        elapsed_s=9.0,
        pass_sent=1200,
        pass_total=5000,
        rate=3100.4,
        percent=24.0,
        eta_s=4332.0,
    )
    assert (
        _replay_progress(p) == "replay: 1,200/5,000 (24%), 3,100/s, ETA 1 h 12 m, pass 2, 3 errors"
    )


# --------------------------------------------------------------------------- library use


def library_example() -> str:
    """The fenced code block of docs/replay.md that follows the library-example marker."""
    text = DOCS.read_text()
    after = text.split("<!-- library-example -->", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_three_line_library_example_of_the_docs_runs_with_the_cli_checks_and_warnings(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    path = tmp_path / "traffic.xtape"
    with RecordingWriter(path) as writer:
        writer.write_entries(
            b"orders", [[b"%d-0" % (T0 + i), [b"i", b"%d" % i]] for i in range(5)], 1
        )
        writer.write_gap(b"orders", b"1-0", b"2-0", 7, 2)
    code = library_example()
    assert (
        len([line for line in code.splitlines() if line and not line.startswith(("from", "#"))])
        == 3
    )
    code = code.replace('"traffic.xtape"', repr(str(path))).replace(
        '"redis://localhost:6379/0"', repr(redis_url)
    )
    scope: dict[str, object] = {}
    exec(code, scope)

    report = scope["report"]
    source = scope["source"]
    assert report.published == 5 == r.xlen(b"orders")  # type: ignore[attr-defined]
    assert any("1 gap" in w for w in source.warnings)  # type: ignore[attr-defined]
    assert json.dumps(report.to_dict())  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- max speed


def test_a_full_speed_replay_reads_no_offsets_but_the_same_entries(tmp_path: Path) -> None:
    path = write_recording(
        tmp_path / "r.xtape",
        [(b"a", T0 + 5 * i, i // 4, [b"i", b"%d" % i, b"i", b""]) for i in range(40)]
        + [(b"b", T0 + 5 * i + 1, i // 4, [b"\xff", b"%d" % i]) for i in range(40)],
    )
    fast = open_source(path, ReplayOptions(Pacing.max_speed()))
    until = open_source(
        path, ReplayOptions(Pacing.max_speed(), transform=Transform(until=0.05))
    )
    paced = open_source(path, ReplayOptions(Pacing.speed(1.0)))
    nothing: ScheduleFn = lambda seq, offset: 0  # noqa: E731
    fast_events = list(fast.timeline(0, nothing))
    paced_events = list(paced.timeline(0, nothing))
    # untimed: every offset 0, nothing else changed (per stream, the same entries in order)
    assert {e.offset_ns for e in fast_events} == {0}
    for stream in (b"a", b"b"):
        assert [e[1:] for e in fast_events if e.stream == stream] == [
            e[1:] for e in paced_events if e.stream == stream
        ]
    assert max(e.offset_ns for e in paced_events) == 196 * NS_PER_MS
    # --until picks entries by their offsets, so they are read even at full speed
    until_offsets = [e.offset_ns for e in until.timeline(0, nothing)]
    assert max(until_offsets) > 0
