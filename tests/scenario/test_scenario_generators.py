"""Generators: directives, built-in fixtures, python callables, and seeded determinism."""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xtape.errors import RenderError
from xtape.scenario import (
    ScenarioSource,
    builtin_generators,
    check_scenario,
    load_scenario,
    load_scenario_text,
    render,
)
from xtape.timeline import NS_PER_MS, Event

T0 = 1_700_000_000_000


def schedule(seq: int, offset_ns: int) -> int:
    return T0 + offset_ns // NS_PER_MS


def run(text: str, seed: int = 1, iteration: int = 0) -> list[dict[bytes, bytes]]:
    scenario = load_scenario_text(text, "g.yaml")
    return [dict(e.fields) for e in render(scenario, seed=seed, iteration=iteration, schedule=schedule)]


ALL_DIRECTIVES = """
generators:
  g:
    pick: {choice: [a, b, c]}
    n: {int: [1, 6]}
    x: {float: [0, 1], decimals: 2}
    yes: {bool: 0.5}
    id: {uuid: true}
    seq: {sequence: 10}
    ref: {sequence: 1, prefix: order_}
    at: {timestamp: true}
    lit: {literal: {int: "not a directive"}}
    nested: {inner: {int: [1, 2]}, items: [{choice: [x]}, "{{index}}"]}
    text: "n{{index}}"
events:
  - stream: s
    generator: g
    repeat: 50
    interval: 10
"""


def test_each_directive_produces_values_of_its_kind() -> None:
    import json
    import uuid

    out = run(ALL_DIRECTIVES)
    assert {e[b"pick"] for e in out} == {b"a", b"b", b"c"}
    assert {int(e[b"n"]) for e in out} == set(range(1, 7))
    assert all(0 <= float(e[b"x"]) <= 1 and len(e[b"x"].split(b".")[-1]) <= 2 for e in out)
    assert {e[b"yes"] for e in out} == {b"true", b"false"}
    assert all(uuid.UUID(e[b"id"].decode()).version == 4 for e in out)
    assert [int(e[b"seq"]) for e in out] == list(range(10, 60))
    assert [e[b"ref"] for e in out[:2]] == [b"order_1", b"order_2"]
    assert [int(e[b"at"]) for e in out[:3]] == [T0, T0 + 10, T0 + 20]
    assert out[0][b"lit"] == b'{"int":"not a directive"}'
    nested = json.loads(out[3][b"nested"])
    assert nested["inner"] in (1, 2) and nested["items"] == ["x", 3]
    assert out[4][b"text"] == b"n4"


def test_choice_weights_give_the_requested_proportion() -> None:
    text = """
generators:
  order.response:
    status: {choice: [accepted, rejected], weights: [70, 30]}
events:
  - stream: order.response
    generator: true
    repeat: 4000
"""
    counts = Counter(e[b"status"] for e in run(text))
    assert 0.67 < counts[b"accepted"] / 4000 < 0.73


def test_sequence_counts_per_generator_across_events_and_loop_passes() -> None:
    text = """
generators:
  g: {n: {sequence: 1}}
events:
  - {stream: a, generator: g, repeat: 2}
  - {stream: b, generator: g, repeat: 2}
"""
    source = ScenarioSource(load_scenario_text(text), seed=1)
    first = [dict(e.fields)[b"n"] for e in source.timeline(0, schedule)]
    second = [dict(e.fields)[b"n"] for e in source.timeline(1, schedule)]
    again = [dict(e.fields)[b"n"] for e in source.timeline(0, schedule)]
    assert first == [b"1", b"2", b"3", b"4"]
    assert second == [b"5", b"6", b"7", b"8"]
    assert again == first


def test_scenario_generator_wins_over_the_built_in_fixture() -> None:
    text = "generators:\n  order.request: {mine: yes}\nevents:\n  - {stream: order.request, generator: true}\n"
    assert run(text) == [{b"mine": b"yes"}]


def test_built_in_fixtures_cover_the_seed_streams() -> None:
    assert set(builtin_generators()) >= {
        "price.update",
        "order.request",
        "order.accepted",
        "order.rejected",
        "position.opened",
        "position.closed",
        "position.liquidated",
        "liquidation.signal",
        "funding.rate.update",
        "service.heartbeat",
    }


@pytest.mark.parametrize("stream", sorted(builtin_generators()))
def test_every_built_in_fixture_renders_nonempty_fields(stream: str) -> None:
    [fields] = run(f"events:\n  - stream: {stream}\n    generator: true\n")
    assert fields and b"timestamp" in fields


def test_generator_templates_see_the_events_variables() -> None:
    text = """
variables: {venue: default}
generators:
  g: {venue: "{{venue}}", n: "{{index}}"}
events:
  - {stream: s, generator: g}
  - {stream: s, generator: g, variables: {venue: special}}
"""
    assert run(text) == [{b"venue": b"default", b"n": b"0"}, {b"venue": b"special", b"n": b"0"}]


def test_python_generators_for_a_field_and_a_whole_payload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_gens.py").write_text(
        textwrap.dedent(
            """
            def price(ctx):
                return round(ctx.rng.uniform(1, 2), 3)

            def order(ctx):
                return {"id": f"o{ctx.index}-{ctx.iteration}", "user": ctx.variables["user"],
                        "stream": ctx.stream, "at": ctx.timestamp}
            """
        )
    )
    (tmp_path / "s.yaml").write_text(
        textwrap.dedent(
            """
            variables: {user: bob}
            generators:
              priced: {p: {python: "my_gens:price"}}
              orders: {python: "my_gens:order"}
            events:
              - {stream: a, generator: priced, repeat: 2}
              - {stream: b, generator: orders, repeat: 2, delay: 5}
            """
        )
    )
    monkeypatch.setattr(sys, "path", list(sys.path))  # the import must not need it
    monkeypatch.delitem(sys.modules, "my_gens", raising=False)
    out = [dict(e.fields) for e in ScenarioSource(tmp_path / "s.yaml", seed=3).timeline(1, schedule)]
    sys.modules.pop("my_gens", None)
    assert 1 <= float(out[0][b"p"]) <= 2
    assert out[2] == {b"id": b"o0-1", b"user": b"bob", b"stream": b"b", b"at": str(T0 + 5).encode()}
    assert out[3][b"id"] == b"o1-1"


def test_python_generator_returning_a_non_mapping_is_a_render_error(tmp_path: Path) -> None:
    (tmp_path / "bad_gen.py").write_text("def make(ctx):\n    return 5\n")
    (tmp_path / "s.yaml").write_text(
        "generators:\n  g: {python: 'bad_gen:make'}\nevents:\n  - {stream: a, generator: g}\n"
    )
    scenario = load_scenario(tmp_path / "s.yaml")
    check_scenario(scenario)
    with pytest.raises(RenderError, match=r"s\.yaml:4: events\[0\]: python generator 'bad_gen:make' returned int"):
        list(render(scenario, seed=1, schedule=schedule))
    sys.modules.pop("bad_gen", None)


def fingerprint(events: list[Event]) -> list[tuple[int, bytes, tuple[tuple[bytes, bytes], ...]]]:
    return [(e.offset_ns, e.stream, e.fields) for e in events]


def rendered(seed: int, iteration: int = 0) -> list[Event]:
    scenario = load_scenario_text(ALL_DIRECTIVES)
    return list(render(scenario, seed=seed, iteration=iteration, schedule=schedule))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**63))
def test_same_seed_renders_identical_timelines(seed: int) -> None:
    assert fingerprint(rendered(seed)) == fingerprint(rendered(seed))


@settings(max_examples=25, deadline=None)
@given(seeds=st.lists(st.integers(min_value=0, max_value=2**63), min_size=2, max_size=2, unique=True))
def test_different_seeds_render_different_values(seeds: list[int]) -> None:
    assert fingerprint(rendered(seeds[0])) != fingerprint(rendered(seeds[1]))


def test_loop_passes_get_different_random_values_under_one_seed() -> None:
    assert fingerprint(rendered(5, iteration=0)) != fingerprint(rendered(5, iteration=1))


def test_editing_one_event_does_not_change_the_random_values_of_another() -> None:
    base = "events:\n  - {stream: a, generator: true}\n  - {stream: price.update, generator: true}\n"
    one = base.replace("stream: a, generator: true", "stream: a, payload: {x: 1}")
    two = base.replace("stream: a, generator: true", "stream: a, payload: {x: 2}, repeat: 3")
    assert run(one)[-1] == run(two)[-1]


def test_text_generator_makes_seeded_text_of_the_lengths_and_characters_asked() -> None:
    from xtape.scenario import load_scenario_text, render

    scenario = load_scenario_text(
        "generators:\n  g: {k: {text: [3, 5], chars: ab, prefix: 'x_'}}\n"
        "events:\n  - stream: s\n    generator: g\n    repeat: 50\n"
    )
    values = [dict(e.fields)[b"k"] for e in render(scenario, seed=3)]
    assert all(v.startswith(b"x_") and 3 <= len(v) - 2 <= 5 and set(v[2:]) <= set(b"ab") for v in values)
    assert len(set(values)) > 10
    assert values == [dict(e.fields)[b"k"] for e in render(scenario, seed=3)]


def test_text_generator_options_are_checked() -> None:
    import pytest

    from xtape.errors import ScenarioError
    from xtape.scenario import check_scenario, load_scenario_text

    scenario = load_scenario_text("generators:\n  g: {k: {text: [5, 3]}}\nevents:\n  - stream: s\n    generator: g\n")
    with pytest.raises(ScenarioError, match="low must be <= high"):
        check_scenario(scenario)
    scenario = load_scenario_text("generators:\n  g: {k: {text: [1, 3], chars: ''}}\nevents:\n  - stream: s\n    generator: g\n")
    with pytest.raises(ScenarioError, match="chars: must be a non-empty string"):
        check_scenario(scenario)
