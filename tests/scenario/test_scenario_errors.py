"""Invalid scenarios fail with one line: ``path:line: key: what`` (and never a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xtape.errors import InputError, RenderError, ScenarioError
from xtape.scenario import check_scenario, load_scenario, load_scenario_text


def load_error(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "scenarios/x.yaml")
    message = str(caught.value)
    assert "\n" not in message
    return message


def check_error(text: str, variables: dict[str, str] | None = None) -> str:
    scenario = load_scenario_text(text, "scenarios/x.yaml")
    with pytest.raises(RenderError) as caught:
        check_scenario(scenario, variables)
    message = str(caught.value)
    assert "\n" not in message
    return message


GOOD_EVENT = "  - stream: a\n    payload: {f: v}\n"


def test_malformed_yaml_names_the_line() -> None:
    message = load_error("name: x\nevents:\n  - stream: a\n    payload: {f: v\n")
    assert message.startswith("scenarios/x.yaml:")
    assert ": invalid YAML: " in message
    assert message.split(":")[1] in {"4", "5"}


def test_tab_indentation_is_invalid_yaml_with_its_line() -> None:
    message = load_error("events:\n\t- stream: a\n")
    assert message.startswith("scenarios/x.yaml:2: invalid YAML: ")


def test_unknown_event_key_names_key_line_and_suggests_the_right_one() -> None:
    text = "name: x\nevents:\n" + GOOD_EVENT + "  - stream: b\n    paylod: {f: v}\n"
    assert load_error(text) == (
        "scenarios/x.yaml:6: events[1]: unknown key 'paylod' (did you mean 'payload'?)"
    )


def test_unknown_top_level_key_lists_the_valid_keys() -> None:
    message = load_error("name: x\nzzz: 1\nevents:\n" + GOOD_EVENT)
    assert message.startswith("scenarios/x.yaml:2: unknown key 'zzz' (valid keys: name, description,")


def test_negative_delay_is_refused_with_the_value() -> None:
    text = "events:\n" + GOOD_EVENT + GOOD_EVENT + "  - stream: c\n    payload: {f: v}\n    delay: -5\n"
    assert load_error(text) == "scenarios/x.yaml:8: events[2].delay: must be >= 0 (got -5)"


def test_negative_interval_is_refused() -> None:
    text = "events:\n  - stream: a\n    interval: -1.5\n    payload: {f: v}\n"
    assert load_error(text) == "scenarios/x.yaml:3: events[0].interval: must be >= 0 (got -1.5)"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("repeat: 0", "events[0].repeat: must be >= 1 (got 0)"),
        ("repeat: 2.5", "events[0].repeat: must be a whole number >= 1 (got 2.5)"),
        ("repeat: true", "events[0].repeat: must be a whole number >= 1 (got true)"),
        ("delay: soon", "events[0].delay: must be a number of milliseconds or a duration with a unit: ms, s, m, h (got 'soon')"),
        ("delay: '100'", "events[0].delay: must be a number of milliseconds or a duration with a unit: ms, s, m, h (got '100')"),
        ("generator: false", "events[0].generator: must be true or the name of a generator (got false)"),
        ("variables: [a]", "events[0].variables: must be a mapping of name: value (got a list of 1)"),
        ("id: yesterday", "events[0].id: must be a stream entry id like '1700000000000-0' (got 'yesterday')"),
        ("template: maybe", "events[0].template: must be true or false (got 'maybe')"),
    ],
)
def test_wrong_type_or_range_names_key_and_line(line: str, expected: str) -> None:
    text = f"events:\n  - stream: a\n    {line}\n    payload: {{f: v}}\n"
    if line.startswith("generator"):
        text = f"events:\n  - stream: a\n    {line}\n"
    assert load_error(text) == f"scenarios/x.yaml:3: {expected}"


def test_stream_must_be_a_string() -> None:
    assert load_error("events:\n  - stream: [a]\n    payload: {f: v}\n") == (
        "scenarios/x.yaml:2: events[0].stream: must be a string (got a list of 1)"
    )


def test_payload_and_generator_together_is_an_error() -> None:
    text = "events:\n" + GOOD_EVENT + "  - stream: b\n    payload: {f: v}\n    generator: true\n"
    assert load_error(text) == (
        "scenarios/x.yaml:4: events[1]: has both payload: and generator:; use one of them"
    )


def test_neither_payload_nor_generator_is_an_error() -> None:
    assert load_error("events:\n  - stream: a\n    delay: 5\n") == (
        "scenarios/x.yaml:2: events[0]: needs payload: (the fields to publish) or generator: true"
    )


def test_missing_stream_is_reported_at_the_event() -> None:
    assert load_error("events:\n  - payload: {f: v}\n") == (
        "scenarios/x.yaml:2: events[0]: missing required key 'stream'"
    )


def test_empty_events_and_missing_events_are_errors() -> None:
    assert load_error("name: x\nevents: []\n") == "scenarios/x.yaml:2: events: must not be empty"
    assert load_error("name: x\n") == "scenarios/x.yaml:1: missing required key 'events'"


def test_empty_file_and_non_mapping_are_errors() -> None:
    assert "empty scenario" in load_error("# nothing\n")
    assert load_error("- a\n- b\n").startswith("scenarios/x.yaml:1: a scenario must be a mapping")


def test_empty_payload_is_refused_because_redis_entries_need_a_field() -> None:
    message = load_error("events:\n  - stream: a\n    payload: {}\n")
    assert message.startswith("scenarios/x.yaml:3: events[0].payload: must have at least one field")


def test_bad_pair_in_list_payload_points_at_the_pair() -> None:
    text = "events:\n  - stream: a\n    payload:\n      - [a, 1]\n      - [b]\n"
    assert load_error(text).startswith(
        "scenarios/x.yaml:5: events[0].payload[1]: must be a [name, value] pair"
    )


def test_duplicate_keys_are_refused_instead_of_silently_dropping_a_field() -> None:
    message = load_error("events:\n  - stream: a\n    payload:\n      f: 1\n      f: 2\n")
    assert message.startswith("scenarios/x.yaml:5: duplicate key 'f'")
    assert "list form" in message


def test_bad_encoding_is_reported() -> None:
    assert load_error("encoding: csv\nevents:\n" + GOOD_EVENT) == (
        "scenarios/x.yaml:1: encoding: must be 'fields' or {json: FIELD} (got 'csv')"
    )


def test_python_object_tag_is_refused() -> None:
    text = "name: !!python/object/apply:os.system ['echo pwned']\nevents:\n" + GOOD_EVENT
    message = load_error(text)
    assert message.startswith("scenarios/x.yaml:1: invalid YAML: unsupported tag")
    assert "python/object/apply:os.system" in message


def test_python_name_tag_in_a_payload_is_refused() -> None:
    message = load_error("events:\n  - stream: a\n    payload: {f: !!python/name:os.system ''}\n")
    assert message.startswith("scenarios/x.yaml:3: invalid YAML: unsupported tag")


def test_undefined_variable_names_variable_event_and_fix() -> None:
    text = "events:\n" + GOOD_EVENT + "  - stream: b\n    payload:\n      user: '{{userId}}'\n"
    assert check_error(text) == (
        "scenarios/x.yaml:6: events[1]: undefined variable 'userId' "
        "(define it under variables: or pass --variable userId=...)"
    )


def test_undefined_variable_inside_text_and_keys_is_found() -> None:
    assert "'a'" in check_error("events:\n  - stream: s\n    payload: {k: 'x{{ a }}y'}\n")
    assert "'b'" in check_error("events:\n  - stream: s\n    payload: {'{{b}}': v}\n")


def test_undefined_variable_in_a_generator_names_the_event_using_it() -> None:
    text = (
        "generators:\n  g:\n    user: '{{who}}'\n"
        "events:\n  - stream: s\n    generator: g\n"
    )
    message = check_error(text)
    assert message.startswith("scenarios/x.yaml:3: events[0] (via generators.g.user): ")
    assert "undefined variable 'who'" in message


def test_cli_variable_satisfies_the_static_check() -> None:
    text = "events:\n  - stream: s\n    payload: {u: '{{userId}}'}\n"
    check_scenario(load_scenario_text(text), {"userId": "x"})


def test_missing_named_generator_lists_the_available_ones() -> None:
    message = check_error("events:\n  - stream: s\n    generator: nope\n")
    assert message.startswith("scenarios/x.yaml:3: events[0].generator: no generator named 'nope'")
    assert "order.request" in message


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("{int: [5, 1]}", "generators.g.f.int: low must be <= high (got a list of 2)"),
        ("{int: [1.5, 2]}", "generators.g.f.int: must be [low, high], two whole numbers"),
        ("{choice: []}", "generators.g.f.choice: must be a non-empty list of options"),
        ("{choice: [a, b], weights: [1]}", "generators.g.f.weights: must be a list of 2 numbers"),
        ("{bool: 2}", "generators.g.f.bool: must be the probability of true, 0 to 1 (got 2)"),
        ("{float: [1, 2], decimals: -1}", "generators.g.f.decimals: must be a whole number >= 0"),
        ("{int: [1, 2], step: 3}", "generators.g.f.step: unknown option 'step' for int:"),
        ("{python: nocolon}", "generators.g.f.python: must be 'module:function'"),
    ],
)
def test_malformed_generator_spec_is_a_scenario_error_with_line(spec: str, expected: str) -> None:
    text = f"generators:\n  g:\n    f: {spec}\nevents:\n  - stream: s\n    generator: g\n"
    scenario = load_scenario_text(text, "scenarios/x.yaml")
    with pytest.raises(ScenarioError) as caught:
        check_scenario(scenario)
    assert str(caught.value).startswith(f"scenarios/x.yaml:3: {expected}")


def test_unimportable_python_generator_fails_the_check() -> None:
    text = "generators:\n  g: {python: 'no_such_module_xyz:make'}\nevents:\n  - stream: s\n    generator: g\n"
    message = check_error(text)
    assert message.startswith("scenarios/x.yaml:2: generators.g.python: cannot import python generator")
    assert "no_such_module_xyz" in message


def test_file_errors_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"missing\.yaml: cannot read"):
        load_scenario(tmp_path / "missing.yaml")
    text_file = tmp_path / "notes.txt"
    text_file.write_text("events: []")
    with pytest.raises(ScenarioError, match="not a scenario file"):
        load_scenario(text_file)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: x\nevents: caf\xe9\n")
    with pytest.raises(ScenarioError, match=r"latin\.yaml:2: not UTF-8"):
        load_scenario(latin)
    assert issubclass(ScenarioError, InputError) and issubclass(RenderError, InputError)


def test_error_carries_path_and_line_attributes(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("events:\n  - stream: a\n    payload: {f: v}\n    delay: -1\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert (caught.value.path, caught.value.line) == (str(path), 4)
    assert caught.value.exit_code == 2
