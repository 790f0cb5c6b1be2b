"""Rendering: a checked scenario -> a timeline of :class:`~xtape.timeline.Event`.

Timing is sequential, as in the seed: the first publish of event *k* comes ``delay`` ms
after the last publish of event *k-1* (after time 0 for the first event), and its
repeats follow ``interval`` ms apart. Randomness comes from ``random.Random`` seeded by
``(seed, iteration, event position)``: the same ``--seed`` renders the same timeline,
and editing one event does not change the random values of the others.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from xtape.errors import InputError
from xtape.scenario.context import RenderContext
from xtape.scenario.encoding import EncodingFailed, encode_payload
from xtape.scenario.generators import GeneratorFailed
from xtape.scenario.loader import load_scenario
from xtape.scenario.locations import raise_errors, render_error
from xtape.scenario.model import Scenario, event_records
from xtape.scenario.plan import EventPlan, Plan, compile_scenario
from xtape.scenario.template import constant_value
from xtape.timeline import NS_PER_MS, Event, Fields, ScheduleFn, Timeline


def wall_clock_schedule(start_ms: int | None = None) -> ScheduleFn:
    """A schedule for rendering outside the replayer: ``start + offset`` in epoch ms."""
    start = int(time.time() * 1000) if start_ms is None else start_ms

    def schedule(seq: int, offset_ns: int) -> int:
        return start + offset_ns // NS_PER_MS

    return schedule


def random_seed() -> int:
    """A fresh seed, for runs without ``--seed``."""
    return random.SystemRandom().randrange(1 << 32)


def render(
    scenario: Scenario,
    *,
    variables: Mapping[str, str] | None = None,
    seed: int | None = None,
    iteration: int = 0,
    schedule: ScheduleFn | None = None,
) -> Timeline:
    """The events of one pass of ``scenario``, lazily.

    The scenario is checked first (so this raises before yielding anything if a variable or
    generator is missing). ``schedule(seq, offset_ns)`` gives ``{{timestamp}}``; by default
    the wall clock at the call plus the offset.
    """
    plan = compile_scenario(scenario, variables)
    return render_plan(
        plan,
        seed=random_seed() if seed is None else seed,
        iteration=iteration,
        schedule=schedule or wall_clock_schedule(),
        state={},
    )


def render_plan(
    plan: Plan, *, seed: int, iteration: int, schedule: ScheduleFn, state: dict[int, Any]
) -> Timeline:
    """Render a compiled plan; ``state`` holds sequence counters (kept across passes)."""
    offset = 0
    seq = 0
    for event in plan.events:
        offset += event.delay_ns
        constant = event.node.constant
        if not constant:
            rng = event_rng(seed, iteration, event)
        fields: Fields | None = None
        for index in range(event.repeat):
            if index:
                offset += event.interval_ns
            if constant:
                if fields is None:
                    fields = _constant_fields(plan, event)
            else:
                ctx = RenderContext(
                    rng=rng,
                    index=index,
                    iteration=iteration,
                    variables=event.variables,
                    stream=event.stream,
                    event=event.index,
                    state=state,
                    schedule=schedule,
                    seq=seq,
                    offset_ns=offset,
                )
                fields = _render_fields(plan, event, ctx)
            yield Event.of(offset, event.stream_bytes, fields, event.id)
            seq += 1


def _constant_fields(plan: Plan, event: EventPlan) -> Fields:
    try:
        return encode_payload(constant_value(event.node), plan.encoding, event.codec)
    except EncodingFailed as error:  # found by the static check already
        raise render_error(plan.source, ("events", event.index), str(error)) from None


def event_fields(plan: Plan, event: EventPlan, ctx: RenderContext) -> Fields:
    """The fields of one publish of ``event`` (a non-constant one) in context ``ctx``.

    Raises :class:`RenderError` (located) when the payload cannot be made.
    """
    return _render_fields(plan, event, ctx)


def event_rng(seed: int, iteration: int, event: EventPlan) -> random.Random:
    """The random numbers of ``event`` in pass ``iteration`` under ``seed``."""
    return random.Random(f"xtape:{seed}:{iteration}:{event.index}")


def _render_fields(plan: Plan, event: EventPlan, ctx: RenderContext) -> Fields:
    loc = ("events", event.index)
    try:
        payload = event.node.render(ctx)
        if isinstance(payload, Mapping) and not payload:
            raise EncodingFailed("the generator made an empty payload")
        return encode_payload(payload, plan.encoding, event.codec)
    except (EncodingFailed, GeneratorFailed) as error:
        raise render_error(plan.source, loc, str(error)) from None
    except RecursionError:  # a callable's value nested too deeply to encode
        raise render_error(plan.source, loc, "the payload is nested too deeply to publish") from None
    except KeyError as error:  # not possible after the static check, unless a callable lies
        raise render_error(plan.source, loc, f"undefined variable {error.args[0]!r}") from None


def duration_ms(scenario: Scenario) -> float:
    """How long one pass takes: the offset of its last publish, in ms."""
    return float(
        sum(event.delay + (event.repeat - 1) * event.interval for event in event_records(scenario))
    )


class PayloadCheck(Protocol):
    """What checks rendered events against schemas (a stream catalog,
    :class:`xtape.catalog.Catalog`); the scenario package knows only this shape."""

    def check_plan(self, plan: Plan, *, seed: int, run_code: bool) -> list[InputError]:
        """Every problem of the events one pass under ``seed`` publishes (and of what its
        generators can make), located; none raised."""
        ...

    def check_event(
        self, plan: Plan, event: EventPlan, flat: Sequence[bytes], *, iteration: int
    ) -> InputError | None:
        """The problem of one rendered publish of ``event``, None if it is valid."""
        ...


class ScenarioSource:
    """A scenario as a :class:`~xtape.timeline.Source` for the replayer.

    Checked in the constructor, so an invalid scenario fails before anything is published.
    Without a ``seed`` a random one is drawn (see :attr:`seed`, to reproduce a run).
    Sequence counters carry on across ``--loop`` passes (and restart at pass 0).

    With a ``catalog``, the events of the first pass are rendered and checked against it
    in the constructor too, and every rendered event of every pass is checked again as
    it is made (its values may change with the pass), so nothing invalid is published.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path,
        *,
        variables: Mapping[str, str] | None = None,
        seed: int | None = None,
        catalog: PayloadCheck | None = None,
    ) -> None:
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        self.scenario = scenario
        source = scenario.source
        #: The file it came from (or the scenario's name).
        self.name: str = source.path if source is not None else (scenario.name or "scenario")
        self.seed: int = random_seed() if seed is None else seed
        self.plan: Plan = compile_scenario(scenario, variables)
        self._state: dict[int, Any] = {}
        #: The schemas rendered events are checked against, if any.
        self.catalog = catalog
        if catalog is not None:
            raise_errors(catalog.check_plan(self.plan, seed=self.seed, run_code=True))

    @property
    def count(self) -> int:
        """Entries published per pass."""
        return self.plan.count

    @property
    def uses_generators(self) -> bool:
        """Whether any event is generated (so :attr:`seed` matters)."""
        return any(event.generator for event in event_records(self.scenario))

    @property
    def duration_ms(self) -> float:
        """How long one pass takes, in ms."""
        return duration_ms(self.scenario)

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Timeline:
        """The events of pass ``iteration``."""
        if iteration == 0:
            self._state.clear()
        events = render_plan(
            self.plan, seed=self.seed, iteration=iteration, schedule=schedule, state=self._state
        )
        if self.catalog is None:
            return events
        return self._checked(events, self.catalog, iteration)

    def _checked(self, events: Timeline, catalog: PayloadCheck, iteration: int) -> Iterator[Event]:
        """``events``, each rendered (non-constant) one checked before it is handed on."""
        for plan_event in self.plan.events:
            constant = plan_event.node.constant  # checked in the constructor already
            for _ in range(plan_event.repeat):
                event = next(events, None)
                if event is None:
                    return
                if not constant:
                    problem = catalog.check_event(self.plan, plan_event, event.flat, iteration=iteration)
                    if problem is not None:
                        raise problem
                yield event



