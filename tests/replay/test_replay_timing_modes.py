"""Every timing mode on the fake clock, through the path the CLI takes (``open_source`` on
a recording file or a scenario, then ``replay``), with exact times: the irregular
traffic of :mod:`support.timing` at 1x and 4x, at a fixed rate, on a rate ramp and at
max speed. The same modes run for real, once each with wide bounds, in
tests/e2e/test_e2e_timing.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.replay import ListSource, TimedPublisher
from support.timing import LAST_MS, RAMP, TOTAL, offsets_by_stream, ramp_due_ms, write_irregular

from xtape.replay import FakeClock, Pacing, ReplayOptions, ReplayReport, replay_through
from xtape.replay.pacing import choose
from xtape.replay.source import open_source
from xtape.timeline import NS_PER_MS, NS_PER_S, Event
from xtape.transform import Transform


@pytest.fixture(scope="module")
def irregular(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_irregular(tmp_path_factory.mktemp("timing") / "irregular.xtape")


def play(path: Path, options: ReplayOptions, cost_ns: int = 0) -> tuple[TimedPublisher, ReplayReport, FakeClock]:
    """Replay ``path`` as ``xtape replay`` does, into memory, on a fake clock (each
    publish taking ``cost_ns``)."""
    clock = FakeClock()
    publisher = TimedPublisher(clock, cost_ns=cost_ns)
    report = replay_through(open_source(path, options), publisher, options, clock=clock)
    return publisher, report, clock


def times_by_stream(publisher: TimedPublisher) -> dict[bytes, list[int]]:
    out: dict[bytes, list[int]] = {}
    for event, at in zip(publisher.events, publisher.times, strict=True):
        out.setdefault(event.stream, []).append(at)
    return out


@pytest.mark.parametrize("speed", [1, 4])
def test_irregular_traffic_is_published_exactly_on_schedule(speed: int, irregular: Path) -> None:
    publisher, report, _ = play(irregular, ReplayOptions(pacing=Pacing.speed(speed)))

    expected = {s: [ms * NS_PER_MS // speed for ms in offs] for s, offs in offsets_by_stream().items()}
    assert times_by_stream(publisher) == expected
    assert report.published == TOTAL and report.errors == 0
    assert report.pacing == f"{speed}x"
    assert report.duration_s == pytest.approx(LAST_MS / speed / 1000)
    assert report.lateness is not None and report.lateness.max_ms == 0


def test_the_cost_of_publishing_delays_each_batch_and_never_adds_up(irregular: Path) -> None:
    """Each publish takes 7 ms: every batch still starts at its deadline (the gaps are
    at least 10 ms), is done 7 ms late, and the last ends at 1507 ms, not later."""
    publisher, report, _ = play(irregular, ReplayOptions(), cost_ns=7 * NS_PER_MS)

    expected = {s: [ms * NS_PER_MS for ms in offs] for s, offs in offsets_by_stream().items()}
    assert times_by_stream(publisher) == expected
    assert report.lateness is not None
    assert report.lateness.p50_ms == report.lateness.max_ms == 7
    assert report.duration_s == pytest.approx((LAST_MS + 7) / 1000)


def test_a_fixed_rate_spaces_the_entries_evenly_ignoring_their_spacing(irregular: Path) -> None:
    options = ReplayOptions(pacing=Pacing.rate(500), transform=Transform(streams=("t:c",)))
    publisher, report, _ = play(irregular, options)

    # t:c has 7 entries, at 410 ... 1500 ms in the recording: entry i is due at i / 500 s
    assert [e.stream for e in publisher.events] == [b"t:c"] * 7
    assert publisher.times == [i * 2 * NS_PER_MS for i in range(7)]
    assert report.pacing == "500/s" and report.published == 7
    assert report.duration_s == pytest.approx(0.012)


def test_a_rate_ramp_publishes_ever_faster_ignoring_the_spacing(irregular: Path) -> None:
    options = ReplayOptions(pacing=choose(rate_ramp=RAMP), transform=Transform(streams=("t:a",)))
    publisher, report, _ = play(irregular, options)

    assert len(publisher.times) == report.published == 126
    misses = [(n, at) for n, at in enumerate(publisher.times) if abs(at - ramp_due_ms(n) * NS_PER_MS) > 1000]
    assert misses == [], f"entries off the ramp (n, ns): {misses[:10]}"
    assert report.pacing == "ramp 100/s to 1000/s over 1 s"
    assert report.duration_s == pytest.approx(ramp_due_ms(125) / 1000, abs=1e-6)


def test_max_speed_never_waits(irregular: Path) -> None:
    publisher, report, clock = play(irregular, ReplayOptions(pacing=Pacing.max_speed()), cost_ns=NS_PER_MS)

    assert clock.sleeps == []
    assert report.published == TOTAL and report.lateness is None
    assert report.pacing == "max speed"
    assert clock.now == NS_PER_MS  # one batch of 477, one publish's cost: no gap waited
    assert sum(1 for e in publisher.events if e.stream == b"t:a") == 126


def test_bursts_and_singles_at_1x_go_out_at_their_offsets() -> None:
    # bursts of 60 at 0, 100, 250 and 400 ms, singles every 10 ms in between
    offsets_ms = (
        [0] * 60
        + list(range(10, 100, 10))
        + [100] * 60
        + [250] * 60
        + list(range(260, 400, 20))
        + [400] * 60
    )
    events = [Event.of(ms * NS_PER_MS, b"s", ((b"at", b"%d" % ms),)) for ms in offsets_ms]
    clock = FakeClock()
    publisher = TimedPublisher(clock, cost_ns=NS_PER_MS // 2)

    report = replay_through(ListSource(events), publisher, ReplayOptions(), clock=clock)

    assert publisher.times == [ms * NS_PER_MS for ms in offsets_ms]
    assert report.published == len(events)
    assert report.duration_s == pytest.approx(0.4005)
    assert report.lateness is not None and report.lateness.max_ms == 0.5


def test_the_timestamp_variable_is_the_wall_time_the_entry_is_published(tmp_path: Path) -> None:
    path = tmp_path / "stamped.yaml"
    path.write_text(
        "events:\n"
        '  - {stream: s, payload: {t: "{{timestamp}}"}}\n'
        '  - {stream: s, delay: 200, repeat: 3, interval: 100, payload: {t: "{{timestamp}}"}}\n'
    )
    options = ReplayOptions(pacing=Pacing.speed(2))
    clock = FakeClock(wall_at_zero=1_700_000_000_000 * NS_PER_MS)
    publisher = TimedPublisher(clock)

    replay_through(open_source(path, options), publisher, options, clock=clock)

    stamps = [int(e.fields[0][1]) for e in publisher.events]
    assert [s - stamps[0] for s in stamps] == [0, 100, 150, 200]  # offsets / speed
    assert stamps == [clock.wall_at_zero // NS_PER_MS + t // NS_PER_MS for t in publisher.times]
    assert clock.now == NS_PER_S // 5
