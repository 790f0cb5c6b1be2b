"""The checks of a scenario's values, one function per kind of value.

Each takes the value as written and returns it (maybe normalised) or raises
:func:`fail` with the message a user reads. The tables of keys in :mod:`.model` attach
them to keys; the light path (:func:`xtape.scenario.model.check_event`, what loading
a file runs) and the pydantic model (:mod:`.spec`, what Python code builds) both run
them, so both say the same. Nothing here imports pydantic (a quicker start).
"""

from __future__ import annotations

import math
from typing import Any, Literal, TypeAlias

from xtape.errors import InvalidStreamId
from xtape.ids import parse_id
from xtape.yamlfile.check import show


def _is_id(text: str) -> bool:
    try:
        parse_id(text)
    except InvalidStreamId:
        return False
    return True


class Invalid(Exception):
    """A value refused by a check: the message a user reads, and where below the key."""

    def __init__(self, message: str, subloc: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.subloc = subloc


def fail(message: str, subloc: tuple[object, ...] = ()) -> Invalid:
    """A validation error with our own message; ``subloc`` refines the location."""
    return Invalid(message, subloc)


def milliseconds(value: Any) -> float | int:
    if value.__class__ is int and value >= 0:
        return value  # the common case, first
    if isinstance(value, str):  # a duration with a unit: 500ms, 2s, 1m (a number: ms)
        from xtape.errors import UsageError
        from xtape.units import parse_duration

        try:
            ms = parse_duration(value, option="") / 1_000_000
        except UsageError:
            raise fail(
                f"must be a number of milliseconds or a duration with a unit: ms, s, m, h (got {show(value)})"
            ) from None
        return int(ms) if ms.is_integer() else ms
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(f"must be a number of milliseconds (got {show(value)})")
    if not math.isfinite(value):
        raise fail(f"must be a finite number of milliseconds (got {show(value)})")
    if value < 0:
        raise fail(f"must be >= 0 (got {show(value)})")
    return value


def variables(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(f"must be a mapping of name: value (got {show(value)})")
    for name in value:
        if not isinstance(name, str):
            raise fail(f"variable names must be strings (got {show(name)})", (name,))
    return value


def _field_name(name: Any, subloc: tuple[object, ...]) -> str | bytes:
    if isinstance(name, (str, bytes)):
        return name
    if isinstance(name, int) and not isinstance(name, bool):
        return str(name)
    raise fail(f"field names must be strings or !!binary (got {show(name)}); quote it", subloc)


def payload(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        if not value:
            raise fail("must have at least one field (Redis stream entries cannot be empty)")
        for name in value:
            if name.__class__ is not str and name.__class__ is not bytes:
                return {_field_name(name, (name,)): item for name, item in value.items()}
        return value
    if isinstance(value, list):
        if not value:
            raise fail("must have at least one field (Redis stream entries cannot be empty)")
        pairs: list[tuple[str | bytes, Any]] = []
        for index, item in enumerate(value):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise fail(
                    f"must be a [name, value] pair (got {show(item)}); a payload is a "
                    "mapping or a list of [name, value] pairs",
                    (index,),
                )
            pairs.append((_field_name(item[0], (index,)), item[1]))
        return pairs
    raise fail(
        f"must be a mapping of field: value or a list of [name, value] pairs (got {show(value)})"
    )


def stream(value: Any) -> Any:
    if value.__class__ is not str:
        raise fail(f"must be a string (got {show(value)})")
    if not value:
        raise fail("must not be empty")
    return value


def text(value: Any) -> Any:
    if value is not None and value.__class__ is not str:
        raise fail(f"must be a string (got {show(value)})")
    return value


def generator(value: Any) -> Any:
    if value is None or value is True or (isinstance(value, str) and value):
        return value
    raise fail(f"must be true or the name of a generator (got {show(value)})")


def template(value: Any) -> Any:
    if not isinstance(value, bool):
        raise fail(f"must be true or false (got {show(value)})")
    return value


def repeat(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(f"must be a whole number >= 1 (got {show(value)})")
    if value < 1:
        raise fail(f"must be >= 1 (got {show(value)})")
    return value


def entry_id(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _is_id(value):
        raise fail(f"must be a stream entry id like '1700000000000-0' (got {show(value)})")
    return value


def one_source(payload: Any, generator: Any, id: Any, repeat: int) -> None:
    if payload is not None and generator is not None:
        raise fail("has both payload: and generator:; use one of them")
    if payload is None and generator is None:
        raise fail("needs payload: (the fields to publish) or generator: true")
    if id is not None and repeat > 1:
        raise fail("id: cannot be combined with repeat > 1 (entry ids must be unique)")


def generators(value: Any) -> Any:
    if not isinstance(value, dict):
        raise fail(f"must be a mapping of name: payload spec (got {show(value)})")
    for name, spec in value.items():
        if not isinstance(name, str):
            raise fail(f"generator names must be strings (got {show(name)})", (name,))
        if not isinstance(spec, dict):
            raise fail(
                f"must be a mapping of field: spec, or {{python: 'module:function'}} (got {show(spec)})",
                (name,),
            )
    return value


def encoding(value: Any) -> Any:
    if value == "fields" or isinstance(value, JsonEncoding):
        return value
    if isinstance(value, dict) and set(value) == {"json"}:
        return JsonEncoding(json=value["json"])
    raise fail(f"must be 'fields' or {{json: FIELD}} (got {show(value)})")


def codec_name(value: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    raise fail(f"must be a codec name such as faststream, json or raw (got {show(value)})")


def codecs(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise fail(f"must be a mapping of STREAM_GLOB: CODEC (got {show(value)})")
    for glob, name in value.items():
        if not isinstance(glob, str) or not glob:
            raise fail(f"must be keyed by stream globs (got {show(glob)})", (glob,))
        if not isinstance(name, str) or not name.strip():
            raise fail(f"must be a codec name such as faststream, json or raw (got {show(name)})", (glob,))
    return value


class JsonEncoding:
    """``encoding: {json: FIELD}``: the whole payload is published as one JSON field.

    Built as ``JsonEncoding(json="data")`` (the key of the file) or ``field="data"``.
    """

    __slots__ = ("field",)

    #: The keys of ``encoding: {...}``.
    KEYS = ("json",)

    def __init__(self, json: str | None = None, *, field: str | None = None) -> None:
        name = json if field is None else field
        if not isinstance(name, str) or not name:
            raise fail(f"must be a field name (got {show(name)})", ("json",))
        self.field: str = name

    def __repr__(self) -> str:
        return f"JsonEncoding(field={self.field!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonEncoding) and other.field == self.field

    def __hash__(self) -> int:
        return hash(("json", self.field))


Encoding: TypeAlias = Literal["fields"] | JsonEncoding
