"""The catalog file itself: checked with file:line errors; JSON Schema files and Pydantic
models as schemas; globs; where the catalog comes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.catalog import errors_of
from support.paths import ROOT

from xtape.catalog import (
    CATALOG_ENV,
    find_catalog,
    find_catalog_path,
    load_catalog,
    load_catalog_text,
)
from xtape.errors import CatalogError

SHIPPED = ROOT / "scenarios" / "streams.yaml"


def test_every_problem_of_a_catalog_is_reported_with_its_line(tmp_path: Path) -> None:
    text = """\
streams:
  a:
    fields:
      x: {type: integr}
    required: [x, z]
  b:
    schema:
      type: object
      properties:
        q: {maxLength: -1}
  c:
    descripton: typo
  d:
    model: no_such_module_xtape:Model
stricts: true
"""
    assert errors_of(text, tmp_path) == [
        "streams.yaml:4: streams.a.fields.x.type: unknown type 'integr' (did you mean 'integer'?)",
        "streams.yaml:5: streams.a.required[1]: 'z' is not one of the fields",
        "streams.yaml:10: streams.b.schema.properties.q.maxLength: invalid JSON Schema: -1 is less than the minimum of 0",
        "streams.yaml:12: streams.c: unknown key 'descripton' (did you mean 'description'?)",
        "streams.yaml:14: streams.d.model: cannot import model 'no_such_module_xtape:Model': "
        "ModuleNotFoundError: No module named 'no_such_module_xtape'",
        "streams.yaml:15: unknown key 'stricts' (did you mean 'strict'?)",
    ]


def test_a_catalog_that_is_not_yaml_or_not_a_mapping_is_one_line(tmp_path: Path) -> None:
    assert errors_of("streams: [a\n", tmp_path)[0].startswith("streams.yaml:1: invalid YAML")
    assert errors_of("- a\n", tmp_path) == [
        "streams.yaml:1: a catalog must be a mapping with a streams: mapping (got a list)"
    ]
    assert errors_of("strict: maybe\nstreams: {}\n", tmp_path) == [
        "streams.yaml:1: strict: must be true or false (got 'maybe')"
    ]


def test_a_missing_catalog_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read the catalog"):
        load_catalog(tmp_path / "nope.yaml")


def test_two_kinds_of_schema_for_one_stream_are_refused(tmp_path: Path) -> None:
    text = "streams:\n  a:\n    fields: {x: string}\n    model: m:M\n"
    assert errors_of(text, tmp_path) == [
        "streams.yaml:4: streams.a.model: give one of fields:, schema: and model: (got fields and model)"
    ]


def test_a_json_schema_file_beside_the_catalog_is_used(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "price.json").write_text(
        json.dumps(
            {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {"price": {"type": "number", "minimum": 0}, "sym": {"type": "string"}},
                "required": ["price"],
            }
        )
    )
    path = tmp_path / "streams.yaml"
    path.write_text("streams:\n  price.*:\n    schema: schemas/price.json\n")
    catalog = load_catalog(path)
    assert catalog.check("price.btc", [b"price", b"5.5", b"sym", b"BTC"]) == ()
    assert catalog.check("price.btc", [b"price", b"-1"]) == [(("price",), "-1 is less than the minimum of 0")]
    assert catalog.check("price.btc", [b"sym", b"BTC"]) == [((), "missing required field 'price'")]


def test_a_broken_json_schema_file_is_reported_at_its_own_line(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{\n  "type": "object",\n  "properties": {,}\n}\n')
    path = tmp_path / "streams.yaml"
    path.write_text("streams:\n  a:\n    schema: s.json\n")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value).startswith(f"{tmp_path / 's.json'}:3: invalid YAML")


def test_a_missing_schema_file_is_reported_at_the_schema_key(tmp_path: Path) -> None:
    text = "streams:\n  a:\n    schema: missing.json\n"
    [message] = errors_of(text, tmp_path)
    assert message.startswith("streams.yaml:3: streams.a.schema: cannot read schema file 'missing.json'")


def test_a_remote_ref_is_refused_not_fetched(tmp_path: Path) -> None:
    text = "streams:\n  a:\n    schema: {$ref: 'https://example.invalid/s.json'}\n"
    [message] = errors_of(text, tmp_path)
    assert message.startswith("streams.yaml:3: streams.a.schema: $ref 'https://example.invalid/s.json' is not followed")


def test_a_pydantic_model_is_a_schema(tmp_path: Path) -> None:
    (tmp_path / "team_events_xtape.py").write_text(
        "from pydantic import BaseModel, ConfigDict, Field\n"
        "class Order(BaseModel):\n"
        "    model_config = ConfigDict(extra='forbid')\n"
        "    orderId: str\n"
        "    leverage: int = Field(ge=1)\n"
        "    isLong: bool\n"
        "    meta: dict[str, int] = {}\n"
    )
    path = tmp_path / "streams.yaml"
    path.write_text("streams:\n  order.request:\n    model: team_events_xtape:Order\n")
    catalog = load_catalog(path)
    [spec] = catalog.streams
    assert spec.kind == "model" and spec.fields == ("orderId", "leverage", "isLong", "meta")
    good = [b"orderId", b"o1", b"leverage", b"5", b"isLong", b"true", b"meta", b'{"a":1}']
    assert catalog.check("order.request", good) == ()
    assert catalog.check("order.request", [b"orderId", b"o1", b"leverage", b"x", b"isLong", b"true"]) == [
        (("leverage",), 'expected integer, got "x"')
    ]
    assert catalog.check("order.request", [b"orderId", b"o1", b"leverage", b"0", b"isLong", b"true", b"extra", b"1"]) == [
        (("leverage",), "input should be greater than or equal to 1, got 0"),
        (("extra",), "unknown field 'extra' (did you mean 'meta'?) (not allowed by the model)"),
    ]
    assert catalog.check("order.request", [b"orderId", b"o1", b"isLong", b"true"]) == [
        ((), "missing required field 'leverage'")
    ]


def test_something_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "not_models_xtape.py").write_text("def Order():\n    pass\n")
    text = "streams:\n  a:\n    model: not_models_xtape:Order\n"
    assert errors_of(text, tmp_path) == [
        "streams.yaml:3: streams.a.model: 'not_models_xtape:Order' is not a Pydantic model (a subclass of pydantic.BaseModel)"
    ]


def test_exact_names_win_over_globs_and_globs_go_in_file_order() -> None:
    catalog = load_catalog_text(
        "streams:\n"
        "  'orders:*': {fields: {a: integer}}\n"
        "  'orders:eu': {fields: {a: string}}\n"
        "  '*': {}\n"
    )
    assert catalog.lookup("orders:eu") is catalog.streams[1]
    assert catalog.lookup("orders:us") is catalog.streams[0]
    assert catalog.lookup("anything") is catalog.streams[2]
    assert catalog.check("anything", [b"x", b"\xff"]) == ()


def test_an_unknown_stream_gets_a_suggestion_or_the_list() -> None:
    catalog = load_catalog_text("streams:\n  order.request: {}\n  price.update: {}\n")
    assert catalog.check("order.requets", [b"a", b"1"]) is None
    assert catalog.unknown_stream("order.requets") == (
        "unknown stream 'order.requets': not in the catalog <catalog> (did you mean 'order.request'?)"
    )
    assert catalog.unknown_stream("zzz").endswith("(known streams: order.request, price.update)")


def test_the_shipped_catalog_loads() -> None:
    catalog = load_catalog(SHIPPED)
    assert {s.pattern for s in catalog.streams} >= {"order.request", "price.update", "position.opened"}
    assert all(s.strict for s in catalog.streams)


def test_catalog_found_from_option_then_env_then_beside_then_cwd(tmp_path: Path) -> None:
    beside_dir = tmp_path / "scenarios"
    beside_dir.mkdir()
    scenario = beside_dir / "s.yaml"
    beside = beside_dir / "streams.yaml"
    here = tmp_path / "streams.yaml"
    env_file = tmp_path / "env.yaml"
    explicit = tmp_path / "explicit.yaml"
    env = {CATALOG_ENV: str(env_file)}
    assert find_catalog_path(explicit, scenario, environ=env, cwd=tmp_path) == explicit
    assert find_catalog_path(None, scenario, environ=env, cwd=tmp_path) == env_file
    assert find_catalog_path(None, scenario, environ={}, cwd=tmp_path) is None
    here.write_text("streams: {}\n")
    assert find_catalog_path(None, scenario, environ={}, cwd=tmp_path) == here
    beside.write_text("streams: {}\n")
    assert find_catalog_path(None, scenario, environ={}, cwd=tmp_path) == beside
    assert find_catalog_path(explicit, scenario, enabled=False, environ=env, cwd=tmp_path) is None
    assert find_catalog(None, scenario, environ={}, cwd=tmp_path) is not None


def test_a_catalog_named_by_the_env_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read the catalog"):
        find_catalog(None, None, environ={CATALOG_ENV: str(tmp_path / "nope.yaml")}, cwd=tmp_path)
