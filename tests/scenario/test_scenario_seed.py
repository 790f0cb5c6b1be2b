"""Every snippet of the seed document (seed-event-scenarios.md) loads, checks and renders
as written, with the documented timing; and every example in scenarios/ does too."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.paths import ROOT
from support.seed import (
    EXPLICIT_PAYLOADS,
    FORMAT_OPTION_1,
    FORMAT_OPTION_2,
    TIMING_CONTROL,
    USING_GENERATORS,
    USING_VARIABLES,
)

from xtape.errors import RenderError
from xtape.scenario import (
    ScenarioSource,
    check_scenario,
    duration_ms,
    load_scenario,
    load_scenario_text,
    render,
)
from xtape.timeline import NS_PER_MS, Event

T0 = 1_700_000_000_000
SCENARIO_DIR = ROOT / "scenarios"
SCENARIOS = sorted(p for p in SCENARIO_DIR.glob("*.yaml") if p.name != "streams.yaml")


def schedule(seq: int, offset_ns: int) -> int:
    return T0 + offset_ns // NS_PER_MS


def events_of(text: str, **kwargs: object) -> list[Event]:
    scenario = load_scenario_text(text, "seed.yaml")
    check_scenario(scenario)
    return list(render(scenario, seed=1, schedule=schedule, **kwargs))  # type: ignore[arg-type]


def ms(event: Event) -> float:
    return event.offset_ns / NS_PER_MS


def test_format_snippet_with_payload_publishes_five_times_from_one_second() -> None:
    events = events_of(FORMAT_OPTION_1)
    assert [ms(e) for e in events] == [1000, 1500, 2000, 2500, 3000]
    assert {e.stream for e in events} == {b"stream.name"}
    assert events[0].fields == ((b"key", b"value"), (b"n", b"1"))


def test_format_snippet_with_generator_on_unknown_stream_says_how_to_fix() -> None:
    scenario = load_scenario_text(FORMAT_OPTION_2, "seed.yaml")
    with pytest.raises(RenderError) as caught:
        check_scenario(scenario)
    message = str(caught.value)
    assert message.startswith("seed.yaml:7: events[0].generator: no generator for stream 'stream.name'")
    assert "generators:" in message and "payload:" in message


def test_format_snippet_with_generator_on_a_fixture_stream_publishes() -> None:
    events = events_of(FORMAT_OPTION_2.replace("stream.name", "order.request"))
    assert [ms(e) for e in events] == [1000, 1500, 2000, 2500, 3000]


def test_explicit_payload_snippet_publishes_exact_fields_with_scheduled_timestamp() -> None:
    [event] = events_of(EXPLICIT_PAYLOADS)
    assert event.stream == b"order.request"
    assert event.offset_ns == 0
    assert event.fields == (
        (b"orderId", b"order_123"),
        (b"user", b"alice"),
        (b"basketId", b"basket_1"),
        (b"size", b"10000"),
        (b"collateral", b"2000"),
        (b"isLong", b"true"),
        (b"leverage", b"5"),
        (b"timestamp", str(T0).encode()),
    )


def test_generator_snippet_publishes_ten_orders_one_second_apart_without_generators_section() -> None:
    events = events_of(USING_GENERATORS)
    assert [ms(e) for e in events] == [i * 1000 for i in range(10)]
    names = [dict(e.fields).keys() for e in events]
    assert all({b"orderId", b"user", b"basketId", b"size", b"timestamp"} <= set(n) for n in names)
    order_ids = [dict(e.fields)[b"orderId"] for e in events]
    assert len(set(order_ids)) == 10  # "10 random orders": distinct
    timestamps = [int(dict(e.fields)[b"timestamp"]) for e in events]
    assert timestamps == [T0 + i * 1000 for i in range(10)]


def test_variables_snippet_substitutes_index_and_keeps_base_price_an_int() -> None:
    [event] = events_of(USING_VARIABLES)
    assert event.fields == (
        (b"positionId", b"pos_0"),
        (b"user", b"test_user"),
        (b"entryPrice", b"50000"),
    )


def test_timing_snippet_waits_five_seconds_then_one_then_every_half_second() -> None:
    events = events_of(TIMING_CONTROL)
    assert [(e.stream, ms(e)) for e in events] == [
        (b"price.update", 5000),
        (b"order.request", 6000),
        (b"order.request", 6500),
        (b"order.request", 7000),
        (b"order.request", 7500),
        (b"order.request", 8000),
    ]


def test_json_scenario_loads_like_yaml(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{"name": "J", "events": [{"stream": "a", "payload": {"x": "{{index}}"}, "repeat": 2}]}'
    )
    events = list(render(load_scenario(path), seed=1, schedule=schedule))
    assert [e.fields for e in events] == [((b"x", b"0"),), ((b"x", b"1"),)]


def test_cli_variable_overrides_a_seed_scenario_variable() -> None:
    path = next(p for p in SCENARIOS if p.name == "trade-and-liquidate.yaml")
    source = ScenarioSource(path, variables={"userId": "test_user_123"}, seed=1)
    users = {dict(e.fields).get(b"user") for e in source.timeline(0, schedule)} - {None}
    assert users == {b"test_user_123"}


def test_the_seed_scenarios_and_smoke_test_exist() -> None:
    assert {p.name for p in SCENARIOS} >= {
        "trade-and-liquidate.yaml",
        "high-frequency-trading.yaml",
        "funding-rate-impact.yaml",
        "smoke-test.yaml",
    }


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_example_scenario_validates_and_renders_in_order(path: Path) -> None:
    scenario = load_scenario(path)
    check_scenario(scenario)
    assert scenario.name and scenario.description
    events = list(ScenarioSource(scenario, seed=7).timeline(0, schedule))
    assert events
    offsets = [e.offset_ns for e in events]
    assert offsets == sorted(offsets)
    assert offsets[-1] == duration_ms(scenario) * NS_PER_MS
    for event in events:
        assert event.fields and all(isinstance(v, bytes) for pair in event.fields for v in pair)
        assert b"{{" not in b"".join(v for pair in event.fields for v in pair)


def test_trade_and_liquidate_follows_the_documented_lifecycle_in_under_five_seconds() -> None:
    scenario = load_scenario(SCENARIO_DIR / "trade-and-liquidate.yaml")
    events = list(render(scenario, seed=1, schedule=schedule))
    streams = [e.stream.decode() for e in events]
    assert streams[0] == "price.update"
    assert streams.index("position.opened") < streams.index("liquidation.signal")
    assert streams[-1] == "position.liquidated"
    prices = [int(dict(e.fields)[b"price"]) for e in events if e.stream == b"price.update"]
    assert prices == sorted(prices, reverse=True) and prices[0] > prices[-1]
    assert duration_ms(scenario) < 5000


def test_high_frequency_trading_mixes_accepts_and_rejects() -> None:
    scenario = load_scenario(SCENARIO_DIR / "high-frequency-trading.yaml")
    events = list(render(scenario, seed=1, schedule=schedule))
    statuses = [dict(e.fields)[b"status"] for e in events if e.stream == b"order.response"]
    assert len(statuses) == 50
    assert set(statuses) == {b"accepted", b"rejected"}
    streams = {e.stream for e in events}
    assert {b"price.update", b"order.request", b"position.opened", b"service.heartbeat"} <= streams


def test_funding_rate_goes_positive_then_high_then_negative() -> None:
    scenario = load_scenario(SCENARIO_DIR / "funding-rate-impact.yaml")
    events = list(render(scenario, seed=1, schedule=schedule))
    rates = [float(dict(e.fields)[b"fundingRate"]) for e in events if e.stream == b"funding.rate.update"]
    assert rates[0] > 0 and rates[1] > rates[0] and rates[2] < 0
    opened = [dict(e.fields)[b"isLong"] for e in events if e.stream == b"position.opened"]
    assert opened.count(b"true") >= 2 and opened.count(b"false") >= 2
