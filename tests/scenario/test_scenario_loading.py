"""The event-stream loader: same data as PyYAML's safe loader with the core schema, lines
found on demand (also deep in big files), JSON with lines, progress, every problem at once."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.paths import ROOT

from xtape.errors import ScenarioError, ScenarioInvalid, YamlError
from xtape.scenario import load_scenario, load_scenario_text, read_scenario, validate_scenario
from xtape.scenario.model import EventList
from xtape.yamlfile.core import CORE_SCHEMA
from xtape.yamlfile.load import read_yaml


class ReferenceLoader(yaml.SafeLoader):
    """What the loader did before: PyYAML's composer and SafeConstructor, YAML 1.2 core schema."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)


ReferenceLoader.add_constructor("tag:yaml.org,2002:int", ReferenceLoader.construct_yaml_int)
ReferenceLoader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in CORE_SCHEMA:
    ReferenceLoader.add_implicit_resolver(_tag, _regexp, list(_first))
ReferenceLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])


DOCUMENTS = [
    "a: 1\nb: -2\nc: +3\nd: 0o17\ne: 0x1F\nf: 007\ng: 1_000\n",
    "a: 1.5\nb: .5\nc: 5.\nd: 1e3\ne: -1.5E-3\nf: .inf\ng: -.Inf\nh: 12:30\ni: 2024-01-01\n",
    "a: true\nb: False\nc: TRUE\nd: yes\ne: off\nf: ~\ng: null\nh:\ni: NULL\nj: Null\n",
    "a: 'true'\nb: \"5\"\nc: !!str 5\nd: !!int '7'\ne: !!float '1'\nf: ! 5\ng: !!null ''\n",
    "bin: !!binary /wA=\nts: !!timestamp 2024-01-01\nset: !!set {a, b}\nbool: !!bool 'true'\n",
    "omap: !!omap [a: 1, b: 2]\npairs: !!pairs [{a: 1}, {a: 2}]\n",
    "base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3, z: 4}\nmany: {<<: [{p: 1}, {p: 2, q: 3}], r: 5}\n",
    "list: &l [1, [2, 3], {k: v}]\nagain: *l\nnested: {deep: {deeper: [*l]}}\n",
    "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\nquoted: \"tab\\there \\u00e9\"\n",
    "[1, 2, {a: b}]\n",
    "just text\n",
    "",
    "---\n",
    "k: 'it''s'\nempty: ''\nspace: ' '\nunicode: ключ 😀\n'<<': not a merge\n",
    "2: int key\n1.5: float key\ntrue: bool key\n~: null key\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_the_event_stream_loader_builds_what_pyyaml_built(text: str) -> None:
    expected = yaml.load(text, Loader=ReferenceLoader)
    assert _same(read_yaml(text, "x.yaml"), expected)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # nan
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_the_seed_snippets_and_example_scenarios_load_the_same_as_before() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        text = path.read_text()
        assert read_yaml(text, str(path)) == yaml.load(text, Loader=ReferenceLoader)


def big_scenario(events: int, *, bad: dict[int, str] | None = None) -> str:
    """Block style, as ``xtape convert`` writes it; ``bad`` replaces one event's delay line."""
    bad = bad or {}
    out = ["name: big", "events:"]
    for i in range(events):
        out += [
            "  - stream: orders",
            bad.get(i, f"    delay: {i % 5}"),
            "    payload:",
            f"      orderId: ord_{i}",
            "      price: '10.5'",
            f"    id: 1700000000000-{i}",
        ]
    return "\n".join(out) + "\n"


def test_errors_deep_in_a_big_file_name_the_right_lines(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(big_scenario(5000, bad={1234: "    delay: -1", 4321: "    dleay: 3"}))

    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario(path)

    first, second = caught.value.errors
    assert str(first) == f"{path}:{2 + 1234 * 6 + 2}: events[1234].delay: must be >= 0 (got -1)"
    assert str(second) == (
        f"{path}:{2 + 4321 * 6 + 2}: events[4321]: unknown key 'dleay' (did you mean 'delay'?)"
    )
    assert str(caught.value) == f"{first} (and 1 more error; xtape validate lists them all)"
    assert (caught.value.path, caught.value.line) == (str(path), 2 + 1234 * 6 + 2)


def test_a_loaded_file_keeps_events_as_records_and_shows_them_as_event_specs(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(big_scenario(3))
    events = load_scenario(path).events
    assert isinstance(events, EventList)
    assert len(events) == 3
    assert events[1].payload == {"orderId": "ord_1", "price": "10.5"}
    assert [event.id for event in events] == ["1700000000000-0", "1700000000000-1", "1700000000000-2"]
    assert events[-1].delay == 2 and events[0].repeat == 1 and events[0].template is True


def test_progress_is_reported_up_to_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    text = big_scenario(5000)
    path.write_text(text)
    seen: list[tuple[int, int]] = []

    load_scenario(path, progress=lambda done, total: seen.append((done, total)))

    assert len(seen) >= 4
    assert all(total == len(text) for _, total in seen)
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] > len(text) * 0.7


# --------------------------------------------------------------------------- JSON


def test_json_scenarios_load_with_lines_for_their_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{\n  "name": "j",\n  "events": [\n    {"stream": "a", "payload": {"f": "v"}},\n'
        '    {"stream": "b", "payload": {"f": "v"},\n     "delay": -3}\n  ]\n}\n'
    )
    with pytest.raises(ScenarioError, match=r"s\.json:6: events\[1\]\.delay: must be >= 0 \(got -3\)$"):
        load_scenario(path)


def test_json_syntax_errors_and_duplicate_keys_name_their_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "events": [\n    {"stream": "a",}\n  ]\n}\n')
    duplicate = tmp_path / "dup.json"
    duplicate.write_text('{\n  "events": [\n    {"stream": "a",\n     "payload": {"f": "1",\n "f": "2"}}\n  ]\n}\n')

    with pytest.raises(ScenarioError, match=r"broken\.json:3: invalid JSON: "):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match=r"dup\.json:5: duplicate key 'f'"):
        load_scenario(duplicate)


def test_json_and_yaml_of_the_same_scenario_load_the_same(tmp_path: Path) -> None:
    text = big_scenario(20)
    data = yaml.load(text, Loader=ReferenceLoader)
    (tmp_path / "s.json").write_text(json.dumps(data))
    (tmp_path / "s.yaml").write_text(text)
    from_json = load_scenario(tmp_path / "s.json")
    from_yaml = load_scenario(tmp_path / "s.yaml")
    assert list(from_json.events) == list(from_yaml.events)


# --------------------------------------------------------------------------- every problem at once


EVERY_KIND = """\
name: broken
variables:
  userId: u1
events:
  - stream: a
    payload: {f: v}
    delya: 5
  - stream: b
    payload: {user: "{{usrId}}"}
  - stream: c
    payload: {f: v}
    repeat: 0
  - stream: d
    generator: nope
  - stream: e
    payload: {f: v}
"""


def test_validate_scenario_finds_structure_variable_and_generator_problems_at_once(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(EVERY_KIND)

    checked = validate_scenario(path)

    assert [str(error) for error in checked.errors] == [
        f"{path}:7: events[0]: unknown key 'delya' (did you mean 'delay'?)",
        f"{path}:12: events[2].repeat: must be >= 1 (got 0)",
        f"{path}:9: events[1]: undefined variable 'usrId' (define it under variables: or pass --variable usrId=...)",
        f"{path}:14: events[3].generator: no generator named 'nope': define it under generators: "
        "(generators available: "
        + checked.errors[3].args[0].split("(generators available: ")[1],
    ]


def test_load_scenario_text_raises_every_structure_problem_in_file_order() -> None:
    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario_text(EVERY_KIND, "x.yaml")
    assert [str(error) for error in caught.value.errors] == [
        "x.yaml:7: events[0]: unknown key 'delya' (did you mean 'delay'?)",
        "x.yaml:12: events[2].repeat: must be >= 1 (got 0)",
    ]
    assert isinstance(caught.value, ScenarioError) and caught.value.exit_code == 2


def test_read_scenario_keeps_the_good_events_of_a_broken_file() -> None:
    loaded = read_scenario_text_of(EVERY_KIND)
    assert loaded.scenario is not None
    assert [event.stream for event in loaded.scenario.events] == ["b", "d", "e"]


def read_scenario_text_of(text: str) -> Any:
    from xtape.scenario.loader import read_scenario_text

    return read_scenario_text(text, "x.yaml")


def test_read_scenario_reports_an_unreadable_file_as_a_problem(tmp_path: Path) -> None:
    loaded = read_scenario(tmp_path / "missing.yaml")
    assert loaded.scenario is None
    [error] = loaded.errors
    assert str(error).startswith(f"{tmp_path / 'missing.yaml'}: cannot read")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("? [complex, key]\n: value\n", r"^x\.yaml:1: invalid YAML: found an unhashable key"),
        ("a: 1\n---\nb: 2\n", r"^x\.yaml:2: invalid YAML: expected a single document"),
        ("a: &x 1\nb: &x 2\n", r"^x\.yaml:2: invalid YAML: found duplicate anchor 'x'"),
        ("a: {<<: 5}\n", r"^x\.yaml:1: invalid YAML: expected a mapping or list of mappings for merging"),
        ("a: !custom {}\n", r"^x\.yaml:1: invalid YAML: unsupported tag '!custom'"),
        ("a: !!python/tuple [1]\n", r"^x\.yaml:1: invalid YAML: unsupported tag '!!python/tuple'"),
        ("a: !!int nope\n", r"^x\.yaml:1: invalid YAML: "),
    ],
)
def test_documents_the_loader_refuses_name_their_line(text: str, expected: str) -> None:
    with pytest.raises(YamlError, match=expected):
        read_yaml(text, "x.yaml")
