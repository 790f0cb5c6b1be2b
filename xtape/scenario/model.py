"""The scenario model: what a scenario file may say, checked by pydantic.

Only the *shape* is checked here (keys, types, ranges). Whether every ``{{variable}}``
is defined and every generator exists is the static check's job (:mod:`.plan`), because
that depends on the ``--variable`` values given on the command line.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator, Sequence
from typing import Any, Literal, TypeAlias, overload

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from xtape.errors import InvalidStreamId
from xtape.ids import parse_id
from xtape.scenario.locations import SourceMap
from xtape.yamlfile.check import Loc, format_loc, show


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
    if value.__class__ is int and value >= 0:
        return value  # the common case, first
    if isinstance(value, str):  # a duration with a unit: 500ms, 2s, 1m (a number: ms)
        from xtape.errors import UsageError
        from xtape.units import parse_duration

        try:
            ms = parse_duration(value, option="") / 1_000_000
        except UsageError:
            raise _fail(
                f"must be a number of milliseconds or a duration with a unit: ms, s, m, h (got {show(value)})"
            ) from None
        return int(ms) if ms.is_integer() else ms
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


def _payload(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        if not value:
            raise _fail("must have at least one field (Redis stream entries cannot be empty)")
        for name in value:
            if name.__class__ is not str and name.__class__ is not bytes:
                return {_field_name(name, (name,)): item for name, item in value.items()}
        return value
    if isinstance(value, list):
        if not value:
            raise _fail("must have at least one field (Redis stream entries cannot be empty)")
        pairs: list[tuple[str | bytes, Any]] = []
        for index, item in enumerate(value):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
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


def _generator(value: Any) -> Any:
    if value is None or value is True or (isinstance(value, str) and value):
        return value
    raise _fail(f"must be true or the name of a generator (got {show(value)})")


def _template(value: Any) -> Any:
    if not isinstance(value, bool):
        raise _fail(f"must be true or false (got {show(value)})")
    return value


def _repeat(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"must be a whole number >= 1 (got {show(value)})")
    if value < 1:
        raise _fail(f"must be >= 1 (got {show(value)})")
    return value


def _entry_id(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _is_id(value):
        raise _fail(f"must be a stream entry id like '1700000000000-0' (got {show(value)})")
    return value


def _one_source(payload: Any, generator: Any, id: Any, repeat: int) -> None:
    if payload is not None and generator is not None:
        raise _fail("has both payload: and generator:; use one of them")
    if payload is None and generator is None:
        raise _fail("needs payload: (the fields to publish) or generator: true")
    if id is not None and repeat > 1:
        raise _fail("id: cannot be combined with repeat > 1 (entry ids must be unique)")


def _generators(value: Any) -> Any:
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


def _encoding(value: Any) -> Any:
    if value == "fields" or isinstance(value, JsonEncoding):
        return value
    if isinstance(value, dict) and set(value) == {"json"}:
        field = value["json"]
        if isinstance(field, str) and field:
            return JsonEncoding(json=field)
        raise _fail(f"must be a field name (got {show(field)})", ("json",))
    raise _fail(f"must be 'fields' or {{json: FIELD}} (got {show(value)})")


def _codec_name(value: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    raise _fail(f"must be a codec name such as faststream, json or raw (got {show(value)})")


def _codecs(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _fail(f"must be a mapping of STREAM_GLOB: CODEC (got {show(value)})")
    for glob, name in value.items():
        if not isinstance(glob, str) or not glob:
            raise _fail(f"must be keyed by stream globs (got {show(glob)})", (glob,))
        if not isinstance(name, str) or not name.strip():
            raise _fail(f"must be a codec name such as faststream, json or raw (got {show(name)})", (glob,))
    return value


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
    #: The codec that encodes this event's payload (wins over the scenario's ``codecs:``;
    #: ``raw``: the payload is fields, as ``encoding`` says).
    codec: str | None = None

    @field_validator("codec", mode="before")
    @classmethod
    def _check_codec(cls, value: Any) -> Any:
        return _codec_name(value)

    @field_validator("payload", mode="before")
    @classmethod
    def _check_payload(cls, value: Any) -> Any:
        return _payload(value)

    @field_validator("generator", mode="before")
    @classmethod
    def _check_generator(cls, value: Any) -> Any:
        return _generator(value)

    @field_validator("template", mode="before")
    @classmethod
    def _check_template(cls, value: Any) -> Any:
        return _template(value)

    @field_validator("delay", "interval", mode="before")
    @classmethod
    def _check_ms(cls, value: Any) -> Any:
        return _milliseconds(value)

    @field_validator("repeat", mode="before")
    @classmethod
    def _check_repeat(cls, value: Any) -> Any:
        return _repeat(value)

    @field_validator("variables", mode="before")
    @classmethod
    def _check_variables(cls, value: Any) -> Any:
        return _variables(value)

    @field_validator("id", mode="before")
    @classmethod
    def _check_id(cls, value: Any) -> Any:
        return _entry_id(value)

    @model_validator(mode="after")
    def _one_source(self) -> EventSpec:
        _one_source(self.payload, self.generator, self.id, self.repeat)
        return self


class Scenario(BaseModel):
    """A scenario file: named, described, a list of events and what they may use."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    generators: dict[str, Any] = Field(default_factory=dict)
    encoding: Encoding = "fields"
    #: Stream glob -> the codec that encodes those events' payloads (docs/codecs.md).
    codecs: dict[str, str] = Field(default_factory=dict)
    events: Sequence[EventSpec] = Field(min_length=1)

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
        return _generators(value)

    @field_validator("encoding", mode="before")
    @classmethod
    def _check_encoding(cls, value: Any) -> Any:
        return _encoding(value)

    @field_validator("codecs", mode="before")
    @classmethod
    def _check_codecs(cls, value: Any) -> Any:
        return _codecs(value)


# --------------------------------------------------------------------------- the light path
#
# Loading a file checks each event with the same rules (and messages) as EventSpec, but
# without building a pydantic model per event: a 200,000-event file would spend seconds
# and hundreds of MB on them. Events are kept as EventRecords; ``Scenario.events`` builds
# an EventSpec only when one is looked at.

#: A problem found while checking: the key path whose line to show, and the message
#: (starting with the key path, as ``events[2].delay: must be >= 0 (got -5)``).
Problem: TypeAlias = tuple[Loc, str]

_MISSING: Any = object()


class EventRecord:
    """One checked ``events:`` entry (the fields of :class:`EventSpec`, nothing else)."""

    __slots__ = (
        "codec", "delay", "generator", "id", "index", "interval", "payload", "repeat", "stream",
        "template", "variables",
    )

    def __init__(
        self,
        stream: str,
        payload: Any,
        generator: bool | str | None,
        delay: float | int,
        repeat: int,
        interval: float | int,
        variables: dict[str, Any],
        id: str | None,
        template: bool,
        index: int,
        codec: str | None = None,
    ) -> None:
        #: The position of the event in the file's ``events:`` list.
        self.index = index
        self.stream = stream
        self.payload = payload
        self.generator = generator
        self.delay = delay
        self.repeat = repeat
        self.interval = interval
        self.variables = variables
        self.id = id
        self.template = template
        self.codec = codec

    @classmethod
    def of(cls, spec: EventSpec, index: int) -> EventRecord:
        return cls(
            spec.stream, spec.payload, spec.generator, spec.delay, spec.repeat,
            spec.interval, spec.variables, spec.id, spec.template, index, spec.codec,
        )

    def spec(self) -> EventSpec:
        return EventSpec.model_construct(
            stream=self.stream, payload=self.payload, generator=self.generator, delay=self.delay,
            repeat=self.repeat, interval=self.interval, variables=dict(self.variables), id=self.id,
            template=self.template, codec=self.codec,
        )


class EventList(Sequence[EventSpec]):
    """``Scenario.events`` of a loaded file: records, each an :class:`EventSpec` on access."""

    __slots__ = ("records",)

    def __init__(self, records: list[EventRecord]) -> None:
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    @overload
    def __getitem__(self, index: int) -> EventSpec: ...
    @overload
    def __getitem__(self, index: slice) -> list[EventSpec]: ...
    def __getitem__(self, index: int | slice) -> EventSpec | list[EventSpec]:
        if isinstance(index, slice):
            return [record.spec() for record in self.records[index]]
        return self.records[index].spec()

    def __iter__(self) -> Iterator[EventSpec]:
        return (record.spec() for record in self.records)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def event_records(scenario: Scenario) -> Sequence[EventRecord]:
    """The events of ``scenario`` as records (no copy for a loaded file)."""
    events = scenario.events
    if isinstance(events, EventList):
        return events.records
    return [EventRecord.of(spec, index) for index, spec in enumerate(events)]


def _problem(error: PydanticCustomError, loc: Loc) -> Problem:
    context = error.context or {}
    at = (*loc, *context.get("subloc", ()))
    return at, _at(at, str(context.get("message", error)))


def _at(loc: Loc, message: str) -> str:
    where = format_loc(loc)
    return f"{where}: {message}" if where else message


def unknown_key(parent: Loc, key: object) -> str:
    """``events[1]: unknown key 'paylod' (did you mean 'payload'?)``."""
    valid: list[str] = []
    if parent == ():
        valid = list(Scenario.model_fields)
    elif len(parent) == 2 and parent[0] == "events":
        valid = list(EventSpec.model_fields)
    elif parent == ("encoding",):
        valid = [field.alias or name for name, field in JsonEncoding.model_fields.items()]
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(str(key), valid, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    elif valid:
        message += f" (valid keys: {', '.join(valid)})"
    return _at(parent, message)


_EVENT_KEYS = frozenset(EventSpec.model_fields)
_NO_VARIABLES: dict[str, Any] = {}


def check_event(value: Any, index: int, problems: list[Problem]) -> EventRecord | None:
    """Event ``index`` as an :class:`EventRecord`, or None with its problems appended."""
    loc: Loc = ("events", index)
    if value.__class__ is not dict:
        problems.append((loc, _at(loc, f"must be a mapping (got {show(value)})")))
        return None
    before = len(problems)
    fields = dict(_EVENT_DEFAULTS)
    for key, raw in value.items():
        check = _EVENT_CHECKS.get(key)
        if check is None:
            if key != "stream":
                problems.append(((*loc, key), unknown_key(loc, key)))
            continue
        try:
            fields[key] = check(raw)
        except PydanticCustomError as error:
            problems.append(_problem(error, (*loc, key)))
    stream = value.get("stream", _MISSING)
    if stream.__class__ is not str or not stream:
        at = (*loc, "stream")
        if stream is _MISSING:
            problems.append((at, _at(loc, "missing required key 'stream'")))
        elif stream.__class__ is not str:
            problems.append((at, _at(at, f"must be a string (got {show(stream)})")))
        else:
            problems.append((at, _at(at, "must not be empty")))
    if len(problems) != before:
        return None
    payload, generator, entry_id, repeat = (
        fields["payload"], fields["generator"], fields["id"], fields["repeat"],
    )
    if payload is None or generator is not None or (entry_id is not None and repeat > 1):
        try:
            _one_source(payload, generator, entry_id, repeat)
        except PydanticCustomError as error:
            problems.append(_problem(error, loc))
            return None
    return EventRecord(
        stream, payload, generator, fields["delay"], repeat, fields["interval"],
        fields["variables"], entry_id, fields["template"], index, fields["codec"],
    )


_EVENT_DEFAULTS: dict[str, Any] = {
    "payload": None,
    "generator": None,
    "delay": 0,
    "repeat": 1,
    "interval": 0,
    "variables": _NO_VARIABLES,
    "id": None,
    "template": True,
    "codec": None,
}
_EVENT_CHECKS: dict[str, Any] = {
    "payload": _payload,
    "generator": _generator,
    "delay": _milliseconds,
    "repeat": _repeat,
    "interval": _milliseconds,
    "variables": lambda value: _variables(value) or _NO_VARIABLES,
    "id": _entry_id,
    "template": _template,
    "codec": _codec_name,
}


def check_document(
    data: Any, default_name: str | None, problems: list[Problem]
) -> Scenario | None:
    """A whole file's data as a :class:`Scenario` (events as records); problems appended.

    Every problem is found, not only the first: a broken event does not hide the next one.
    The Scenario is returned when only events were broken (``None`` events left out), so
    the static check can still look at the rest; None when the file is not a scenario.
    """
    if data is None:
        problems.append(((), "empty scenario: expected a mapping with an events: list"))
        return None
    if data.__class__ is not dict:
        problems.append(((), f"a scenario must be a mapping with an events: list (got {show(data)})"))
        return None
    for key in data:
        if key not in Scenario.model_fields:
            problems.append(((key,), unknown_key((), key)))
    head: dict[str, Any] = {}
    for key in ("name", "description"):
        value = data.get(key, default_name if key == "name" else None)
        if value is not None and value.__class__ is not str:
            problems.append(((key,), _at((key,), f"must be a string (got {show(value)})")))
        else:
            head[key] = value
    for key, check, default in (
        ("variables", _variables, {}),
        ("generators", _generators, {}),
        ("encoding", _encoding, "fields"),
        ("codecs", _codecs, {}),
    ):
        raw = data.get(key, _MISSING)
        if raw is _MISSING:
            head[key] = {} if isinstance(default, dict) else default
            continue
        try:
            head[key] = check(raw)
        except PydanticCustomError as error:
            problems.append(_problem(error, (key,)))
    events = data.get("events", _MISSING)
    records: list[EventRecord] = []
    if events is _MISSING:
        problems.append((("events",), "missing required key 'events'"))
    elif events.__class__ is not list:
        problems.append((("events",), f"events: must be a list (got {show(events)})"))
    elif not events:
        problems.append((("events",), "events: must not be empty"))
    else:
        for index, value in enumerate(events):
            record = check_event(value, index, problems)
            if record is not None:
                records.append(record)
    if len(head) != 6:
        return None
    scenario = Scenario.model_construct(events=EventList(records), **head)
    return scenario
