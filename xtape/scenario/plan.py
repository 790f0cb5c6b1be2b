"""The static check: a scenario compiled into a plan, every name resolved before publishing.

:func:`compile_scenario` precompiles each event's payload (or finds its generator), merges
its variables (``--variable`` over event over scenario) and checks that every
``{{name}}`` is defined. Rendering then only evaluates; :func:`check_scenario` is the
same work with the result thrown away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xtape.errors import RenderError
from xtape.scenario.context import BUILTINS
from xtape.scenario.encoding import EncodingFailed, payload_to_fields
from xtape.scenario.fixtures import builtin_generators
from xtape.scenario.generators import compile_generator
from xtape.scenario.locations import (
    Loc,
    SourceMap,
    format_loc,
    render_error,
    scenario_error,
    where,
)
from xtape.scenario.model import Encoding, Scenario
from xtape.scenario.template import Node, Use, compile_payload, constant_value
from xtape.timeline import NS_PER_MS, Fields


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
    #: The fields, when they are the same for every publish (no templates, no generator).
    constant_fields: Fields | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked scenario: its events compiled, its encoding and where it came from."""

    name: str
    events: tuple[EventPlan, ...]
    encoding: Encoding
    source: SourceMap | None

    @property
    def count(self) -> int:
        """Entries published per pass."""
        return sum(event.repeat for event in self.events)


def compile_scenario(scenario: Scenario, variables: Mapping[str, str] | None = None) -> Plan:
    """Compile and check ``scenario`` with the ``--variable`` values given.

    Raises :class:`RenderError` for an undefined variable, a missing generator or a python
    generator that cannot be imported, and :class:`ScenarioError` for a malformed
    generator spec; nothing is rendered.
    """
    source = scenario.source
    cli = dict(variables or {})
    generators: dict[str, tuple[Node, list[Use]]] = {}
    for name, spec in scenario.generators.items():
        uses: list[Use] = []
        generators[name] = (compile_generator(spec, ("generators", name), uses, source), uses)

    events: list[EventPlan] = []
    for index, spec in enumerate(scenario.events):
        loc: Loc = ("events", index)
        merged = {**scenario.variables, **spec.variables, **cli}
        if spec.payload is not None:
            uses = []
            node = compile_payload(spec.payload, (*loc, "payload"), uses, template=spec.template)
        else:
            node, uses = _find_generator(scenario, spec.generator, spec.stream, generators, loc)
        for use in uses:
            if use.name not in BUILTINS and use.name not in merged:
                raise _undefined(source, loc, use)
        constant_fields = None
        if node.constant:
            constant_fields = _fields(constant_value(node), scenario.encoding, source, loc)
        events.append(
            EventPlan(
                index=index,
                stream=spec.stream,
                stream_bytes=spec.stream.encode("utf-8"),
                delay_ns=round(spec.delay * NS_PER_MS),
                interval_ns=round(spec.interval * NS_PER_MS),
                repeat=spec.repeat,
                id=spec.id.encode("ascii") if spec.id is not None else None,
                variables=merged,
                node=node,
                constant_fields=constant_fields,
            )
        )
    return Plan(scenario.name or "scenario", tuple(events), scenario.encoding, source)


def check_scenario(scenario: Scenario, variables: Mapping[str, str] | None = None) -> None:
    """Raise if ``scenario`` cannot be rendered with these ``--variable`` values.

    Finds undefined variables, missing generators and unimportable python generators
    before anything is published.
    """
    compile_scenario(scenario, variables)


def _find_generator(
    scenario: Scenario,
    wanted: bool | str | None,
    stream: str,
    compiled: dict[str, tuple[Node, list[Use]]],
    loc: Loc,
) -> tuple[Node, list[Use]]:
    name = stream if wanted is True else str(wanted)
    if name in compiled:
        return compiled[name]
    builtin = builtin_generators().get(name)
    if builtin is not None:
        return builtin, []
    known = sorted({*compiled, *builtin_generators()})
    if wanted is True:
        message = (
            f"no generator for stream {stream!r}: add one under generators: keyed by the "
            f"stream name (generators: {{{stream}: {{field: value}}}}) or give the event a "
            f"payload: (generators available: {', '.join(known)})"
        )
    else:
        message = (
            f"no generator named {name!r}: define it under generators: "
            f"(generators available: {', '.join(known)})"
        )
    raise render_error(scenario.source, (*loc, "generator"), message)


def _undefined(source: SourceMap | None, event: Loc, use: Use) -> RenderError:
    """Names the variable and the event; the line is where the placeholder is written."""
    what = format_loc(event)
    if use.loc[: len(event)] != event:  # in a generator: say which event uses it
        what += f" (via {format_loc(use.loc)})"
    return RenderError(
        f"{where(source, use.loc)}{what}: undefined variable {use.name!r} "
        f"(define it under variables: or pass --variable {use.name}=...)"
    )


def _fields(payload: Any, encoding: Encoding, source: SourceMap | None, loc: Loc) -> Fields:
    try:
        return payload_to_fields(payload, encoding)
    except EncodingFailed as error:
        raise scenario_error(source, (*loc, "payload"), str(error)) from None
