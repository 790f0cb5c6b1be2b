"""What a template or generator sees while one publish is rendered."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from xtape.timeline import ScheduleFn

#: Names every template can use without defining them.
BUILTINS = frozenset({"index", "timestamp", "iteration"})


class RenderContext:
    """The values for one publish of one event; passed to ``{python: ...}`` callables.

    ``rng`` is seeded from ``--seed``, the loop pass and the event's position, so the same
    seed renders the same values. ``timestamp`` (the publish's scheduled wall-clock time in
    ms since the epoch) is computed on first use only.
    """

    __slots__ = (
        "_offset_ns",
        "_schedule",
        "_seq",
        "_timestamp",
        "event",
        "index",
        "iteration",
        "rng",
        "state",
        "stream",
        "variables",
    )

    def __init__(
        self,
        *,
        rng: random.Random,
        index: int,
        iteration: int,
        variables: Mapping[str, Any],
        stream: str,
        event: int,
        state: dict[int, Any],
        schedule: ScheduleFn,
        seq: int,
        offset_ns: int,
    ) -> None:
        #: Random numbers for this event, deterministic under ``--seed``.
        self.rng = rng
        #: The 0-based repeat counter of the event (``{{index}}``).
        self.index = index
        #: The ``--loop`` pass, from 0 (``{{iteration}}``).
        self.iteration = iteration
        #: The variables in effect (``--variable`` over event over scenario).
        self.variables = variables
        #: The stream the payload goes to.
        self.stream = stream
        #: The position of the event in the scenario's ``events:`` list.
        self.event = event
        #: Mutable state kept across publishes (sequence counters).
        self.state = state
        self._schedule = schedule
        self._seq = seq
        self._offset_ns = offset_ns
        self._timestamp: int | None = None

    @property
    def timestamp(self) -> int:
        """The scheduled publish time, ms since the epoch (``{{timestamp}}``)."""
        if self._timestamp is None:
            self._timestamp = int(self._schedule(self._seq, self._offset_ns))
        return self._timestamp

    def lookup(self, name: str) -> Any:
        """The value of ``{{name}}``: a built-in, else a variable (``KeyError`` if neither)."""
        if name == "index":
            return self.index
        if name == "timestamp":
            return self.timestamp
        if name == "iteration":
            return self.iteration
        return self.variables[name]
