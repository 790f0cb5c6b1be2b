"""Scenario events checked against a catalog, before anything is published.

Every event is rendered as one pass under the run's seed would publish it (constant
payloads once, templated and generated ones for each repeat) and its fields, the bytes
that would go on the wire, are checked like a recorded entry. Generators are also tried
with other seeds (:data:`PROBES` of them, on a fresh copy): a generator that *can* make
an invalid value is reported with a seed that makes it, as
``file:line: events[3].payload.leverage: expected integer, got "x" (generator
'order.request'; --seed 17 makes it)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from xtape.catalog.schema import Problem, StreamSchema, format_problem
from xtape.codecs import CodecFailed, get_codec
from xtape.errors import CatalogMismatch, InputError, RenderError
from xtape.scenario.context import RenderContext
from xtape.scenario.encoding import EncodingFailed, encode_payload
from xtape.scenario.locations import located_errors
from xtape.scenario.plan import EventPlan, Plan
from xtape.scenario.render import event_fields, event_rng, wall_clock_schedule
from xtape.scenario.template import constant_value
from xtape.timeline import flat_fields, pair_fields
from xtape.yamlfile.check import Loc, format_loc


class Catalog(Protocol):
    """What these checks need of a :class:`xtape.catalog.catalog.Catalog` (which calls
    them): the schema that covers a stream, and what to say of one it does not know."""

    def lookup(self, stream: str | bytes) -> StreamSchema | None: ...

    def unknown_stream(self, stream: str | bytes) -> str: ...

#: How many other seeds each generator is tried with.
PROBES = 200

Found = tuple[Loc, str, type[InputError]]


def check_plan(catalog: Catalog, plan: Plan, *, seed: int, run_code: bool, probes: int = PROBES) -> list[InputError]:
    """Every problem of ``plan``'s events against ``catalog``, located, in file order.

    ``run_code=False`` (validating) leaves out events made by python generators, which
    are not imported then.
    """
    found: list[Found] = []
    schedule = wall_clock_schedule()
    state: dict[int, Any] = {}
    probed: set[int] = set()
    for event in plan.events:
        loc: Loc = ("events", event.index)
        spec = catalog.lookup(event.stream_bytes)
        if spec is None:
            at = (*loc, "stream")
            found.append((at, f"{format_loc(at)}: {catalog.unknown_stream(event.stream)}", CatalogMismatch))
            continue
        if spec.kind == "none":
            continue
        if event.node.constant:
            try:
                fields = encode_payload(constant_value(event.node), plan.encoding, event.codec)
            except EncodingFailed:
                continue  # reported by the static check
            found += _located(plan, event, payload_problems(spec, event, flat_fields(fields)), "")
            continue
        bad = _first_bad(plan, event, spec, seed, schedule, state, event.repeat)
        if bad is not None:
            index, problems = bad
            note = f" (when index is {index})" if index and event.generator is None else ""
            if event.generator is not None:
                note = f" (generator {event.generator!r}; --seed {seed} makes it)"
            found += _located(plan, event, problems, note)
            continue
        if event.generator is not None and probes and id(event.node) not in probed:
            probed.add(id(event.node))
            for other in range(1, probes + 1):
                if other == seed:
                    continue
                bad = _first_bad(plan, event, spec, other, schedule, {}, 1)
                if bad is not None:
                    note = f" (generator {event.generator!r} can make it; --seed {other} does)"
                    found += _located(plan, event, bad[1], note)
                    break
    return located_errors(plan.source, found)


def _first_bad(
    plan: Plan,
    event: EventPlan,
    spec: StreamSchema,
    seed: int,
    schedule: Any,
    state: dict[int, Any],
    repeats: int,
) -> tuple[int, Sequence[Problem]] | None:
    """The first of ``repeats`` publishes of ``event`` that ``spec`` refuses, and why."""
    rng = event_rng(seed, 0, event)
    for index in range(repeats):
        ctx = RenderContext(
            rng=rng,
            index=index,
            iteration=0,
            variables=event.variables,
            stream=event.stream,
            event=event.index,
            state=state,
            schedule=schedule,
            seq=0,
            offset_ns=0,
        )
        try:
            fields = event_fields(plan, event, ctx)
        except RenderError:
            return None  # a python generator while validating, or a problem reported elsewhere
        problems = payload_problems(spec, event, flat_fields(fields))
        if problems:
            return index, problems
    return None


def payload_problems(spec: StreamSchema, event: EventPlan, flat: Sequence[bytes]) -> Sequence[Problem]:
    """The problems of one publish: of its fields, or of its decoded body when the event
    or the catalog names a codec (paths then under ``body`` for a codec with headers)."""
    codec = event.codec
    if codec is None and spec.codec not in (None, "raw", "none"):
        codec = get_codec(str(spec.codec))
    if codec is None:
        return spec.check(flat)
    try:
        body = codec.decode(pair_fields(flat)).body
    except CodecFailed as error:
        return (((), f"not a {codec.name} payload ({error})"),)
    prefix: tuple[object, ...] = ("body",) if codec.has_headers else ()
    return [((*prefix, *path), message) for path, message in spec.check_value(body)]


def _located(plan: Plan, event: EventPlan, problems: Sequence[Problem], note: str) -> list[Found]:
    out: list[Found] = []
    for path, message in problems:
        at: Loc = ("events", event.index, "payload", *path)
        line_at: Loc = at
        if event.generator is not None:
            in_file = _defined_in_file(plan, event.generator)
            line_at = ("generators", event.generator, *path) if in_file else ("events", event.index, "generator")
        out.append((line_at, f"{format_loc(at)}: {message}{note}", CatalogMismatch))
    return out


def _defined_in_file(plan: Plan, name: str) -> bool:
    """Whether the scenario file defines generator ``name`` (not a built-in one)."""
    source = plan.source
    if source is None:
        return False
    source.prefetch([("generators", name)])
    return ("generators", name) in source.lines


def check_event(
    catalog: Catalog, plan: Plan, event: EventPlan, flat: Sequence[bytes], *, iteration: int
) -> InputError | None:
    """The problem of one rendered publish of ``event`` (None if valid): a replay's
    last check before the event is handed to the publisher."""
    spec = catalog.lookup(event.stream_bytes)
    if spec is None:
        at: Loc = ("events", event.index, "stream")
        return located_errors(
            plan.source, [(at, f"{format_loc(at)}: {catalog.unknown_stream(event.stream)}", CatalogMismatch)]
        )[0]
    problems = payload_problems(spec, event, flat)
    if not problems:
        return None
    note = f" (pass {iteration + 1})" if iteration else ""
    errors = located_errors(plan.source, _located(plan, event, problems[:1], note))
    return errors[0]


def describe(problems: Sequence[Problem]) -> str:
    """Problems of one entry on one line: ``price: expected number, got "x"; ...``."""
    return "; ".join(format_problem(path, message) for path, message in problems)
