"""The scenario model: what a scenario file may say, checked by pydantic.

Only the *shape* is checked here (keys, types, ranges). Whether every ``{{variable}}``
is defined and every generator exists is the static check's job (:mod:`.plan`), because
that depends on the ``--variable`` values given on the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any, TypeAlias, overload

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

from xtape.scenario import values
from xtape.scenario.locations import SourceMap
from xtape.scenario.values import Encoding, JsonEncoding
from xtape.yamlfile.check import Loc, format_loc, show
from xtape.yamlfile.check import unknown_key as unknown_key_text

#: The check of a key's value: a function that returns the value (maybe normalised) or
#: raises :func:`values.fail`. Pydantic runs it before its own type check; the light path
#: below runs it alone.
Check = BeforeValidator


class EventSpec(BaseModel):
    """One ``events:`` entry: what to publish on which stream, when, how many times.

    This class is the table of an event's keys: one line per key, its type, its
    :data:`Check` and its default. The light path (:func:`check_event`,
    :class:`EventRecord`) is derived from it, so a new key is one line here
    (docs/architecture.md, "Adding a scenario key").
    """

    model_config = ConfigDict(extra="forbid")

    stream: Annotated[str, Check(values.stream)]
    payload: Annotated[Any, Check(values.payload)] = None
    generator: Annotated[bool | str | None, Check(values.generator)] = None
    delay: Annotated[float | int, Check(values.milliseconds)] = 0
    repeat: Annotated[int, Check(values.repeat)] = 1
    interval: Annotated[float | int, Check(values.milliseconds)] = 0
    variables: Annotated[dict[str, Any], Check(values.variables)] = Field(default_factory=dict)
    id: Annotated[str | None, Check(values.entry_id)] = None
    #: ``template: false`` publishes the payload exactly as written (no ``{{...}}``).
    template: Annotated[bool, Check(values.template)] = True
    #: The codec that encodes this event's payload (wins over the scenario's ``codecs:``;
    #: ``raw``: the payload is fields, as ``encoding`` says).
    codec: Annotated[str | None, Check(values.codec_name)] = None

    @model_validator(mode="after")
    def _one_source(self) -> EventSpec:
        values.one_source(self.payload, self.generator, self.id, self.repeat)
        return self


class Scenario(BaseModel):
    """A scenario file: named, described, a list of events and what they may use.

    Like :class:`EventSpec`, the table of the file's top-level keys: :func:`check_document`
    is derived from it.
    """

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str | None, Check(values.text)] = None
    description: Annotated[str | None, Check(values.text)] = None
    variables: Annotated[dict[str, Any], Check(values.variables)] = Field(default_factory=dict)
    generators: Annotated[dict[str, Any], Check(values.generators)] = Field(default_factory=dict)
    encoding: Annotated[Encoding, Check(values.encoding)] = "fields"
    #: Stream glob -> the codec that encodes those events' payloads (docs/codecs.md).
    codecs: Annotated[dict[str, str], Check(values.codecs)] = Field(default_factory=dict)
    events: Sequence[EventSpec] = Field(min_length=1)

    _source: SourceMap | None = PrivateAttr(default=None)

    @property
    def source(self) -> SourceMap | None:
        """The file this scenario was loaded from (with its lines), if any."""
        return self._source


def checks(model: type[BaseModel]) -> dict[str, Callable[[Any], Any]]:
    """Each key of ``model`` that has a :data:`Check`, and that check."""
    found: dict[str, Callable[[Any], Any]] = {}
    for name, info in model.model_fields.items():
        for meta in info.metadata:
            if isinstance(meta, BeforeValidator):
                found[name] = meta.func  # type: ignore[assignment]
    return found


def defaults(model: type[BaseModel]) -> dict[str, Any]:
    """Each optional key of ``model`` and its default (one shared value per key)."""
    return {
        name: info.get_default(call_default_factory=True)
        for name, info in model.model_fields.items()
        if not info.is_required()
    }


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


#: The keys of an event, in the order of :class:`EventSpec`.
EVENT_KEYS: tuple[str, ...] = tuple(EventSpec.model_fields)


class EventRecord:
    """One checked ``events:`` entry: the keys of :class:`EventSpec` (its slots are
    derived from it), and ``index``, the event's position in the file's ``events:``."""

    __slots__ = ("index", *EVENT_KEYS)

    # The types of the keys, for type checkers (test_scenario_schema.py holds them to
    # EventSpec's keys).
    index: int
    stream: str
    payload: Any
    generator: bool | str | None
    delay: float | int
    repeat: int
    interval: float | int
    variables: dict[str, Any]
    id: str | None
    template: bool
    codec: str | None

    def __init__(self, index: int, fields: dict[str, Any]) -> None:
        self.index = index
        for name, value in fields.items():
            setattr(self, name, value)

    @classmethod
    def of(cls, spec: EventSpec, index: int) -> EventRecord:
        return cls(index, {name: getattr(spec, name) for name in EVENT_KEYS})

    def spec(self) -> EventSpec:
        fields = {name: getattr(self, name) for name in EVENT_KEYS}
        fields["variables"] = dict(self.variables)
        return EventSpec.model_construct(**fields)


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
    return _at(parent, unknown_key_text(key, valid))


_EVENT_CHECKS = checks(EventSpec)
_EVENT_DEFAULTS = defaults(EventSpec)
_EVENT_REQUIRED = tuple(name for name in EVENT_KEYS if name not in _EVENT_DEFAULTS)
_OPTIONAL_CHECKS = {name: check for name, check in _EVENT_CHECKS.items() if name in _EVENT_DEFAULTS}


def check_event(value: Any, index: int, problems: list[Problem]) -> EventRecord | None:
    """Event ``index`` as an :class:`EventRecord`, or None with its problems appended."""
    loc: Loc = ("events", index)
    if value.__class__ is not dict:
        problems.append((loc, _at(loc, f"must be a mapping (got {show(value)})")))
        return None
    before = len(problems)
    fields = dict(_EVENT_DEFAULTS)
    for key, raw in value.items():
        check = _OPTIONAL_CHECKS.get(key)
        if check is None:
            if key not in _EVENT_REQUIRED:
                problems.append(((*loc, key), unknown_key(loc, key)))
            continue
        try:
            fields[key] = check(raw)
        except PydanticCustomError as error:
            problems.append(_problem(error, (*loc, key)))
    for key in _EVENT_REQUIRED:  # after the problems of the other keys
        raw = value.get(key, _MISSING)
        if raw is _MISSING:
            problems.append(((*loc, key), _at(loc, f"missing required key {key!r}")))
            continue
        try:
            fields[key] = _EVENT_CHECKS[key](raw)
        except PydanticCustomError as error:
            problems.append(_problem(error, (*loc, key)))
    if len(problems) != before:
        return None
    payload, generator, entry_id, repeat = fields["payload"], fields["generator"], fields["id"], fields["repeat"]
    if payload is None or generator is not None or (entry_id is not None and repeat > 1):
        try:
            values.one_source(payload, generator, entry_id, repeat)
        except PydanticCustomError as error:
            problems.append(_problem(error, loc))
            return None
    return EventRecord(index, fields)


_HEAD_CHECKS = {name: check for name, check in checks(Scenario).items() if name != "events"}
_HEAD_DEFAULTS = defaults(Scenario)


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
    for key, check in _HEAD_CHECKS.items():
        raw = data.get(key, _MISSING)
        if raw is _MISSING:
            raw = default_name if key == "name" else _HEAD_DEFAULTS[key]
            if raw.__class__ is dict:
                raw = {}  # each scenario its own
        try:
            head[key] = check(raw)
        except PydanticCustomError as error:
            problems.append(_problem(error, (key,)))
    records = _check_events(data, problems)
    if len(head) != len(_HEAD_CHECKS):
        return None
    return Scenario.model_construct(events=EventList(records), **head)


def _check_events(data: dict[Any, Any], problems: list[Problem]) -> list[EventRecord]:
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
    return records
