"""One schema per file kind: the scenario's light checker (what loading a file runs) and
its pydantic model (what Python code builds) are derived from one table of keys, so they
accept and refuse the same keys and say the same about a bad value; the same table for
the catalog gives its keys and their checks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from xtape.catalog import load_catalog_text
from xtape.catalog.reader import STREAM_KEYS, TOP_KEYS
from xtape.errors import CatalogError
from xtape.scenario import EventSpec, Scenario
from xtape.scenario.model import (
    EVENT_KEYS,
    EventRecord,
    Problem,
    check_document,
    check_event,
    checks,
)

#: A bad value for each key of an event, and one for each top-level key of a scenario.
BAD_EVENT: dict[str, Any] = {
    "stream": "",
    "payload": {},
    "generator": 5,
    "delay": -1,
    "repeat": 0,
    "interval": "soon",
    "variables": [1],
    "id": "nope",
    "template": "yes",
    "codec": " ",
}
BAD_HEAD: dict[str, Any] = {
    "name": 5,
    "description": ["a"],
    "variables": "x",
    "generators": [],
    "encoding": "xml",
    "codecs": "x",
}
GOOD_EVENT: dict[str, Any] = {"stream": "s", "payload": {"f": "v"}}


def _light(event: dict[str, Any]) -> list[str]:
    problems: list[Problem] = []
    check_event(event, 0, problems)
    return [text for _, text in problems]


def _pydantic(event: dict[str, Any]) -> list[str]:
    try:
        EventSpec.model_validate(event)
    except ValidationError as error:
        return [str(e["ctx"]["message"]) if "ctx" in e else e["msg"] for e in error.errors()]
    return []


def test_the_light_checker_and_pydantic_run_the_checks_of_one_table() -> None:
    table = checks(EventSpec)
    assert set(table) == set(EventSpec.model_fields) == set(EVENT_KEYS)
    assert set(BAD_EVENT) == set(EVENT_KEYS), "a new key: give it a bad value here"
    assert set(BAD_HEAD) == set(checks(Scenario)), "a new top-level key: give it a bad value here"
    slots = set(EventRecord.__slots__) - {"index"}
    typed = set(EventRecord.__annotations__) - {"index"}
    assert slots == typed == set(EVENT_KEYS), "EventRecord's types follow EventSpec's keys"


@pytest.mark.parametrize("key", sorted(BAD_EVENT))
def test_a_bad_value_of_each_event_key_reads_the_same_on_both_paths(key: str) -> None:
    event = {**GOOD_EVENT, key: BAD_EVENT[key]}
    light = _light(event)
    assert len(light) == 1 and light[0].startswith(f"events[0].{key}: ")
    assert _pydantic(event) == [light[0].removeprefix(f"events[0].{key}: ")]


@pytest.mark.parametrize("key", sorted(BAD_HEAD))
def test_a_bad_value_of_each_scenario_key_reads_the_same_on_both_paths(key: str) -> None:
    problems: list[Problem] = []
    check_document({key: BAD_HEAD[key], "events": [GOOD_EVENT]}, None, problems)
    assert len(problems) == 1 and problems[0][1].startswith(f"{key}: ")
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate({key: BAD_HEAD[key], "events": [GOOD_EVENT]})
    message = problems[0][1].removeprefix(f"{key}: ")
    assert [e.get("ctx", {}).get("message") for e in caught.value.errors()] == [message]


@pytest.mark.parametrize("key", EVENT_KEYS)
def test_both_paths_accept_every_key_of_the_table_and_refuse_others(key: str) -> None:
    good = dict(GOOD_EVENT)
    if key not in good:
        good[key] = EventSpec.model_fields[key].get_default(call_default_factory=True)
    assert _light(good) == [] and _pydantic(good) == []
    record = EventRecord.of(EventSpec.model_validate(good), 0)
    assert record.spec() == EventSpec.model_validate(good)
    odd = {**good, f"{key}x": 1}
    assert _light(odd) and _light(odd)[0].startswith(f"events[0]: unknown key '{key}x'")
    assert _pydantic(odd) and "Extra inputs are not permitted" in _pydantic(odd)[0]


def test_the_catalog_keys_are_one_table() -> None:
    streams = {"description": "'d'", "strict": "true", "fields": "{f: string}", "required": "[f]",
               "codec": "faststream", "schema": None, "model": None}  # fmt: skip
    assert set(streams) == set(STREAM_KEYS), "a new stream key: give it a value here"
    text = "".join(f"    {k}: {v}\n" for k, v in streams.items() if v is not None)
    catalog = load_catalog_text(f"version: 1\ndescription: x\nstrict: false\nstreams:\n  s:\n{text}")
    assert [s.pattern for s in catalog.streams] == ["s"]
    assert set(TOP_KEYS) == {"version", "description", "strict", "streams"}
    with pytest.raises(CatalogError) as caught:
        load_catalog_text("streams:\n  s:\n    bogus: 1\n", "c.yaml")
    assert str(caught.value) == f"c.yaml:3: streams.s: unknown key 'bogus' (valid keys: {', '.join(STREAM_KEYS)})"
    with pytest.raises(CatalogError, match=r"^c\.yaml:3: streams\.s\.strict: must be true or false \(got 'no'\)$"):
        load_catalog_text("streams:\n  s:\n    strict: 'no'\n", "c.yaml")
