"""The scenario model: what a scenario file may say, one table of keys.

Only the *shape* is checked here (keys, types, ranges). Whether every ``{{variable}}``
is defined and every generator exists is the static check's job (:mod:`.plan`), because
that depends on the ``--variable`` values given on the command line.

:data:`~.keys.EVENT_TABLE` and :data:`~.keys.HEAD_TABLE` name every key of an event and of a file,
its check (a function of :mod:`.values`) and its default. Loading a file checks with
them here, without pydantic (:func:`check_document`: a quicker start, and no model per
event of a 200,000-event file); the pydantic models of :mod:`.spec` (``EventSpec``,
what Python code builds with :meth:`Scenario.model_validate`) are built from the same
tables, so both accept the same keys and say the same about a bad value.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, overload

from xtape.scenario import values
from xtape.scenario.keys import EVENT_TABLE, HEAD_TABLE, Check, Key
from xtape.scenario.locations import SourceMap
from xtape.scenario.values import Encoding, Invalid, JsonEncoding
from xtape.yamlfile.check import Loc, format_loc, show
from xtape.yamlfile.check import unknown_key as unknown_key_text

if TYPE_CHECKING:
    from xtape.scenario.spec import EventSpec

def checks(model: Any) -> dict[str, Check]:
    """Each key of ``model`` (a class with a table of keys, ``KEYS``) that has a check, and that check."""
    return _checks(model.KEYS)


def _checks(table: dict[str, Key]) -> dict[str, Check]:
    return {name: key.check for name, key in table.items() if key.check is not None}


def _defaults(table: dict[str, Key]) -> dict[str, Any]:
    """Each optional key of ``table`` and its default (one shared value per key)."""
    return {name: key.make_default() for name, key in table.items() if not key.required}


#: The keys of an event, in the order of :data:`EVENT_TABLE`.
EVENT_KEYS: tuple[str, ...] = tuple(EVENT_TABLE)

#: The top-level keys but ``events``.
_HEAD_KEYS: tuple[str, ...] = tuple(name for name in HEAD_TABLE if name != "events")


class Scenario:
    """A scenario: named, described, a list of events and what they may use.

    What :func:`~xtape.scenario.load_scenario` returns (checked by the light path, no
    pydantic), or :meth:`model_validate` from Python data (checked by the pydantic model
    of :mod:`.spec`, raising its ``ValidationError``). ``events`` shows each event as
    an :class:`~xtape.scenario.EventSpec`; the code that renders reads the records.
    """

    KEYS = HEAD_TABLE

    __slots__ = ("codecs", "description", "encoding", "events", "generators", "name", "source", "variables")

    name: str | None
    description: str | None
    variables: dict[str, Any]
    generators: dict[str, Any]
    encoding: Encoding
    codecs: dict[str, str]
    events: EventList
    #: The file this scenario was loaded from (with its lines), if any.
    source: SourceMap | None

    def __init__(self, **data: Any) -> None:
        """Check ``data`` as :meth:`model_validate` does."""
        checked = Scenario.model_validate(data)
        for name in self.__slots__:
            setattr(self, name, getattr(checked, name))

    @classmethod
    def model_validate(cls, data: Any) -> Scenario:
        """A scenario from Python data (a file's mapping), checked by the pydantic model."""
        from xtape.scenario.spec import ScenarioModel

        model = ScenarioModel.model_validate(data)
        records = [EventRecord.of(spec, index) for index, spec in enumerate(model.events)]
        return cls.of({name: getattr(model, name) for name in _HEAD_KEYS}, records)

    @classmethod
    def of(cls, head: dict[str, Any], records: list[EventRecord], source: SourceMap | None = None) -> Scenario:
        """A scenario of values already checked (``head``: each top-level key but events)."""
        scenario = cls.__new__(cls)
        for name in _HEAD_KEYS:
            setattr(scenario, name, head[name])
        scenario.events = EventList(records)
        scenario.source = source
        return scenario

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in (*_HEAD_KEYS, "events"))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Scenario(name={self.name!r}, events={len(self.events)})"


# --------------------------------------------------------------------------- the light path
#
# Loading a file checks each event with the same rules (and messages) as EventSpec, but
# without pydantic: a 200,000-event file would spend seconds and hundreds of MB on a
# model per event, and importing pydantic alone delays every start. Events are kept as
# EventRecords; ``Scenario.events`` builds an EventSpec only when one is looked at.

#: A problem found while checking: the key path whose line to show, and the message
#: (starting with the key path, as ``events[2].delay: must be >= 0 (got -5)``).
Problem: TypeAlias = tuple[Loc, str]

_MISSING: Any = object()


class EventRecord:
    """One checked ``events:`` entry: the keys of :class:`EventSpec` (its slots are
    derived from it), and ``index``, the event's position in the file's ``events:``."""

    __slots__ = ("index", *EVENT_KEYS)

    # The types of the keys, for type checkers (test_scenario_schema.py holds them to
    # EVENT_TABLE's keys).
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
    def of(cls, spec: EventSpec | EventRecord, index: int) -> EventRecord:
        return cls(index, {name: getattr(spec, name) for name in EVENT_KEYS})

    def spec(self) -> EventSpec:
        """This event as a pydantic :class:`~xtape.scenario.EventSpec` (imports pydantic)."""
        from xtape.scenario.spec import EventSpec

        fields = {name: getattr(self, name) for name in EVENT_KEYS}
        fields["variables"] = dict(self.variables)
        return EventSpec.model_construct(**fields)


class EventList(Sequence["EventSpec"]):
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
    """The events of ``scenario`` as records (no copy)."""
    return scenario.events.records


def _problem(error: Invalid, loc: Loc) -> Problem:
    at = (*loc, *error.subloc)
    return at, _at(at, error.message)


def _at(loc: Loc, message: str) -> str:
    where = format_loc(loc)
    return f"{where}: {message}" if where else message


def unknown_key(parent: Loc, key: object) -> str:
    """``events[1]: unknown key 'paylod' (did you mean 'payload'?)``."""
    valid: list[str] = []
    if parent == ():
        valid = list(HEAD_TABLE)
    elif len(parent) == 2 and parent[0] == "events":
        valid = list(EVENT_TABLE)
    elif parent == ("encoding",):
        valid = list(JsonEncoding.KEYS)
    return _at(parent, unknown_key_text(key, valid))


_EVENT_CHECKS = _checks(EVENT_TABLE)
_EVENT_DEFAULTS = _defaults(EVENT_TABLE)
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
        except Invalid as error:
            problems.append(_problem(error, (*loc, key)))
    for key in _EVENT_REQUIRED:  # after the problems of the other keys
        raw = value.get(key, _MISSING)
        if raw is _MISSING:
            problems.append(((*loc, key), _at(loc, f"missing required key {key!r}")))
            continue
        try:
            fields[key] = _EVENT_CHECKS[key](raw)
        except Invalid as error:
            problems.append(_problem(error, (*loc, key)))
    if len(problems) != before:
        return None
    payload, generator, entry_id, repeat = fields["payload"], fields["generator"], fields["id"], fields["repeat"]
    if payload is None or generator is not None or (entry_id is not None and repeat > 1):
        try:
            values.one_source(payload, generator, entry_id, repeat)
        except Invalid as error:
            problems.append(_problem(error, loc))
            return None
    return EventRecord(index, fields)


_HEAD_CHECKS = _checks(HEAD_TABLE)
_HEAD_DEFAULTS = _defaults(HEAD_TABLE)


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
        if key not in HEAD_TABLE:
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
        except Invalid as error:
            problems.append(_problem(error, (key,)))
    records = _check_events(data, problems)
    if len(head) != len(_HEAD_CHECKS):
        return None
    return Scenario.of(head, records)


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
