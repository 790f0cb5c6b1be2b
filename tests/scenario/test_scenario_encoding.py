"""Payload <-> fields: the default and JSON encodings, and byte-exact round trips through YAML."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from xtape.errors import ScenarioError
from xtape.scenario import (
    JsonEncoding,
    check_scenario,
    dump_scenario_yaml,
    event_from_fields,
    fields_to_payload,
    load_scenario_text,
    payload_to_fields,
    render,
)
from xtape.timeline import Fields


def test_default_encoding_follows_the_design() -> None:
    payload = {
        "s": "héllo",
        "i": 5,
        "f": 5.0,
        "t": True,
        "n": None,
        "o": {"a": [1, "x"], "b": {"c": False}},
        "l": [1, 2],
        "raw": b"\xff\x00",
    }
    assert payload_to_fields(payload) == (
        (b"s", "héllo".encode()),
        (b"i", b"5"),
        (b"f", b"5.0"),
        (b"t", b"true"),
        (b"n", b"null"),
        (b"o", b'{"a":[1,"x"],"b":{"c":false}}'),
        (b"l", b"[1,2]"),
        (b"raw", b"\xff\x00"),
    )


def test_list_form_keeps_order_and_duplicate_names() -> None:
    assert payload_to_fields([("a", "1"), ("a", "2"), (b"\xfe", b"\xff")]) == (
        (b"a", b"1"),
        (b"a", b"2"),
        (b"\xfe", b"\xff"),
    )


def test_json_encoding_publishes_one_field() -> None:
    assert payload_to_fields({"a": 1, "b": "x"}, JsonEncoding(json="data")) == (
        (b"data", b'{"a":1,"b":"x"}'),
    )


def test_json_encoding_from_a_scenario_file() -> None:
    text = "encoding: {json: body}\nevents:\n  - stream: s\n    payload: {a: 1, b: '{{index}}'}\n"
    [event] = render(load_scenario_text(text), seed=1)
    assert event.fields == ((b"body", b'{"a":1,"b":0}'),)


def test_binary_inside_json_is_a_located_error() -> None:
    text = "events:\n  - stream: s\n    payload:\n      o: {x: !!binary /wA=}\n"
    with pytest.raises(ScenarioError, match=r"^t\.yaml:3: events\[0\]\.payload: binary"):
        check_scenario(load_scenario_text(text, "t.yaml"))


def test_fields_to_payload_is_a_mapping_of_strings_when_names_are_unique_text() -> None:
    assert fields_to_payload(((b"a", b"5.0"), (b"b", b"007"), (b"c", b"\xff"))) == {
        "a": "5.0",
        "b": "007",
        "c": b"\xff",
    }


def test_fields_to_payload_uses_pairs_for_duplicates_or_binary_names() -> None:
    assert fields_to_payload(((b"a", b"1"), (b"a", b"2"))) == [["a", "1"], ["a", "2"]]
    assert fields_to_payload(((b"\xff", b"1"),)) == [[b"\xff", "1"]]


def test_event_from_fields_turns_templating_off_only_when_needed() -> None:
    plain = event_from_fields("s", ((b"a", b"1"),), delay=5, id="1-0")
    assert plain == {"stream": "s", "delay": 5, "payload": {"a": "1"}, "id": "1-0"}
    braces = event_from_fields(b"s", ((b"a", b"{{x}}"),))
    assert braces["template"] is False


field_bytes = st.one_of(
    st.binary(max_size=12),
    st.text(max_size=12).map(lambda text: text.encode("utf-8")),
    st.sampled_from(
        [b"", b"5.0", b"007", b"true", b"null", b"1e3", b"yes", b"~", b"{{x}}", b"- a", b"a: b",
         b"\r\n", b" x ", b"\xef\xbb\xbf", b"\xc2\x85", b"\xe2\x80\xa8", b"<<", b"="]
    ),
)
fields_strategy = st.lists(st.tuples(field_bytes, field_bytes), min_size=1, max_size=6).map(tuple)


def through_yaml(fields: Fields, stream: str = "s") -> Fields:
    event = event_from_fields(stream, fields, id="1700000000000-0")
    text = dump_scenario_yaml({"name": "rt", "events": [event]})
    scenario = load_scenario_text(text, "rt.yaml")
    [rendered] = render(scenario, seed=0)
    assert rendered.stream == stream.encode()
    assert rendered.id == b"1700000000000-0"
    return rendered.fields


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(fields=fields_strategy)
@example(fields=((b"a", b"1"), (b"a", b"2")))
@example(fields=((b"", b""),))
@example(fields=((b"\xff", b"\x00\x80"),))
@example(fields=(("ключ".encode(), "значение 🎉".encode()),))
def test_any_fields_survive_payload_yaml_load_render(fields: Fields) -> None:
    assert through_yaml(fields) == fields


@settings(max_examples=300)
@given(fields=fields_strategy)
def test_fields_to_payload_then_payload_to_fields_is_identity(fields: Fields) -> None:
    assert payload_to_fields(fields_to_payload(fields)) == fields


@given(stream=st.text(min_size=1, max_size=10))
def test_unicode_stream_names_survive_yaml(stream: str) -> None:
    assert through_yaml(((b"k", b"v"),), stream) == ((b"k", b"v"),)
