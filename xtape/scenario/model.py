"""The scenario model: what a scenario file may say, checked by pydantic.

Only the *shape* is checked here (keys, types, ranges). Whether every ``{{variable}}``
is defined and every generator exists is the static check's job (:mod:`.plan`), because
that depends on the ``--variable`` values given on the command line.
"""

from __future__ import annotations

import math
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from xtape.errors import InvalidStreamId
from xtape.ids import parse_id
from xtape.scenario.locations import SourceMap, show


def _is_id(text: str) -> bool:
    try:
        parse_id(text)
    except InvalidStreamId:
        return False
    return True


def _fail(message: str, subloc: tuple[object, ...] = ()) -> PydanticCustomError:
    """A validation error with our own message; ``subloc`` refines the location."""
    return PydanticCustomError("xtape", "{message}", {"message": message, "subloc": subloc})


def _milliseconds(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"must be a number of milliseconds (got {show(value)})")
    if not math.isfinite(value):
        raise _fail(f"must be a finite number of milliseconds (got {show(value)})")
    if value < 0:
        raise _fail(f"must be >= 0 (got {show(value)})")
    return value


def _variables(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"must be a mapping of name: value (got {show(value)})")
    for name in value:
        if not isinstance(name, str):
            raise _fail(f"variable names must be strings (got {show(name)})", (name,))
    return value


def _field_name(name: Any, subloc: tuple[object, ...]) -> str | bytes:
    if isinstance(name, (str, bytes)):
        return name
    if isinstance(name, int) and not isinstance(name, bool):
        return str(name)
    raise _fail(f"field names must be strings or !!binary (got {show(name)}); quote it", subloc)


class JsonEncoding(BaseModel):
    """``encoding: {json: FIELD}``: the whole payload is published as one JSON field."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    field: str = Field(alias="json", min_length=1)


Encoding: TypeAlias = Literal["fields"] | JsonEncoding


class EventSpec(BaseModel):
    """One ``events:`` entry: what to publish on which stream, when, how many times."""

    model_config = ConfigDict(extra="forbid")

    stream: str = Field(min_length=1)
    payload: Any = None
    generator: bool | str | None = None
    delay: float | int = 0
    repeat: int = 1
    interval: float | int = 0
    variables: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    #: ``template: false`` publishes the payload exactly as written (no ``{{...}}``).
    template: bool = True

    @field_validator("payload", mode="before")
    @classmethod
    def _check_payload(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dict):
            if not value:
                raise _fail("must have at least one field (Redis stream entries cannot be empty)")
            return {_field_name(name, (name,)): item for name, item in value.items()}
        if isinstance(value, list):
            if not value:
                raise _fail("must have at least one field (Redis stream entries cannot be empty)")
            pairs: list[tuple[str | bytes, Any]] = []
            for index, item in enumerate(value):
                if not isinstance(item, list) or len(item) != 2:
                    raise _fail(
                        f"must be a [name, value] pair (got {show(item)}); a payload is a "
                        "mapping or a list of [name, value] pairs",
                        (index,),
                    )
                pairs.append((_field_name(item[0], (index,)), item[1]))
            return pairs
        raise _fail(
            f"must be a mapping of field: value or a list of [name, value] pairs (got {show(value)})"
        )

    @field_validator("generator", mode="before")
    @classmethod
    def _check_generator(cls, value: Any) -> Any:
        if value is None or value is True or (isinstance(value, str) and value):
            return value
        raise _fail(f"must be true or the name of a generator (got {show(value)})")

    @field_validator("template", mode="before")
    @classmethod
    def _check_template(cls, value: Any) -> Any:
        if not isinstance(value, bool):
            raise _fail(f"must be true or false (got {show(value)})")
        return value

    @field_validator("delay", "interval", mode="before")
    @classmethod
    def _check_ms(cls, value: Any) -> Any:
        return _milliseconds(value)

    @field_validator("repeat", mode="before")
    @classmethod
    def _check_repeat(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(f"must be a whole number >= 1 (got {show(value)})")
        if value < 1:
            raise _fail(f"must be >= 1 (got {show(value)})")
        return value

    @field_validator("variables", mode="before")
    @classmethod
    def _check_variables(cls, value: Any) -> Any:
        return _variables(value)

    @field_validator("id", mode="before")
    @classmethod
    def _check_id(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not _is_id(value):
            raise _fail(f"must be a stream entry id like '1700000000000-0' (got {show(value)})")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> EventSpec:
        if self.payload is not None and self.generator is not None:
            raise _fail("has both payload: and generator:; use one of them")
        if self.payload is None and self.generator is None:
            raise _fail("needs payload: (the fields to publish) or generator: true")
        if self.id is not None and self.repeat > 1:
            raise _fail("id: cannot be combined with repeat > 1 (entry ids must be unique)")
        return self


class Scenario(BaseModel):
    """A scenario file: named, described, a list of events and what they may use."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    generators: dict[str, Any] = Field(default_factory=dict)
    encoding: Encoding = "fields"
    events: list[EventSpec] = Field(min_length=1)

    _source: SourceMap | None = PrivateAttr(default=None)

    @property
    def source(self) -> SourceMap | None:
        """The file this scenario was loaded from (with its lines), if any."""
        return self._source

    @field_validator("variables", mode="before")
    @classmethod
    def _check_variables(cls, value: Any) -> Any:
        return _variables(value)

    @field_validator("generators", mode="before")
    @classmethod
    def _check_generators(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise _fail(f"must be a mapping of name: payload spec (got {show(value)})")
        for name, spec in value.items():
            if not isinstance(name, str):
                raise _fail(f"generator names must be strings (got {show(name)})", (name,))
            if not isinstance(spec, dict):
                raise _fail(
                    f"must be a mapping of field: spec, or {{python: 'module:function'}} (got {show(spec)})",
                    (name,),
                )
        return value

    @field_validator("encoding", mode="before")
    @classmethod
    def _check_encoding(cls, value: Any) -> Any:
        if value == "fields" or isinstance(value, JsonEncoding):
            return value
        if isinstance(value, dict) and set(value) == {"json"}:
            field = value["json"]
            if isinstance(field, str) and field:
                return JsonEncoding(json=field)
            raise _fail(f"must be a field name (got {show(field)})", ("json",))
        raise _fail(f"must be 'fields' or {{json: FIELD}} (got {show(value)})")
