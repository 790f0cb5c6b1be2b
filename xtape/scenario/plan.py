"""The static check: a scenario compiled into a plan, every name resolved before publishing.

:func:`compile_scenario` precompiles each event's payload (or finds its generator), merges
its variables (``--variable`` over event over scenario) and checks that every
``{{name}}`` is defined. Rendering then only evaluates; :func:`check_scenario` is the
same work with the result thrown away.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from xtape.codecs import Codec, get_codec
from xtape.errors import InputError, RenderError, ScenarioError, UnknownVariable, UsageError
from xtape.scenario.context import BUILTINS
from xtape.scenario.encoding import EncodingFailed, encode_payload, payload_to_fields
from xtape.scenario.fixtures import builtin_generators
from xtape.scenario.generators import compile_generator
from xtape.scenario.locations import SourceMap, located_errors, raise_errors
from xtape.scenario.model import Scenario, event_records
from xtape.scenario.template import Const, Node, Use, compile_payload, constant_value, has_braces
from xtape.scenario.values import Encoding
from xtape.timeline import NS_PER_MS
from xtape.yamlfile.check import Loc, format_loc


@dataclass(frozen=True, slots=True)
class EventPlan:
    """One ``events:`` entry, ready to render."""

    index: int
    stream: str
    stream_bytes: bytes
    delay_ns: int
    interval_ns: int
    repeat: int
    id: bytes | None
    variables: Mapping[str, Any] = field(repr=False)
    node: Node = field(repr=False)
    #: The generator's name for a ``generator:`` event (random values), else None.
    generator: str | None = None
    #: The codec that encodes the payload (``codecs:`` / ``codec:``), else None.
    codec: Codec | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked scenario: its events compiled, its encoding and where it came from."""

    name: str
    events: tuple[EventPlan, ...]
    encoding: Encoding
    source: SourceMap | None
    #: The variables the scenario uses (``{{name}}``) or defines, built-ins left out.
    names: frozenset[str] = frozenset()

    @property
    def count(self) -> int:
        """Entries published per pass."""
        return sum(event.repeat for event in self.events)


def compile_scenario(
    scenario: Scenario, variables: Mapping[str, str] | None = None, *, run_code: bool = True
) -> Plan:
    """Compile and check ``scenario`` with the ``--variable`` values given.

    Raises :class:`RenderError` for an undefined variable, a missing generator or a python
    generator that cannot be imported, :class:`ScenarioError` for a malformed generator
    spec, :class:`UnknownVariable` for a ``--variable`` the scenario neither uses nor
    defines, and :class:`ScenarioInvalid` (holding each) when there are several; nothing
    is rendered. ``run_code=False`` checks ``{python: ...}`` generators without importing
    them (their module must exist; nothing in it runs).
    """
    plan, errors = compile_all(scenario, variables, run_code=run_code)
    raise_errors(errors)
    return plan


def check_scenario(scenario: Scenario, variables: Mapping[str, str] | None = None) -> None:
    """Raise if ``scenario`` cannot be rendered with these ``--variable`` values.

    Finds undefined variables, missing generators, unknown ``--variable`` names and python
    generators whose module does not exist, before anything is published. Runs no code
    of the scenario's (python generators are located, not imported).
    """
    compile_scenario(scenario, variables, run_code=False)


def scenario_problems(
    scenario: Scenario, variables: Mapping[str, str] | None = None
) -> list[InputError]:
    """Every problem :func:`check_scenario` would raise, in file order (runs no code)."""
    return compile_all(scenario, variables, run_code=False)[1]


Found: TypeAlias = tuple[Loc, str, type[InputError]]


def compile_all(
    scenario: Scenario, variables: Mapping[str, str] | None, *, run_code: bool
) -> tuple[Plan, list[InputError]]:
    """The plan (of the events that compiled) and every problem found, none raised."""
    try:
        return _compile_all(scenario, variables, run_code=run_code)
    except RecursionError:  # a payload nested too deeply for the compiler (JSON only)
        where = scenario.source.path if scenario.source is not None else None
        error = ScenarioError(where, None, "a payload or generator is nested too deeply")
        return Plan(scenario.name or "scenario", (), scenario.encoding, scenario.source), [error]


def _compile_generators(
    scenario: Scenario, run_code: bool, errors: list[InputError], used: set[str]
) -> tuple[dict[str, tuple[Node, list[Use]]], set[str]]:
    """The scenario's named generators compiled (each with the variables it uses, added to
    ``used``) and the names of those that failed (their errors added to ``errors``)."""
    generators: dict[str, tuple[Node, list[Use]]] = {}
    broken: set[str] = set()
    for name, spec in scenario.generators.items():
        uses: list[Use] = []
        try:
            node = compile_generator(
                spec, ("generators", name), uses, scenario.source, run_code=run_code
            )
        except InputError as error:
            errors.append(error)
            broken.add(name)
            continue
        generators[name] = (node, uses)
        used.update(use.name for use in uses)
    return generators, broken


def _compile_all(
    scenario: Scenario, variables: Mapping[str, str] | None, *, run_code: bool
) -> tuple[Plan, list[InputError]]:
    source = scenario.source
    cli = dict(variables or {})
    errors: list[InputError] = []
    problems: list[Found] = []
    used: set[str] = set()
    generators, broken = _compile_generators(scenario, run_code, errors, used)

    encoding = scenario.encoding
    shared = {**scenario.variables, **cli}
    defined = set(scenario.variables)
    streams: dict[str, bytes] = {}
    events: list[EventPlan] = []
    no_uses: list[Use] = []
    for record in event_records(scenario):
        merged = shared
        if record.variables:
            merged = {**scenario.variables, **record.variables, **cli}
            defined.update(record.variables)
        payload = record.payload
        generator: str | None = None
        node: Node
        uses: list[Use]
        if payload is not None and (not record.template or not has_braces(payload)):
            node = Const(payload)  # the common case: published as written
            uses = no_uses
        elif payload is not None:
            uses = []
            loc: Loc = ("events", record.index)
            node = compile_payload(payload, (*loc, "payload"), uses, template=record.template)
        else:
            loc = ("events", record.index)
            found = _find_generator(scenario, record.generator, record.stream, generators, broken, loc)
            if isinstance(found, tuple):
                node, uses = found
                generator = record.stream if record.generator is True else str(record.generator)
            else:
                if found:
                    problems.append(((*loc, "generator"), found, RenderError))
                continue
        for use in uses:
            used.add(use.name)
            if use.name not in BUILTINS and use.name not in merged:
                problems.append(_undefined(("events", record.index), use))
        codec: Codec | None = None
        spec_name = record.codec or _scenario_codec(scenario.codecs, record.stream)
        if spec_name is not None and spec_name not in ("raw", "none"):
            try:
                codec = get_codec(spec_name)
            except UsageError as error:
                bad: Loc = ("events", record.index, "codec") if record.codec else ("codecs",)
                problems.append((bad, f"{format_loc(bad)}: {error}", ScenarioError))
                continue
        if node.constant:
            failed = _encoding_problem(constant_value(node), encoding, codec)
            if failed:
                at: Loc = ("events", record.index, "payload")
                problems.append((at, f"{format_loc(at)}: {failed}", ScenarioError))
        stream_bytes = streams.get(record.stream)
        if stream_bytes is None:
            stream_bytes = streams[record.stream] = record.stream.encode("utf-8")
        delay, interval = record.delay, record.interval
        events.append(
            EventPlan(
                record.index,
                record.stream,
                stream_bytes,
                delay * NS_PER_MS if delay.__class__ is int else round(delay * NS_PER_MS),
                interval * NS_PER_MS if interval.__class__ is int else round(interval * NS_PER_MS),
                record.repeat,
                record.id.encode("ascii") if record.id is not None else None,
                merged,
                node,
                generator,
                codec,
            )
        )
    names = frozenset((defined | used) - BUILTINS)
    where = source.path if source is not None else (scenario.name or "scenario")
    errors.extend(unknown_variables(cli, names, where))
    errors.extend(located_errors(source, problems))
    plan = Plan(scenario.name or "scenario", tuple(events), encoding, source, names)
    return plan, errors


_SIMPLE = frozenset({str, bytes, int, float, bool, type(None)})


def unknown_variables(
    variables: Mapping[str, str], names: frozenset[str] | set[str], where: str | None
) -> list[UnknownVariable]:
    """The ``--variable`` names not among ``names`` (what the scenario, or several
    scenarios together when ``where`` is None, use or define), each with a suggestion."""
    known = sorted(names)
    return [UnknownVariable(name, where, known) for name in variables if name not in names]


def _scenario_codec(codecs: Mapping[str, str], stream: str) -> str | None:
    """The codec the scenario's ``codecs:`` gives ``stream`` (the first glob that matches)."""
    for glob, name in codecs.items():
        if fnmatch.fnmatchcase(stream, glob):
            return name
    return None


def _encoding_problem(payload: Any, encoding: Encoding, codec: Codec | None = None) -> str:
    """Why a constant payload cannot be published under ``encoding`` ("" if it can)."""
    if codec is not None:
        try:
            encode_payload(payload, encoding, codec)
        except EncodingFailed as error:
            return str(error)
        return ""
    if encoding == "fields" and payload.__class__ is dict:
        for value in payload.values():
            if value.__class__ not in _SIMPLE:
                break
        else:
            return ""  # each value encodes on its own: nothing can fail
    try:
        payload_to_fields(payload, encoding)
    except EncodingFailed as error:
        return str(error)
    return ""


def _find_generator(
    scenario: Scenario,
    wanted: bool | str | None,
    stream: str,
    compiled: dict[str, tuple[Node, list[Use]]],
    broken: set[str],
    loc: Loc,
) -> tuple[Node, list[Use]] | str:
    """The generator, or why there is none ("" when it is broken and reported already)."""
    name = stream if wanted is True else str(wanted)
    if name in compiled:
        return compiled[name]
    if name in broken:
        return ""
    builtin = builtin_generators().get(name)
    if builtin is not None:
        return builtin, []
    known = sorted({*compiled, *broken, *builtin_generators()})
    where = format_loc((*loc, "generator"))
    if wanted is True:
        return (
            f"{where}: no generator for stream {stream!r}: add one under generators: keyed by "
            f"the stream name (generators: {{{stream}: {{field: value}}}}) or give the event a "
            f"payload: (generators available: {', '.join(known)})"
        )
    return (
        f"{where}: no generator named {name!r}: define it under generators: "
        f"(generators available: {', '.join(known)})"
    )


def _undefined(event: Loc, use: Use) -> Found:
    """Names the variable and the event; the line is where the placeholder is written."""
    what = format_loc(event)
    if use.loc[: len(event)] != event:  # in a generator: say which event uses it
        what += f" (via {format_loc(use.loc)})"
    return (
        use.loc,
        f"{what}: undefined variable {use.name!r} "
        f"(define it under variables: or pass --variable {use.name}=...)",
        RenderError,
    )
