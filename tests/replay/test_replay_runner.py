"""The replay loop on a fake clock with in-memory publishers: loop, schedule, reports,
keep-ids checks, progress and interruption."""

from __future__ import annotations

import gc
import json
import signal
import threading
from collections.abc import Iterator
from itertools import pairwise

import pytest
from support.replay import ListSource, TimedPublisher

from xtape.errors import KeepIdsConflict, PublishFailed, ReplayAborted, UsageError
from xtape.ids import parse_id
from xtape.process import process_state
from xtape.replay import (
    FakeClock,
    MemoryPublisher,
    Pacing,
    ReplayOptions,
    ReplayProgress,
    first_ids,
    replay_through,
)
from xtape.timeline import NS_PER_MS, NS_PER_S, Event, ScheduleFn
from xtape.transform import Transform

F = ((b"k", b"v"),)


class StampingSource:
    """Like a scenario using ``{{timestamp}}``: puts ``schedule(seq, offset)`` in a field."""

    name = "stamping"

    def __init__(self, offsets_ms: list[int]) -> None:
        self.offsets = [ms * NS_PER_MS for ms in offsets_ms]

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Iterator[Event]:
        for seq, offset in enumerate(self.offsets):
            yield Event.of(offset, b"s", ((b"ts", b"%d" % schedule(seq, offset)),))


def at_ms(*offsets_ms: int, stream: bytes = b"s") -> list[Event]:
    return [Event.of(ms * NS_PER_MS, stream, F) for ms in offsets_ms]


def ms(values: list[int]) -> list[float]:
    return [v / NS_PER_MS for v in values]


def test_loop_pass_starts_loop_interval_after_the_previous_last_deadline() -> None:
    clock = FakeClock()
    pub = TimedPublisher(clock)
    options = ReplayOptions(loop=True, loop_interval=0.05, max_iterations=3)
    report = replay_through(ListSource(at_ms(0, 100)), pub, options, clock=clock)
    assert ms(pub.times) == [0, 100, 150, 250, 300, 400]
    assert report.iterations == 3
    assert report.published == 6


def test_loop_at_a_fixed_rate_keeps_the_rate_across_passes() -> None:
    clock = FakeClock()
    pub = TimedPublisher(clock)
    options = ReplayOptions(pacing=Pacing.rate(10), loop=True, max_iterations=2)
    replay_through(ListSource(at_ms(0, 0, 0)), pub, options, clock=clock)
    assert ms(pub.times) == [0, 100, 200, 300, 400, 500]


def test_loop_at_max_speed_pauses_loop_interval_after_each_pass() -> None:
    clock = FakeClock()
    pub = TimedPublisher(clock, cost_ns=7 * NS_PER_MS)
    options = ReplayOptions(
        pacing=Pacing.max_speed(), loop=True, loop_interval=0.02, max_iterations=3
    )
    replay_through(ListSource(at_ms(0, 1000)), pub, options, clock=clock)
    # each pass is one batch taking 7 ms, then 20 ms of pause
    assert ms(pub.times) == [0, 0, 27, 27, 54, 54]


def test_loop_stops_when_a_pass_publishes_nothing() -> None:
    source = ListSource([])
    report = replay_through(source, MemoryPublisher(), ReplayOptions(loop=True), clock=FakeClock())
    assert source.passes == [0]
    assert report.iterations == 1 and report.published == 0


def test_each_pass_gets_its_iteration_number() -> None:
    source = ListSource(at_ms(0))
    replay_through(source, MemoryPublisher(), ReplayOptions(loop=True, max_iterations=4), clock=FakeClock())
    assert source.passes == [0, 1, 2, 3]


def test_schedule_tells_the_source_the_wall_clock_time_of_publishing() -> None:
    clock = FakeClock(wall_at_zero=1_700_000_000_000 * NS_PER_MS)
    pub = TimedPublisher(clock)
    options = ReplayOptions(
        pacing=Pacing.speed(2), loop=True, loop_interval=1.0, max_iterations=2
    )
    replay_through(StampingSource([0, 1000, 3000]), pub, options, clock=clock)
    stamps = [int(e.fields[0][1]) - 1_700_000_000_000 for e in pub.events]
    assert stamps == [0, 500, 1500, 2500, 3000, 4000]
    assert stamps == [t // NS_PER_MS for t in pub.times]


def test_schedule_accounts_for_the_since_shift() -> None:
    clock = FakeClock(wall_at_zero=0)
    pub = TimedPublisher(clock)
    options = ReplayOptions(transform=Transform(since=1.0))
    replay_through(StampingSource([500, 1000, 1250]), pub, options, clock=clock)
    assert [int(e.fields[0][1]) for e in pub.events] == [0, 250]
    assert ms(pub.times) == [0, 250]


def test_report_counts_streams_errors_and_lateness() -> None:
    clock = FakeClock()
    pub = TimedPublisher(clock, cost_ns=2 * NS_PER_MS, refuse={b"bad": "WRONGTYPE nope"})
    events = (
        at_ms(0, 0, 0, stream=b"a") + at_ms(10, 10, stream=b"bad") + at_ms(50, stream="ü".encode())
    )
    report = replay_through(ListSource(events, name="demo.yaml"), pub, clock=clock)
    assert report.source == "demo.yaml"
    assert report.published == 4
    assert report.errors == 2
    assert report.error_messages == ["bad: WRONGTYPE nope"]
    assert report.streams == {"a": 3, "ü": 1}  # "bad" took nothing: not listed
    assert report.lateness is not None
    # batches at 0 ms (3 events), 10 ms (2), 50 ms (1), each done 2 ms after its deadline
    assert (report.lateness.p50_ms, report.lateness.max_ms) == (2, 2)
    assert report.duration_s == pytest.approx(0.052)
    assert report.rate == pytest.approx(4 / 0.052)
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["stream_count"] == 2 and data["lateness"]["p99_ms"] == 2


def test_lateness_measures_how_far_behind_schedule_events_went_out() -> None:
    clock = FakeClock()
    pub = TimedPublisher(clock, cost_ns=30 * NS_PER_MS)  # every publish takes 30 ms
    report = replay_through(ListSource(at_ms(*range(0, 100, 10))), pub, clock=clock)
    assert report.lateness is not None
    # batches [0], [10, 20, 30], [40, 50, 60], [70, 80, 90] start at 0, 30, 60, 90 ms
    # and are done 30 ms later: lateness 30 / 50, 40, 30 / 50, 40, 30 / 50, 40, 30
    assert (report.lateness.p50_ms, report.lateness.max_ms) == (40, 50)


def test_max_speed_reports_no_lateness() -> None:
    report = replay_through(
        ListSource(at_ms(0, 5000)),
        MemoryPublisher(),
        ReplayOptions(pacing=Pacing.max_speed()),
        clock=FakeClock(),
    )
    assert report.lateness is None
    assert report.pacing == "max speed"


def test_transform_is_applied_to_every_pass() -> None:
    pub = MemoryPublisher()
    events = at_ms(0, stream=b"orders") + at_ms(1, stream=b"trades")
    options = ReplayOptions(
        transform=Transform(streams=("ord*",), prefix="t:"), loop=True, max_iterations=2
    )
    replay_through(ListSource(events), pub, options, clock=FakeClock())
    assert [e.stream for e in pub.events] == [b"t:orders", b"t:orders"]


def test_ids_are_dropped_unless_the_publisher_keeps_them() -> None:
    events = [Event.of(0, b"s", F, b"5-1")]
    dropped, kept = MemoryPublisher(), MemoryPublisher(keep_ids=True)
    replay_through(ListSource(events), dropped, clock=FakeClock())
    replay_through(ListSource(events), kept, clock=FakeClock())
    assert dropped.events[0].id is None
    assert kept.events[0].id == b"5-1"


def test_keep_ids_refuses_a_target_stream_with_higher_ids_before_publishing() -> None:
    pub = MemoryPublisher(keep_ids=True, tops={b"b": b"9000-3"})
    events = [
        Event.of(0, b"a", F, b"1000-0"),
        Event.of(1, b"b", F, b"9000-3"),
        Event.of(2, b"b", F, b"9001-0"),
    ]
    with pytest.raises(KeepIdsConflict) as caught:
        replay_through(ListSource(events), pub, clock=FakeClock())
    message = str(caught.value)
    assert "'b'" in message and "9000-3" in message and "--keep-ids" in message
    assert caught.value.exit_code == 2
    assert pub.events == [] and pub.batches == []


def test_keep_ids_accepts_ids_above_the_top_and_auto_ids() -> None:
    pub = MemoryPublisher(keep_ids=True, tops={b"b": b"9000-3"})
    events = [
        Event.of(0, b"b", F, b"9000-4"),
        Event.of(0, b"c", F, None),
        Event.of(0, b"d", F, b"9000-*"),
    ]
    replay_through(
        ListSource(events),
        MemoryPublisher(keep_ids=True, tops={b"d": b"9000-3"}),
        clock=FakeClock(),
    )
    report = replay_through(ListSource(events), pub, clock=FakeClock())
    assert report.published == 3


def test_keep_ids_checks_the_names_after_map_and_prefix() -> None:
    pub = MemoryPublisher(keep_ids=True, tops={b"orders": b"9-0"})
    events = [Event.of(0, b"orders", F, b"1-0")]
    report = replay_through(
        ListSource(events),
        pub,
        ReplayOptions(transform=Transform(prefix="copy:")),
        clock=FakeClock(),
    )
    assert report.streams == {"copy:orders": 1}
    with pytest.raises(KeepIdsConflict):
        replay_through(ListSource(events), pub, clock=FakeClock())


def test_keep_ids_with_loop_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--loop"):
        replay_through(ListSource(at_ms(0)), MemoryPublisher(keep_ids=True), ReplayOptions(loop=True))


def test_first_ids_lists_each_stream_once_with_its_first_id() -> None:
    events = [
        Event.of(0, b"a", F, b"1-0"),
        Event.of(0, b"b", F, None),
        Event.of(0, b"a", F, b"2-0"),
    ]
    assert first_ids(events) == {b"a": b"1-0", b"b": None}


def test_parse_id_reads_full_partial_and_auto_sequence_ids() -> None:
    assert [parse_id(i) for i in (b"5-3", b"7", b"8-*")] == [(5, 3), (7, 0), (8, None)]
    with pytest.raises(UsageError, match="invalid entry id"):
        parse_id(b"abc")


def test_progress_is_reported_at_most_every_quarter_second_even_in_quiet_stretches() -> None:
    seen: list[ReplayProgress] = []
    replay_through(
        ListSource(at_ms(0, 1, 2, 3000)), MemoryPublisher(), clock=FakeClock(), progress=seen.append
    )
    times = [p.elapsed_s for p in seen]
    assert 10 <= len(seen) <= 13
    assert all(b - a >= 0.25 - 1e-9 for a, b in pairwise(times))
    assert [p.sent for p in seen] == [3] * (len(seen) - 1) + [4]


class InterruptingClock(FakeClock):
    """Delivers a real SIGINT to this process from inside the n-th sleep."""

    def __init__(self, at_sleep: int, signals: int = 1) -> None:
        super().__init__()
        self.at_sleep = at_sleep
        self.signals = signals

    def sleep_until(self, deadline_ns: int) -> None:
        super().sleep_until(deadline_ns)
        if len(self.sleeps) == self.at_sleep:
            for _ in range(self.signals):
                signal.raise_signal(signal.SIGINT)


def test_ctrl_c_under_process_state_stops_cleanly_and_returns_the_report_so_far() -> None:
    pub = MemoryPublisher()
    clock = InterruptingClock(at_sleep=3)
    with process_state() as state:
        report = replay_through(
            ListSource(at_ms(*range(0, 1000, 100))), pub, clock=clock, stop_event=state.stop_event
        )
    assert report.interrupted
    assert state.exit_code == 130
    assert 2 <= report.published <= 4
    assert report.published == len(pub.events)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_second_ctrl_c_raises_keyboard_interrupt() -> None:
    clock = InterruptingClock(at_sleep=2, signals=2)
    with pytest.raises(KeyboardInterrupt), process_state() as state:
        replay_through(
            ListSource(at_ms(*range(0, 1000, 100))),
            MemoryPublisher(),
            clock=clock,
            stop_event=state.stop_event,
        )
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_replay_changes_no_process_state_and_stops_through_its_stop_event() -> None:
    stop = threading.Event()
    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    seen: list[tuple[object, object, bool]] = []

    class Watching(ListSource):
        def timeline(self, iteration: int, schedule: ScheduleFn) -> Iterator[Event]:
            for i, event in enumerate(self.events):
                seen.append(
                    (
                        signal.getsignal(signal.SIGINT),
                        signal.getsignal(signal.SIGTERM),
                        gc.isenabled(),
                    )
                )
                if i == 3:
                    stop.set()
                yield event

    report = replay_through(
        Watching(at_ms(*range(0, 1000, 100))), MemoryPublisher(), clock=FakeClock(), stop_event=stop
    )
    assert report.interrupted
    assert 3 <= report.published <= 4  # stopped at the next batch, not at the end
    assert set(seen) == {(*handlers, True)}


def test_keyboard_interrupt_raised_by_the_source_ends_the_replay_with_a_report() -> None:
    class Breaking:
        name = "breaking"

        def timeline(self, iteration: int, schedule: ScheduleFn) -> Iterator[Event]:
            yield from at_ms(0, 10, 20)
            raise KeyboardInterrupt

    pub = MemoryPublisher()
    report = replay_through(Breaking(), pub, ReplayOptions(loop=True), clock=FakeClock())
    assert report.interrupted
    assert report.published == 3 == len(pub.events)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loop_interval": -1.0}, "--loop-interval"),
        ({"max_iterations": 0}, "max_iterations"),
        ({"batch_cap": 0}, "batch_cap"),
    ],
)
def test_options_refuse_bad_values(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ReplayOptions(**kwargs)  # type: ignore[arg-type]


def test_a_run_of_refusals_stops_the_replay_with_the_report_and_keep_going_does_not() -> None:
    events = at_ms(*range(500))
    options = ReplayOptions(pacing=Pacing.max_speed(), batch_cap=10)
    with pytest.raises(
        ReplayAborted, match=r"refused 100 entries in a row.*s: WRONGTYPE"
    ) as caught:
        replay_through(
            ListSource(events),
            MemoryPublisher(refuse={b"s": "WRONGTYPE"}),
            options,
            clock=FakeClock(),
        )
    assert isinstance(caught.value.cause, PublishFailed)
    assert caught.value.report.errors == 100
    assert caught.value.exit_code == 1

    going = ReplayOptions(pacing=Pacing.max_speed(), batch_cap=10, keep_going=True)
    report = replay_through(
        ListSource(events), MemoryPublisher(refuse={b"s": "WRONGTYPE"}), going, clock=FakeClock()
    )
    assert report.errors == 500


def test_refusals_between_accepted_entries_never_stop_a_replay() -> None:
    events = [e for i in range(300) for e in (at_ms(i, stream=b"bad") + at_ms(i, stream=b"ok"))]
    report = replay_through(
        ListSource(events),
        MemoryPublisher(refuse={b"bad": "NOPERM"}),
        ReplayOptions(pacing=Pacing.max_speed()),
        clock=FakeClock(),
    )
    assert (report.errors, report.published) == (300, 300)


class _SlowFirstRender:
    """A source whose first payload takes 1.7 ms to render, stamping each event with the
    schedule's wall time (as ``{{timestamp}}`` does)."""

    name = "slow-first"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.stamps: list[int] = []

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Iterator[Event]:
        for seq, offset_ms in enumerate((0, 100, 150, 200)):
            self.stamps.append(schedule(seq, offset_ms * NS_PER_MS))
            if seq == 0:
                self.clock.advance(1_700_000)
            yield Event.of(offset_ms * NS_PER_MS, b"s", ((b"t", b"x"),))


def test_timestamps_are_spaced_exactly_as_the_schedule_whatever_the_first_render_costs() -> None:
    clock = FakeClock(wall_at_zero=1_700_000_000_000_400_000)  # 0.4 ms past a millisecond
    source = _SlowFirstRender(clock)
    replay_through(source, MemoryPublisher(), ReplayOptions(pacing=Pacing.speed(1.0)), clock=clock)
    assert [s - source.stamps[0] for s in source.stamps] == [0, 100, 150, 200]


def test_a_ramp_publishes_each_event_at_its_deadline_on_the_ramp_and_ramps_again_each_pass() -> None:
    clock = FakeClock()
    pub = TimedPublisher(clock, cost_ns=NS_PER_MS // 10)
    pacing = Pacing.rate_ramp(10, 100, 1.0)  # 55 events over the ramp's second
    options = ReplayOptions(pacing=pacing, loop=True, max_iterations=2)
    report = replay_through(ListSource(at_ms(*([0] * 60))), pub, options, clock=clock)
    one_pass = [pacing.deadline_ns(i, 0) for i in range(60)]
    second = one_pass[-1] + NS_PER_S // 10  # a period at the start rate after the last
    assert pub.times == one_pass + [second + d for d in one_pass]
    assert report.pacing == "ramp 10/s to 100/s over 1 s" and report.published == 120
    assert report.lateness is not None and report.lateness.max_ms < 1
