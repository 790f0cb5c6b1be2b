"""Pacing and batching, on a fake clock: no test here sleeps for real but the real clock's
own (never early, wide bounds on late)."""

from __future__ import annotations

import itertools
import re
import time
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xtape.errors import UsageError
from xtape.replay import Batch, FakeClock, MonotonicClock, Pacing, batches
from xtape.replay.pacing import MODES, choose
from xtape.timeline import NS_PER_MS, NS_PER_S, Event

F = ((b"k", b"v"),)


def at_ms(*offsets_ms: float, stream: bytes = b"s") -> list[Event]:
    return [Event.of(round(ms * NS_PER_MS), stream, F) for ms in offsets_ms]


def run(
    events: list[Event], pacing: Pacing, clock: FakeClock, cap: int | None = None
) -> list[Batch]:
    return list(batches(events, clock=clock, pacing=pacing, start_ns=clock.now_ns(), cap=cap))


offsets = st.lists(st.integers(min_value=0, max_value=10**13), max_size=50).map(sorted)
speeds = st.floats(min_value=0.01, max_value=1000, allow_nan=False, allow_infinity=False)


@given(offsets, speeds)
def test_speed_deadlines_never_decrease_and_scale_linearly(offs: list[int], speed: float) -> None:
    pacing = Pacing.speed(speed)
    deadlines = [pacing.deadline_ns(i, o) for i, o in enumerate(offs)]
    assert deadlines == sorted(deadlines)
    for offset, deadline in zip(offs, deadlines, strict=True):
        # deadline * speed == offset, up to rounding to whole nanoseconds
        assert abs(deadline * speed - offset) <= speed / 2 + offset * 1e-12
    doubled = Pacing.speed(speed * 2)
    for i, offset in enumerate(offs):
        assert abs(doubled.deadline_ns(i, offset) * 2 - pacing.deadline_ns(i, offset)) <= 2


@given(st.lists(st.integers(min_value=0, max_value=10 * NS_PER_S), max_size=60), speeds)
def test_batched_deadlines_never_decrease_even_for_unordered_offsets(
    offs: list[int], speed: float
) -> None:
    events = [Event.of(o, b"s", ((b"i", b"%d" % i),)) for i, o in enumerate(offs)]
    clock = FakeClock()
    out = run(events, Pacing.speed(speed), clock, cap=7)
    deadlines = [d for b in out for d in b.deadlines]
    assert deadlines == sorted(deadlines)
    assert [e for b in out for e in b.events] == events  # all of them, in timeline order
    assert all(1 <= len(b.events) <= 7 for b in out)


def test_due_events_are_published_in_one_batch() -> None:
    clock = FakeClock()
    out = run(at_ms(0, 0, 0, 10, 10, 20), Pacing.speed(1), clock)
    assert [len(b.events) for b in out] == [3, 2, 1]
    assert clock.sleeps == [10 * NS_PER_MS, 20 * NS_PER_MS]


def test_deadlines_are_absolute_from_the_start_not_accumulated() -> None:
    clock = FakeClock(now=5 * NS_PER_S)
    gen = batches(at_ms(0, 10, 20, 30), clock=clock, pacing=Pacing.speed(1), start_ns=clock.now)
    publish_times = []
    for _ in gen:
        publish_times.append(clock.now)
        clock.advance(3 * NS_PER_MS)  # publishing takes 3 ms each time
    # still due at 10, 20, 30 ms after the start: the 3 ms of work does not add up
    assert [t - 5 * NS_PER_S for t in publish_times] == [
        0,
        10 * NS_PER_MS,
        20 * NS_PER_MS,
        30 * NS_PER_MS,
    ]


def test_events_that_fall_due_while_publishing_join_the_next_batch() -> None:
    clock = FakeClock()
    sizes = []
    for batch in batches(at_ms(0, 1, 2, 3, 8), clock=clock, pacing=Pacing.speed(1), start_ns=0):
        sizes.append(len(batch.events))
        clock.advance(5 * NS_PER_MS)
    assert sizes == [1, 3, 1]
    assert clock.sleeps == []  # always behind, never waited


def test_batch_cap_splits_a_burst() -> None:
    out = run(at_ms(*([0] * 2500)), Pacing.speed(1), FakeClock(), cap=1000)
    assert [len(b.events) for b in out] == [1000, 1000, 500]


def test_speed_scales_the_waits() -> None:
    clock = FakeClock()
    run(at_ms(0, 100, 300), Pacing.speed(4), clock)
    assert clock.sleeps == [25 * NS_PER_MS, 75 * NS_PER_MS]


def test_rate_pacing_spaces_events_evenly_ignoring_offsets() -> None:
    clock = FakeClock()
    out = run(at_ms(0, 0, 0, 5000, 5001), Pacing.rate(100), clock)
    assert [d for b in out for d in b.deadlines] == [i * 10 * NS_PER_MS for i in range(5)]
    assert clock.now == 40 * NS_PER_MS


def test_max_speed_never_sleeps_and_uses_large_batches() -> None:
    clock = FakeClock()
    out = run(at_ms(*range(0, 22_000_000, 1000)), Pacing.max_speed(), clock)
    assert clock.sleeps == []
    # A small first batch (Redis starts on it while the next is made), doubling to the cap.
    assert [len(b.events) for b in out] == [500, 1000, 2000, 4000, 5000, 5000, 4500]


def test_idle_callback_runs_during_a_long_wait_in_slices() -> None:
    clock = FakeClock()
    calls: list[int] = []
    gen = batches(
        at_ms(0, 1000),
        clock=clock,
        pacing=Pacing.speed(1),
        start_ns=0,
        on_idle=lambda: calls.append(clock.now),
        idle_every_ns=100 * NS_PER_MS,
    )
    assert sum(len(b.events) for b in gen) == 2
    assert calls == [i * 100 * NS_PER_MS for i in range(10)]
    assert clock.now == NS_PER_S


@pytest.mark.parametrize("make", [Pacing.speed, Pacing.rate])
@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan")])
def test_pacing_refuses_values_that_are_not_positive(make: object, value: float) -> None:
    with pytest.raises(UsageError, match="must be > 0"):
        make(value)  # type: ignore[operator]


def test_pacing_describes_itself_for_reports() -> None:
    assert [p.describe() for p in (Pacing.speed(2.5), Pacing.max_speed(), Pacing.rate(100))] == [
        "2.5x",
        "max speed",
        "100/s",
    ]


def test_monotonic_clock_wakes_close_to_the_deadline() -> None:
    clock = MonotonicClock()
    lateness = []
    for _ in range(20):
        deadline = clock.now_ns() + 2 * NS_PER_MS
        clock.sleep_until(deadline)
        lateness.append(time.monotonic_ns() - deadline)
    assert min(lateness) >= 0  # never early
    # wide: a loaded machine may keep the spinning thread off the CPU for a few ms
    assert sorted(lateness)[len(lateness) // 2] < 5 * NS_PER_MS


class BoundedIdle:
    """An idle callback that fails the test once called more than ``limit`` times."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls > self.limit:
            raise AssertionError(f"the scheduler woke {self.calls} times for one wait")


@pytest.mark.parametrize("gap_ms", [1_000, 10 * 86_400_000, 1_700_000_000_000])
def test_dry_run_clock_jumps_over_a_wait_in_one_step_whatever_its_length(gap_ms: int) -> None:
    clock = FakeClock.starting_now()
    idle = BoundedIdle(limit=1)
    out = list(
        batches(
            at_ms(0, 1, gap_ms),
            clock=clock,
            pacing=Pacing.speed(1),
            start_ns=0,
            on_idle=idle,
            idle_every_ns=100 * NS_PER_MS,
        )
    )
    assert [len(b.events) for b in out] == [1, 1, 1]
    assert clock.now == gap_ms * NS_PER_MS
    assert idle.calls == 1  # the long wait: one idle call, then one jump


# ------------------------------------------------------------------ the ramp timing mode

RAMP = "1000:20000:5m"  # 1,000/s rising to 20,000/s over 300 s: 3,150,000 events in the ramp


def _events_by(t: Fraction, start: int = 1000, end: int = 20000, duration: int = 300) -> Fraction:
    """The integral of the ramp's rate from 0 to ``t`` seconds (exact)."""
    if t <= duration:
        return start * t + Fraction(end - start, 2 * duration) * t * t
    return Fraction((start + end) * duration, 2) + end * (t - duration)


@pytest.mark.parametrize(
    "n", [0, 1, 2, 10, 999, 1000, 12_345, 1_000_000, 3_149_999, 3_150_000, 3_150_001, 5_000_000, 10**9]
)
def test_ramp_deadline_of_event_n_is_where_the_rates_integral_reaches_n(n: int) -> None:
    pacing = choose(rate_ramp=RAMP)
    t = Fraction(pacing.deadline_ns(n, 0), NS_PER_S)
    # rounded to the nanosecond: the integral is n within half a nanosecond of the rate
    assert abs(_events_by(t) - n) <= Fraction(20000, 2 * NS_PER_S) * Fraction(101, 100)


def test_ramp_reaches_the_end_rate_at_its_duration_and_keeps_it_without_drift() -> None:
    pacing = choose(rate_ramp=RAMP)
    assert pacing.deadline_ns(0, 0) == 0
    assert pacing.deadline_ns(3_150_000, 0) == 300 * NS_PER_S  # the ramp's events, exactly
    assert pacing.deadline_ns(3_350_000, 0) == 310 * NS_PER_S  # then 20,000/s
    # a day later, still exact: each deadline is the closed form, not a sum of steps
    n = 3_150_000 + 20000 * 86400
    assert pacing.deadline_ns(n, 0) == (300 + 86400) * NS_PER_S
    assert pacing.deadline_ns(n + 1, 0) - pacing.deadline_ns(n, 0) == NS_PER_S // 20000
    # the first gaps are about 1/1000 s, the last ones of the ramp about 1/20000 s
    assert abs(pacing.deadline_ns(1, 0) - NS_PER_S // 1000) < 10_000
    gap = pacing.deadline_ns(3_149_999, 0) - pacing.deadline_ns(3_149_998, 0)
    assert abs(gap - NS_PER_S // 20000) < 10


def test_ramp_ignores_offsets_and_its_deadlines_rise_ever_faster() -> None:
    pacing = Pacing.rate_ramp(10, 100, 1.0)  # 55 events in the ramp's second
    deadlines = [pacing.deadline_ns(i, 0) for i in range(80)]
    assert [pacing.deadline_ns(i, 10**12) for i in range(80)] == deadlines
    gaps = [b - a for a, b in itertools.pairwise(deadlines)]
    assert all(g1 > g2 for g1, g2 in itertools.pairwise(gaps[:54]))
    assert set(gaps[56:]) == {NS_PER_S // 100}


def test_ramp_batches_on_the_fake_clock_are_due_on_the_ramp() -> None:
    clock = FakeClock()
    pacing = Pacing.rate_ramp(10, 100, 1.0)
    out = run(at_ms(*([0] * 80)), pacing, clock)
    expected = [pacing.deadline_ns(i, 0) for i in range(80)]
    assert [d for b in out for d in b.deadlines] == expected
    assert clock.sleeps == expected[1:]  # one wait per event, to its deadline
    assert clock.now == expected[-1] == NS_PER_S + 24 * NS_PER_S // 100


def test_a_falling_ramp_is_the_mirror_of_a_rising_one() -> None:
    down = Pacing.rate_ramp(100, 10, 1.0)
    total = down.deadline_ns(55, 0)
    assert total == NS_PER_S
    assert all(down.deadline_ns(i, 0) <= down.deadline_ns(i + 1, 0) for i in range(70))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("1000:20000", "use START:END:DURATION, e.g. 1000:20000:5m"),
        ("fast:20000:5m", "'fast' is not a rate"),
        ("1000:20000:5", "invalid --rate-ramp duration '5': use a number with a unit"),
        ("1000:20000:0s", "it must be more than zero"),
        ("0:20000:5m", "--rate-ramp must be > 0 (got 0)"),
        ("1000:1e9:5m", "--rate-ramp 1e+09 is out of range"),
    ],
)
def test_rate_ramp_refuses_what_is_not_start_end_duration(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        choose(rate_ramp=spec)


def test_one_timing_mode_at_a_time_and_each_from_its_registry_line() -> None:
    assert set(MODES) == {"speed", "max_speed", "rate", "rate_ramp"}
    with pytest.raises(UsageError, match="choose one of --speed, --max-speed, --rate and --rate-ramp"):
        choose(rate=10, rate_ramp=RAMP)
    assert choose() == Pacing.speed(1) and choose(max_speed=False, rate=None) == Pacing.speed(1)
    assert choose(rate_ramp=RAMP).describe() == "ramp 1000/s to 20000/s over 300 s"
    assert [choose(**{key: value}).describe() for key, value in
            [("speed", 2.5), ("max_speed", True), ("rate", 100)]] == ["2.5x", "max speed", "100/s"]  # fmt: skip


def test_progress_foresees_the_end_of_a_ramp_from_its_last_deadline() -> None:
    pacing = choose(rate_ramp=RAMP)
    assert pacing.eta_s(100 * NS_PER_S, 1_000_000, 3_150_001) == pytest.approx(200)
    assert pacing.eta_s(400 * NS_PER_S, 3_150_001, 3_150_001) == 0
    assert Pacing.rate(100).eta_s(0, 50, 250) == 2 and Pacing.speed(1).eta_s(0, 1, 2) is None
