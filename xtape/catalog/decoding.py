"""Field bytes decoded by the type their schema declares, with the rules the scenario
encoding writes them by (:mod:`xtape.scenario.encoding`): integers, numbers, booleans
and null as their JSON text, objects and arrays as JSON text, strings as UTF-8 text,
binary as its base64 text. :func:`decoder_for` picks the decoder of one field's schema
(``$ref`` followed, unions and enums included); a value that does not decode is passed
on as text so the check reports the mismatch, or raises :class:`DecodeProblem`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from xtape.catalog.shown import shown

Decoder: TypeAlias = Callable[[bytes], Any]

_JSON_TYPES = ("string", "integer", "number", "boolean", "null", "object", "array")
_INT = re.compile(rb"-?(?:0|[1-9][0-9]*)")
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_BOOLS = {b"true": True, b"false": False}
_MISSING: Any = object()


class DecodeProblem(Exception):
    """A value that cannot be decoded at all (binary in a text field, text that is not
    JSON in a JSON field): ``message`` says why, ``value`` stands in for it."""

    def __init__(self, message: str, value: Any) -> None:
        super().__init__(message)
        self.message = message
        self.value = value


def _text_of(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def decode_text(raw: bytes) -> str:
    """A string field: UTF-8 text."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeProblem(
            f"expected text, got binary data ({len(raw)} bytes that are not UTF-8)", _text_of(raw)
        ) from None


def decode_loose(raw: bytes) -> str:
    """A field the schema does not describe: text, undecodable bytes escaped."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _text_of(raw)


def decode_integer(raw: bytes) -> Any:
    if _INT.fullmatch(raw):
        return int(raw)
    return _json_or_text(raw)


def decode_number(raw: bytes) -> Any:
    if _INT.fullmatch(raw):
        return int(raw)
    if _NUMBER.fullmatch(raw):
        return float(raw)
    return _json_or_text(raw)


def decode_boolean(raw: bytes) -> Any:
    value = _BOOLS.get(raw, _MISSING)
    return _json_or_text(raw) if value is _MISSING else value


def _json_or_text(raw: bytes) -> Any:
    """The JSON value the text is, else the text (the check then names the mismatch)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return decode_loose(raw)


def decode_json(raw: bytes) -> Any:
    """A JSON field (object, array or any JSON value): the parsed JSON."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        text = decode_loose(raw)
        raise DecodeProblem(f"expected JSON, got {shown(text)}", text) from None


def decode_binary(raw: bytes) -> str:
    """A binary field: any bytes, seen by the schema as their base64 text."""
    return base64.b64encode(raw).decode("ascii")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _union(types: frozenset[str]) -> Decoder:
    """Several types, text among them: the JSON value when it is one of them, else text."""

    def decode(raw: bytes) -> Any:
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            return decode_loose(raw)
        kind = _json_type(value)
        if kind in types or (kind == "integer" and "number" in types):
            return value
        return decode_loose(raw)

    return decode


def _members(options: Sequence[Any]) -> Decoder:
    """An enum (or const) with non-text members: the JSON value when it is a member."""
    members = list(options)

    def decode(raw: bytes) -> Any:
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            return decode_loose(raw)
        return value if any(value == m and type(value) is type(m) for m in members) else decode_loose(raw)

    return decode


_NUMERIC_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_JSON_KEYWORDS = (
    "properties", "required", "additionalProperties", "patternProperties", "items",
    "minItems", "maxItems", "uniqueItems", "contains", "minProperties", "maxProperties",
)  # fmt: skip


def resolve(schema: Any, root: Mapping[str, Any]) -> Any:
    """``schema`` with a local ``$ref`` (``#/$defs/X``, ``#/definitions/X``) followed."""
    seen = 0
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < 20:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return schema
        target: Any = root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                return schema
            target = target[part]
        schema = target
        seen += 1
    return schema


def _types(schema: Any, root: Mapping[str, Any], depth: int = 0) -> frozenset[str] | None:
    """The JSON types a field schema allows, None if it does not say."""
    schema = resolve(schema, root)
    if not isinstance(schema, Mapping) or depth > 10:
        return None
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(t for t in declared if isinstance(t, str))
    for key in ("anyOf", "oneOf", "allOf"):
        branches = schema.get(key)
        if isinstance(branches, list):
            found: set[str] = set()
            for branch in branches:
                kinds = _types(branch, root, depth + 1)
                if kinds is None:
                    if key != "allOf":
                        return None
                    continue
                found |= kinds
            if found:
                return frozenset(found)
    return None


def decoder_for(schema: Any, root: Mapping[str, Any]) -> Decoder:
    """How a field described by ``schema`` is decoded from its bytes (see the module doc)."""
    schema = resolve(schema, root)
    if not isinstance(schema, Mapping):
        return decode_loose
    if schema.get("contentEncoding") == "base64":
        return decode_binary
    if "const" in schema or "enum" in schema:
        options = [schema["const"]] if "const" in schema else schema.get("enum")
        if isinstance(options, list) and options and not all(isinstance(o, str) for o in options):
            return _members(options)
        if isinstance(options, list) and options:
            return decode_text
    kinds = _types(schema, root)
    if kinds is None:
        if any(key in schema for key in _NUMERIC_KEYWORDS):
            return decode_number
        if any(key in schema for key in _JSON_KEYWORDS):
            return decode_json
        if schema.get("x-json"):
            return decode_json
        return decode_text if schema else decode_loose
    if kinds == {"string"}:
        return decode_text
    if "string" in kinds:
        return _union(kinds)
    if kinds == {"integer"}:
        return decode_integer
    if kinds <= {"integer", "number"}:
        return decode_number
    if kinds == {"boolean"}:
        return decode_boolean
    return _json_or_text if kinds <= {"integer", "number", "boolean", "null"} else decode_json
