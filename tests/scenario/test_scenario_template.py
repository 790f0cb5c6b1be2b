"""``{{variable}}`` templating: types, precedence, built-ins, and the static check."""

from __future__ import annotations

from typing import Any

import pytest

from xtape.errors import RenderError
from xtape.scenario import check_scenario, load_scenario_text, render
from xtape.timeline import NS_PER_MS, Fields

T0 = 1_700_000_000_000


def schedule(seq: int, offset_ns: int) -> int:
    return T0 + offset_ns // NS_PER_MS


def fields(text: str, variables: dict[str, str] | None = None, **kwargs: Any) -> list[Fields]:
    scenario = load_scenario_text(text, "t.yaml")
    return [e.fields for e in render(scenario, variables=variables, seed=1, schedule=schedule, **kwargs)]


def one(text: str, variables: dict[str, str] | None = None) -> dict[bytes, bytes]:
    [result] = fields(text, variables)
    return dict(result)


def test_whole_value_placeholder_keeps_the_variables_type_in_nested_json() -> None:
    text = """
variables: {basePrice: 50000, ratio: 0.5, on: true, tags: [a, b], nothing: null}
events:
  - stream: s
    payload:
      obj: {price: "{{basePrice}}", ratio: "{{ratio}}", on: "{{on}}", tags: "{{tags}}", n: "{{nothing}}"}
"""
    assert one(text)[b"obj"] == b'{"price":50000,"ratio":0.5,"on":true,"tags":["a","b"],"n":null}'


def test_placeholder_inside_text_substitutes_json_text() -> None:
    text = """
variables: {basePrice: 50000, ratio: 0.5, on: true, tags: [a, b]}
events:
  - stream: s
    payload: {t: "p={{basePrice}} r={{ ratio }} on={{on}} tags={{tags}}"}
"""
    assert one(text)[b"t"] == b'p=50000 r=0.5 on=true tags=["a","b"]'


def test_top_level_whole_value_numbers_publish_as_json_text() -> None:
    text = "variables: {n: 5, f: 5.0, b: false}\nevents:\n  - stream: s\n    payload: {n: '{{n}}', f: '{{f}}', b: '{{b}}'}\n"
    assert one(text) == {b"n": b"5", b"f": b"5.0", b"b": b"false"}


def test_placeholders_work_in_field_names() -> None:
    text = "variables: {k: price}\nevents:\n  - stream: s\n    payload: {'{{k}}': 1, 'x_{{index}}': 2}\n"
    assert one(text) == {b"price": b"1", b"x_0": b"2"}


def test_precedence_is_cli_over_event_over_scenario() -> None:
    text = """
variables: {a: scenario, b: scenario, c: scenario}
events:
  - stream: s
    variables: {b: event, c: event}
    payload: {a: "{{a}}", b: "{{b}}", c: "{{c}}"}
"""
    assert one(text, {"c": "cli"}) == {b"a": b"scenario", b"b": b"event", b"c": b"cli"}


def test_event_variables_do_not_leak_into_other_events() -> None:
    text = """
events:
  - stream: s
    variables: {u: x}
    payload: {u: "{{u}}"}
  - stream: s
    payload: {u: "{{u}}"}
"""
    with pytest.raises(RenderError, match=r"t\.yaml:7: events\[1\]: undefined variable 'u'"):
        check_scenario(load_scenario_text(text, "t.yaml"))


def test_index_counts_repeats_from_zero_and_iteration_counts_loop_passes() -> None:
    text = "events:\n  - stream: s\n    repeat: 3\n    payload: {i: '{{index}}', it: 'pass {{iteration}}'}\n"
    assert fields(text, iteration=2) == [
        ((b"i", b"0"), (b"it", b"pass 2")),
        ((b"i", b"1"), (b"it", b"pass 2")),
        ((b"i", b"2"), (b"it", b"pass 2")),
    ]


def test_timestamp_comes_from_the_schedule_with_sequence_number_and_offset() -> None:
    calls: list[tuple[int, int]] = []

    def recording_schedule(seq: int, offset_ns: int) -> int:
        calls.append((seq, offset_ns))
        return 42 + seq

    text = """
events:
  - stream: s
    payload: {a: 1}
    delay: 7
  - stream: s
    repeat: 2
    interval: 3
    payload: {t: "{{timestamp}}", again: "at {{timestamp}}"}
"""
    scenario = load_scenario_text(text)
    out = [dict(e.fields) for e in render(scenario, seed=1, schedule=recording_schedule)]
    assert out[1] == {b"t": b"43", b"again": b"at 43"}
    assert out[2] == {b"t": b"44", b"again": b"at 44"}
    # Called once per publish that uses it (not for the first event), with seq and offset.
    assert calls == [(1, 7 * NS_PER_MS), (2, 10 * NS_PER_MS)]


def test_cli_variables_are_strings() -> None:
    text = "variables: {n: 5}\nevents:\n  - stream: s\n    payload: {o: {n: '{{n}}'}}\n"
    assert one(text, {"n": "6"})[b"o"] == b'{"n":"6"}'


def test_template_false_publishes_braces_literally() -> None:
    text = "events:\n  - stream: s\n    template: false\n    payload: {a: '{{not_a_var}}'}\n"
    check_scenario(load_scenario_text(text))
    assert one(text) == {b"a": b"{{not_a_var}}"}


def test_text_that_is_not_a_placeholder_is_left_alone() -> None:
    text = "events:\n  - stream: s\n    payload: {a: '{{ }} {{1x}} {x}'}\n"
    assert one(text) == {b"a": b"{{ }} {{1x}} {x}"}


def test_render_raises_before_yielding_when_a_variable_is_missing() -> None:
    text = "events:\n  - stream: s\n    payload: {a: 1}\n  - stream: s\n    payload: {a: '{{missing}}'}\n"
    with pytest.raises(RenderError, match="missing"):
        render(load_scenario_text(text), seed=1)  # not even iterated
