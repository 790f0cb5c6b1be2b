"""The codecs parse JSON with orjson, and read exactly what the standard library reads."""

from __future__ import annotations

import json
import math

import pytest

from xtape.codecs.base import parse_json

CASES = [
    b'{"a": 1, "b": [1.5, -0.0, "x"], "c": null, "d": true}',
    b'[18446744073709551615]',  # the largest unsigned 64-bit integer
    b'[18446744073709551616, -9223372036854775809]',  # beyond: still integers
    b'{"n": 123456789012345678901234567890}',
    b'["\\ud800 a lone surrogate"]',
    b'{"a": 1, "a": 2}',
    "\"\u00e9t\u00e9 😀\"".encode(),
    '{"utf16": 1}'.encode("utf-16"),
]


@pytest.mark.parametrize("data", CASES)
def test_parse_json_gives_what_json_loads_gives(data: bytes) -> None:
    mine, theirs = parse_json(data), json.loads(data)
    assert mine == theirs and json.dumps(mine) == json.dumps(theirs)


def test_nan_and_infinity_are_read_as_json_reads_them() -> None:
    value = parse_json(b"[NaN, Infinity, 1e400]")
    assert math.isnan(value[0]) and value[1] == math.inf and value[2] == math.inf


def test_not_json_is_refused_as_json_refuses_it() -> None:
    with pytest.raises(ValueError):
        parse_json(b'{"a": }')


@pytest.mark.parametrize("data", [c for c in CASES if c[:1] in (b"{", b"[")] + [b"[NaN] ", b"{bad}", b'"text"', b"[1] x"])
def test_a_json_shaped_value_is_what_json_loads_gives(data: bytes) -> None:
    from xtape.codecs.base import json_shaped

    try:
        expected = json.loads(data)
    except ValueError:
        expected = None
    got = json_shaped(data)
    assert repr(got) == repr(expected if isinstance(expected, (dict, list)) else None)
