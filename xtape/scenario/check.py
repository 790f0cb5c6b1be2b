"""``xtape validate`` as a library call: every problem of a scenario file, running none of its code.

:func:`validate_scenario` reads the file, checks its structure (every event, not only the
first broken one) and runs the static check (undefined variables, missing generators,
unknown ``--variable`` names, python generators whose module does not exist) without
importing or running anything the scenario names. Each problem is one line
``path:line: where: what``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from xtape.errors import InputError, UnknownVariable
from xtape.scenario.loader import Progress, read_scenario
from xtape.scenario.model import Scenario, event_records
from xtape.scenario.plan import Plan, compile_all, unknown_variables
from xtape.scenario.render import PayloadCheck

__all__ = ["Checked", "unknown_variables", "validate_scenario"]


@dataclass
class Checked:
    """The outcome of :func:`validate_scenario` for one file."""

    path: str
    scenario: Scenario | None
    plan: Plan | None
    errors: list[InputError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def events(self) -> int:
        """Entries of ``events:``."""
        return len(self.scenario.events) if self.scenario is not None else 0

    @property
    def entries(self) -> int:
        """Entries published per pass."""
        return self.plan.count if self.plan is not None else 0

    @property
    def names(self) -> frozenset[str]:
        """The variables the scenario uses or defines (built-ins left out)."""
        return self.plan.names if self.plan is not None else frozenset()

    @property
    def duration_ms(self) -> float:
        """How long one pass takes, in ms."""
        if self.scenario is None:
            return 0.0
        records = event_records(self.scenario)
        return float(sum(e.delay + (e.repeat - 1) * e.interval for e in records))


def validate_scenario(
    path: str | Path,
    variables: Mapping[str, str] | None = None,
    *,
    progress: Progress | None = None,
    check_variables: bool = True,
    catalog: PayloadCheck | None = None,
    seed: int = 0,
) -> Checked:
    """Check a scenario file and report every problem in it (raises nothing for bad input).

    Structure problems come first, then those of the static check, each group in file
    order. No code of the scenario's runs: ``{python: ...}`` generators are located, not
    imported (only a replay imports them). ``check_variables=False`` leaves unknown
    ``--variable`` names to the caller (several files checked together: see
    :func:`unknown_variables`).

    With a ``catalog`` (:class:`xtape.catalog.Catalog`), every event one pass publishes
    under ``seed`` is rendered and checked against it (stream names, payloads), and the
    generators are tried with other seeds too; python generators are not run.
    """
    loaded = read_scenario(path, progress=progress)
    errors = list(loaded.errors)
    plan = None
    if loaded.scenario is not None:
        plan, found = compile_all(loaded.scenario, variables, run_code=False)
        if errors or not check_variables:  # a broken event may be the one that uses it
            found = [error for error in found if not isinstance(error, UnknownVariable)]
        errors += found
        if catalog is not None:
            errors += catalog.check_plan(plan, seed=seed, run_code=False)
    return Checked(str(path), loaded.scenario, plan, errors)
