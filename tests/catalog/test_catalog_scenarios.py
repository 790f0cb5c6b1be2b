"""Scenarios against a catalog: ``xtape validate`` and ``xtape replay`` (dry run too) check
every rendered event before anything is published."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import redis
from support.e2e import UNREACHABLE_URL, invoke, ok
from support.paths import ROOT
from support.seed import SNIPPETS

from xtape.catalog import load_catalog
from xtape.errors import CatalogMismatch
from xtape.scenario import ScenarioSource, validate_scenario
from xtape.scenario.fixtures import builtin_generators
from xtape.timeline import NS_PER_MS

SCENARIOS = ROOT / "scenarios"
SHIPPED = SCENARIOS / "streams.yaml"

CATALOG = """\
strict: true
streams:
  order.request:
    fields:
      orderId: string
      leverage: {type: integer, minimum: 1, maximum: 100}
      side: {enum: [buy, sell]}
    required: [orderId, leverage]
  price.update:
    fields:
      price: number
"""

WRONG_TYPE = """\
events:
  - stream: price.update
    payload: {price: 5}
  - stream: order.request
    payload: {orderId: o1, leverage: 2}
  - stream: order.request
    payload: {orderId: o1, leverage: 3}
  - stream: order.request
    payload:
      orderId: o2
      leverage: "x"
"""


def schedule(seq: int, offset_ns: int) -> int:
    return 1_700_000_000_000 + offset_ns // NS_PER_MS


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "streams.yaml").write_text(CATALOG)
    return tmp_path


def write(folder: Path, text: str, name: str = "s.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_a_wrong_type_is_reported_at_its_line_as_the_issue_shows(folder: Path) -> None:
    path = write(folder, WRONG_TYPE)
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert result.stderr == f'xtape: error: {path}:11: events[3].payload.leverage: expected integer, got "x"\n'


def test_an_unknown_stream_is_an_error_with_a_suggestion(folder: Path) -> None:
    path = write(folder, "events:\n  - stream: order.requst\n    payload: {orderId: o1, leverage: 1}\n")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert result.stderr == (
        f"xtape: error: {path}:2: events[0].stream: unknown stream 'order.requst': not in the "
        f"catalog {folder / 'streams.yaml'} (did you mean 'order.request'?)\n"
    )


def test_missing_and_extra_fields_each_get_a_line(folder: Path) -> None:
    path = write(folder, "events:\n  - stream: order.request\n    payload:\n      orderId: o1\n      sied: buy\n")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"xtape: error: {path}:3: events[0].payload: missing required field 'leverage'",
        f"xtape: error: {path}:5: events[0].payload.sied: unknown field 'sied' (did you mean 'side'?) (not allowed by the catalog)",
    ]


def test_a_templated_payload_is_checked_for_every_repeat(folder: Path) -> None:
    text = (
        "events:\n  - stream: order.request\n    repeat: 12\n"
        "    payload: {orderId: o1, leverage: \"9{{index}}\"}\n"
    )  # 90 .. 99 are valid, then 910
    result = invoke("validate", write(folder, text))
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "events[0].payload.leverage: 910 is greater than the maximum of 100 (when index is 10)\n"
    )


def test_no_catalog_and_other_folders_validate_as_before(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = write(folder, WRONG_TYPE)
    ok(invoke("validate", path, "--no-catalog"))
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    ok(invoke("validate", write(elsewhere, WRONG_TYPE)))


def test_the_catalog_may_come_from_the_option_or_the_environment(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    path = write(elsewhere, WRONG_TYPE)
    assert invoke("validate", path, "--catalog", folder / "streams.yaml").exit_code == 2
    assert invoke("validate", path, env={"XTAPE_CATALOG": str(folder / "streams.yaml")}).exit_code == 2
    result = invoke("validate", path, "--catalog", folder / "streams.yaml", "--no-catalog")
    assert result.exit_code == 2 and "not both" in result.stderr


def test_an_invalid_catalog_is_reported_with_its_lines(folder: Path) -> None:
    (folder / "streams.yaml").write_text("streams:\n  a:\n    fields: {x: integr}\n    bogus: 1\n")
    result = invoke("validate", write(folder, WRONG_TYPE))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"xtape: error: {folder / 'streams.yaml'}:3: streams.a.fields.x.type: unknown type 'integr' (did you mean 'integer'?)",
        f"xtape: error: {folder / 'streams.yaml'}:4: streams.a: unknown key 'bogus' (valid keys: description, strict, fields, required, schema, model, codec)",
    ]


GENERATED = """\
generators:
  order.request:
    orderId: {sequence: 1, prefix: o}
    leverage: {choice: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, x]}
events:
  - stream: order.request
    generator: true
"""


def test_a_generator_that_can_violate_the_schema_is_reported_with_a_seed_that_shows_it(folder: Path) -> None:
    path = write(folder, GENERATED)
    result = invoke("validate", path)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    prefix = f"xtape: error: {path}:4: events[0].payload.leverage: expected integer, got \"x\" (generator 'order.request' "
    assert line.startswith(prefix), line
    seed = int(line.rsplit("--seed ", 1)[1].split()[0])
    # that seed really makes it: the replay with it refuses before publishing anything
    catalog = load_catalog(folder / "streams.yaml")
    with pytest.raises(CatalogMismatch, match='expected integer, got "x"'):
        ScenarioSource(path, seed=seed, catalog=catalog)
    events = list(ScenarioSource(path, seed=seed).timeline(0, schedule))
    assert dict(events[0].fields)[b"leverage"] == b"x"


def test_replay_refuses_an_invalid_scenario_before_publishing_anything(folder: Path, redis_url: str, r: redis.Redis) -> None:
    path = write(folder, WRONG_TYPE)
    result = invoke("replay", path, "--max-speed", "--url", redis_url)
    assert result.exit_code == 2
    assert 'events[3].payload.leverage: expected integer, got "x"' in result.stderr
    assert r.exists("price.update", "order.request") == 0
    ok(invoke("replay", path, "--max-speed", "--url", redis_url, "--no-catalog", "--json"))
    assert r.xlen("order.request") == 3


def test_dry_run_refuses_it_too(folder: Path) -> None:
    result = invoke("replay", write(folder, WRONG_TYPE), "--dry-run", "--url", UNREACHABLE_URL)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert 'events[3].payload.leverage: expected integer, got "x"' in result.stderr


def test_a_later_loop_pass_is_checked_as_it_is_rendered(tmp_path: Path) -> None:
    (tmp_path / "streams.yaml").write_text("streams:\n  s:\n    fields: {n: {type: integer, maximum: 0}}\n")
    catalog = load_catalog(tmp_path / "streams.yaml")
    path = write(tmp_path, "events:\n  - stream: s\n    payload: {n: \"{{iteration}}\"}\n")
    source = ScenarioSource(path, catalog=catalog)  # pass 0 makes n=0: valid
    assert [dict(e.fields)[b"n"] for e in source.timeline(0, schedule)] == [b"0"]
    with pytest.raises(CatalogMismatch) as caught:  # pass 1 makes n=1: refused, not handed on
        next(source.timeline(1, schedule))
    assert str(caught.value) == f"{path}:3: events[0].payload.n: 1 is greater than the maximum of 0 (pass 2)"


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_every_seed_snippet_validates_with_the_shipped_catalog(name: str, tmp_path: Path) -> None:
    shutil.copy(SHIPPED, tmp_path / "streams.yaml")
    path = write(tmp_path, SNIPPETS[name], f"{name}.yaml")
    result = ok(invoke("validate", path))
    assert result.stdout.endswith(f"(catalog {tmp_path / 'streams.yaml'})\n")


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_every_seed_snippet_publishes_unchanged_with_the_shipped_catalog(
    name: str, tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    shutil.copy(SHIPPED, tmp_path / "streams.yaml")
    path = write(tmp_path, SNIPPETS[name], f"{name}.yaml")
    catalog = load_catalog(SHIPPED)
    with_catalog = list(ScenarioSource(path, seed=5, catalog=catalog).timeline(0, schedule))
    without = list(ScenarioSource(path, seed=5).timeline(0, schedule))
    assert with_catalog == without
    result = ok(invoke("replay", "-f", path, "--max-speed", "--seed", "5", "--json", "--url", redis_url))
    assert json.loads(result.stdout)["published"] == len(without)
    for stream in {e.stream for e in without}:
        assert r.xlen(stream) == sum(e.stream == stream for e in without)


def test_the_built_in_fixtures_validate_against_the_shipped_catalog() -> None:
    """`generator: true` on each fixture stream, many seeds: every value fits the catalog."""
    catalog = load_catalog(SHIPPED)
    names = sorted(builtin_generators())
    text = "events:\n" + "".join(f"  - stream: {n}\n    generator: true\n    repeat: 20\n" for n in names)
    path = SCENARIOS.parent / "tests" / "_fixtures_scenario.yaml"
    try:
        path.write_text(text)
        checked = validate_scenario(path, catalog=catalog)
        assert checked.errors == []
        for seed in range(20):
            ScenarioSource(path, seed=seed, catalog=catalog)  # raises on any invalid event
    finally:
        path.unlink()
    assert set(names) <= {s.pattern for s in catalog.streams}


def test_the_example_scenarios_validate_against_the_shipped_catalog() -> None:
    catalog = load_catalog(SHIPPED)
    for path in sorted(SCENARIOS.glob("*.yaml")):
        if path.name == "streams.yaml":
            continue
        assert validate_scenario(path, catalog=catalog).errors == [], path
        for seed in range(5):
            ScenarioSource(path, seed=seed, catalog=catalog)


def test_python_generators_are_not_run_while_validating(folder: Path) -> None:
    (folder / "gen_never_run_xtape.py").write_text("raise SystemExit('ran')\ndef make(ctx):\n    return {}\n")
    text = "generators:\n  order.request: {python: 'gen_never_run_xtape:make'}\nevents:\n  - stream: order.request\n    generator: true\n"
    ok(invoke("validate", write(folder, text)))


def test_a_scenario_is_checked_against_a_pydantic_model_and_a_json_schema_file(tmp_path: Path) -> None:
    (tmp_path / "scenario_models_xtape.py").write_text(
        "from pydantic import BaseModel, Field\n"
        "class Order(BaseModel):\n"
        "    orderId: str\n"
        "    leverage: int = Field(ge=1)\n"
    )
    (tmp_path / "price.schema.json").write_text(
        '{"type": "object", "properties": {"price": {"type": "number"}}, "required": ["price"]}'
    )
    (tmp_path / "streams.yaml").write_text(
        "streams:\n"
        "  order.request: {model: 'scenario_models_xtape:Order'}\n"
        "  price.update: {schema: price.schema.json}\n"
    )
    good = write(tmp_path, "events:\n  - stream: order.request\n    payload: {orderId: o1, leverage: '3'}\n"
                 "  - stream: price.update\n    payload: {price: 5.5}\n", "good.yaml")
    named = ("--catalog", tmp_path / "streams.yaml")  # a catalog only found imports no model
    ok(invoke("validate", good, *named))
    bad = write(tmp_path, "events:\n  - stream: order.request\n    payload: {orderId: o1, leverage: x}\n"
                "  - stream: price.update\n    payload: {price: cheap}\n", "bad.yaml")
    result = invoke("validate", bad, *named)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f'xtape: error: {bad}:3: events[0].payload.leverage: expected integer, got "x"',
        f'xtape: error: {bad}:5: events[1].payload.price: expected number, got "cheap"',
    ]
