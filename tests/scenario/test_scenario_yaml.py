"""The YAML layer: safe loading, the YAML 1.2 core schema, lines, and the readable dumper."""

from __future__ import annotations

import pytest

from xtape.errors import YamlError
from xtape.scenario import dump_scenario_yaml, load_scenario_text, payload_to_fields
from xtape.yamlfile.load import load_yaml


def fields_of(value_yaml: str) -> bytes:
    scenario = load_scenario_text(f"events:\n  - stream: s\n    payload: {{v: {value_yaml}}}\n")
    [(_name, value)] = payload_to_fields(scenario.events[0].payload)
    return value


@pytest.mark.parametrize(
    ("written", "published"),
    [
        ("yes", b"yes"),  # YAML 1.1 would publish "true" (the Norway problem)
        ("off", b"off"),
        ("NO", b"NO"),
        ("true", b"true"),
        ("12:30", b"12:30"),  # YAML 1.1: 750
        ("2024-01-01", b"2024-01-01"),  # YAML 1.1: a datetime
        ("007", b"7"),
        ("1e3", b"1000.0"),
        ("5.0", b"5.0"),
        ("'5.0'", b"5.0"),
        ("'007'", b"007"),
        ("~", b"null"),
        ("=", b"="),
        ("1_000", b"1_000"),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(written: str, published: bytes) -> None:
    assert fields_of(written) == published


def test_binary_values_load_as_bytes() -> None:
    data, _ = load_yaml("v: !!binary /wA=\n", "x.yaml")
    assert data == {"v": b"\xff\x00"}


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object:os.system {}",
        "!!python/object/apply:os.system ['true']",
        "!!python/name:os.system ''",
        "!!python/module:os ''",
    ],
)
def test_python_tags_are_refused(tag: str) -> None:
    with pytest.raises(YamlError, match=r"^x\.yaml:1: invalid YAML: unsupported tag"):
        load_yaml(f"v: {tag}\n", "x.yaml")


def test_lines_are_recorded_for_keys_and_items() -> None:
    _, lines = load_yaml("a: 1\nb:\n  - x\n  - c: 2\n    d: 3\n", "x.yaml")
    assert lines[("a",)] == 1
    assert lines[("b", 1)] == 4
    assert lines[("b", 1, "d")] == 5


def test_aliases_are_allowed_and_do_not_recurse_forever() -> None:
    data, _ = load_yaml("a: &x [1, 2]\nb: *x\nc: {<<: {k: v}, j: 1}\n", "x.yaml")
    assert data == {"a": [1, 2], "b": [1, 2], "c": {"k": "v", "j": 1}}


def test_dumper_quotes_what_would_be_retyped_and_round_trips() -> None:
    data = {
        "name": "n",
        "events": [
            {
                "stream": "s",
                "payload": {
                    "a": "true", "b": "5.0", "c": "007", "d": "null", "e": "", "f": "1e3",
                    "g": "yes", "h": "x\ny", "i": "\t\r\x00", "j": b"\xff", "k": "{}",
                },
            }
        ],
    }
    text = dump_scenario_yaml(data)
    assert load_yaml(text, "x.yaml")[0] == data
    assert "\n  - stream: s\n" in text  # lists indented under their key
    assert "g: yes\n" in text  # not needlessly quoted


def test_dumper_writes_pairs_on_one_line() -> None:
    text = dump_scenario_yaml({"payload": [["a", "1"], ["a", "2"]]})
    assert "- [a, '1']" in text and "- [a, '2']" in text
