"""Rendering into a timeline: sequential timing, ids, laziness, and the Source protocol."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xtape.errors import RenderError
from xtape.scenario import (
    Scenario,
    ScenarioSource,
    duration_ms,
    load_scenario_text,
    render,
)
from xtape.timeline import NS_PER_MS, Source


def schedule(seq: int, offset_ns: int) -> int:
    return offset_ns // NS_PER_MS


event_timing = st.tuples(
    st.one_of(st.integers(0, 5000), st.floats(0, 5000).map(lambda x: round(x, 3))),
    st.integers(1, 5),
    st.integers(0, 1000),
)


def scenario_with(timings: list[tuple[float, int, int]]) -> Scenario:
    return Scenario.model_validate(
        {
            "events": [
                {"stream": f"s{i}", "payload": {"i": "{{index}}"}, "delay": d, "repeat": r, "interval": iv}
                for i, (d, r, iv) in enumerate(timings)
            ]
        }
    )


@given(timings=st.lists(event_timing, min_size=1, max_size=6))
def test_each_event_starts_delay_after_the_previous_events_last_publish(
    timings: list[tuple[float, int, int]],
) -> None:
    events = list(render(scenario_with(timings), seed=0, schedule=schedule))
    expected: list[int] = []
    last = 0
    for delay, repeat, interval in timings:
        start = last + round(delay * NS_PER_MS)
        expected += [start + k * interval * NS_PER_MS for k in range(repeat)]
        last = expected[-1]
    assert [e.offset_ns for e in events] == expected
    assert len(events) == sum(r for _, r, _ in timings)
    assert events[-1].offset_ns == round(duration_ms(scenario_with(timings)) * NS_PER_MS)


def test_fractional_milliseconds_become_exact_nanoseconds() -> None:
    events = list(render(scenario_with([(0.25, 2, 0), (1.5, 1, 0)]), seed=0, schedule=schedule))
    assert [e.offset_ns for e in events] == [250_000, 250_000, 1_750_000]


def test_stream_names_are_utf8_and_ids_are_passed_through() -> None:
    text = "events:\n  - stream: цены\n    id: 1700000000000-7\n    payload: {a: 1}\n"
    [event] = render(load_scenario_text(text), seed=0)
    assert event.stream == "цены".encode()
    assert event.id == b"1700000000000-7"


def test_id_with_repeat_is_refused() -> None:
    with pytest.raises(Exception, match="id: cannot be combined with repeat"):
        load_scenario_text("events:\n  - {stream: s, id: 1-0, repeat: 2, payload: {a: 1}}\n")


def test_rendering_is_lazy() -> None:
    text = "events:\n  - stream: s\n    repeat: 1000000000\n    payload: {i: '{{index}}'}\n"
    first = list(itertools.islice(render(load_scenario_text(text), seed=0), 3))
    assert [e.fields for e in first] == [((b"i", b"0"),), ((b"i", b"1"),), ((b"i", b"2"),)]


def test_scenario_source_is_a_source_and_is_checked_in_its_constructor(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("events:\n  - stream: s\n    repeat: 2\n    payload: {a: '{{v}}'}\n")
    source: Source = ScenarioSource(path, variables={"v": "x"}, seed=1)
    assert source.name == str(path)
    events = list(source.timeline(0, schedule))
    assert [e.fields for e in events] == [((b"a", b"x"),)] * 2
    with pytest.raises(RenderError, match="undefined variable 'v'"):
        ScenarioSource(path, seed=1)


def test_scenario_source_without_seed_draws_one_that_reproduces_the_run() -> None:
    text = "events:\n  - {stream: order.request, generator: true, repeat: 5}\n"
    scenario = load_scenario_text(text)
    first = ScenarioSource(scenario)
    again = ScenarioSource(scenario, seed=first.seed)
    assert [e.fields for e in first.timeline(0, schedule)] == [e.fields for e in again.timeline(0, schedule)]
    assert first.count == 5


def test_default_name_is_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "my-flow.yaml"
    path.write_text("events:\n  - {stream: s, payload: {a: 1}}\n")
    from xtape.scenario import load_scenario

    assert load_scenario(path).name == "my-flow"
