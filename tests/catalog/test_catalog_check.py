"""One validator for scenario payloads and recorded entries: field bytes decoded by the
declared type with the scenario encoding's rules, then checked by the schema library."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from xtape.catalog import load_catalog_text
from xtape.scenario import payload_to_fields
from xtape.timeline import flat_fields

CATALOG = load_catalog_text(
    """
strict: true
streams:
  order.request:
    fields:
      orderId: {type: string, pattern: "^order_[0-9]+$"}
      leverage: {type: integer, minimum: 1, maximum: 100}
      price: number
      isLong: boolean
      side: {enum: [buy, sell]}
      tier: {enum: [1, 2, 3]}
      meta: json
      legs: array
      sig: binary
      note: {type: [string, "null"]}
    required: [orderId, leverage]
  open.stream:
    strict: false
    fields:
      n: integer
"""
)


def check(payload: dict[str, Any], stream: str = "order.request") -> Any:
    return CATALOG.check(stream, flat_fields(payload_to_fields(payload)))


def test_a_valid_payload_has_no_problems() -> None:
    payload = {
        "orderId": "order_1", "leverage": 5, "price": 50000.5, "isLong": True, "side": "buy",
        "tier": 2, "meta": {"a": [1, 2]}, "legs": [1, "x"], "sig": b"\xff\x00", "note": None,
    }  # fmt: skip
    assert check(payload) == ()


def test_numbers_written_as_text_in_a_scenario_validate_like_numbers() -> None:
    # leverage: "5" and leverage: 5 publish the same bytes, so they validate alike
    assert check({"orderId": "order_1", "leverage": "5", "price": "1e3", "isLong": "true", "tier": "2"}) == ()


def test_a_wrong_type_says_what_was_expected_and_what_came() -> None:
    assert check({"orderId": "order_1", "leverage": "x"}) == [(("leverage",), 'expected integer, got "x"')]
    assert check({"orderId": "order_1", "leverage": 2.5}) == [(("leverage",), "expected integer, got 2.5")]
    assert check({"orderId": "order_1", "leverage": 1, "isLong": "True"}) == [
        (("isLong",), 'expected boolean, got "True"')
    ]
    assert check({"orderId": "order_1", "leverage": 1, "legs": {"a": 1}}) == [
        (("legs",), 'expected array, got {"a":1}')
    ]


def test_missing_required_fields_are_each_named() -> None:
    assert check({"price": 1}) == [
        ((), "missing required field 'orderId'"),
        ((), "missing required field 'leverage'"),
    ]


def test_an_extra_field_in_strict_mode_is_an_error_with_a_suggestion() -> None:
    assert check({"orderId": "order_1", "leverage": 1, "prcie": 5}) == [
        (("prcie",), "unknown field 'prcie' (did you mean 'price'?) (not allowed by the catalog)")
    ]


def test_an_open_stream_allows_fields_it_does_not_describe() -> None:
    assert check({"n": 1, "anything": "\u00e9", "bin": b"\xff"}, "open.stream") == ()
    assert check({"n": "x"}, "open.stream") == [(("n",), 'expected integer, got "x"')]


def test_every_problem_of_a_payload_is_listed_not_only_the_first() -> None:
    problems = check({"orderId": "nope", "leverage": 0, "side": "hold", "tier": 9, "meta": "{bad"})
    assert problems == [
        (("meta",), 'expected JSON, got "{bad"'),
        (("leverage",), "0 is less than the minimum of 1"),
        (("orderId",), "\"nope\" does not match the pattern '^order_[0-9]+$'"),
        (("side",), 'expected one of "buy", "sell", got "hold"'),
        (("tier",), 'expected one of 1, 2, 3, got "9"'),
    ]


def test_binary_in_a_text_field_is_reported_and_binary_fields_take_any_bytes() -> None:
    assert check({"orderId": b"\xff\xfe", "leverage": 1}) == [
        (("orderId",), "expected text, got binary data (2 bytes that are not UTF-8)"),
        (("orderId",), "\"\\\\xff\\\\xfe\" does not match the pattern '^order_[0-9]+$'"),
    ]
    assert check({"orderId": "order_1", "leverage": 1, "sig": bytes(range(256))}) == ()


def test_a_repeated_field_name_is_an_error_in_strict_mode() -> None:
    flat = [b"orderId", b"order_1", b"leverage", b"1", b"leverage", b"2"]
    assert CATALOG.check("order.request", flat) == [(("leverage",), "field 'leverage' appears 2 times")]


def test_the_fast_check_agrees_with_the_explained_one() -> None:
    for payload in ({"orderId": "order_1", "leverage": 1}, {"orderId": "order_1", "leverage": "x"}, {}):
        flat = flat_fields(payload_to_fields(payload)) if payload else (b"x", b"1")
        spec = CATALOG.lookup("order.request")
        assert spec is not None
        assert spec.is_valid(flat) == (spec.check(flat) == ())


scalars = st.one_of(
    st.integers(min_value=-(10**18), max_value=10**18).map(lambda n: ("integer", n)),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: ("number", x)),
    st.booleans().map(lambda b: ("boolean", b)),
    st.text().map(lambda t: ("string", t)),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3).map(lambda d: ("object", d)),
    st.lists(st.integers(), max_size=3).map(lambda v: ("array", v)),
    st.binary().map(lambda b: ("binary", b)),
)


@given(st.dictionaries(st.text(min_size=1, max_size=8), scalars, min_size=1, max_size=6))
def test_any_scenario_payload_validates_against_a_catalog_of_its_types(values: dict[str, Any]) -> None:
    """What the encoding writes for a value of a type, the decoding reads back as that type."""
    lines = ["streams:", "  s:", "    strict: true", "    fields:"]
    for name, (kind, _) in values.items():
        lines.append(f"      f{base64.b16encode(name.encode()).decode()}: {kind}")
    catalog = load_catalog_text("\n".join(lines) + "\n")
    payload = {"f" + base64.b16encode(name.encode()).decode(): value for name, (_, value) in values.items()}
    flat = flat_fields(payload_to_fields(payload))
    assert catalog.check("s", flat) == ()
