"""What a replay is asked to do: :class:`ReplayOptions`, checked as a whole when built.

Every check of an option value or combination lives here (the CLI only parses), so a
library user gets the same refusals as ``xtape replay``.
"""

from __future__ import annotations

from dataclasses import dataclass

from xtape.errors import UsageError
from xtape.replay.pacing import Pacing, Speed
from xtape.transform import Transform

#: Consecutive refusals after which a replay stops (``--keep-going`` to go on): enough
#: that a few bad entries among good ones never stop a replay, few enough that a target
#: refusing everything (WRONGTYPE, NOPERM, MOVED) is noticed within a second or two.
MAX_REFUSALS = 100


def check_maxlen(maxlen: int | None) -> None:
    """``--maxlen`` is at least 1 (``MAXLEN ~ 0`` would empty every target stream)."""
    if maxlen is not None and maxlen < 1:
        raise UsageError(
            f"--maxlen must be at least 1, not {maxlen} (0 would empty every target stream)"
        )


@dataclass(frozen=True)
class ReplayOptions:
    """Everything about a replay except its source and its target URL.

    ``keep_ids``/``maxlen``/``reconnect`` shape the Redis publisher that
    :func:`xtape.replay.replay` opens; ``dry_run`` lists the events instead.
    A replay stops after ``max_refusals`` refusals in a row unless ``keep_going``.
    """

    pacing: Pacing = Speed()  # noqa: RUF009 (frozen, so sharing it is safe)
    loop: bool = False
    #: Pause between loop passes, in ms (only with ``loop``; ``None``: 0).
    loop_interval_ms: int | None = None
    transform: Transform = Transform()  # noqa: RUF009 (frozen; its caches are harmless)
    keep_ids: bool = False
    maxlen: int | None = None
    dry_run: bool = False
    reconnect: bool = True
    keep_going: bool = False
    max_refusals: int = MAX_REFUSALS
    #: Stop after this many passes (tests).
    max_iterations: int | None = None
    #: Events per pipelined round trip at most (default: per pacing).
    batch_cap: int | None = None
    #: Seconds between progress callbacks at most.
    progress_every_s: float = 0.25

    def __post_init__(self) -> None:
        if self.loop_interval_ms is not None:
            if not self.loop:
                raise UsageError("--loop-interval applies to --loop: add --loop or drop it")
            if self.loop_interval_ms < 0:
                raise UsageError(f"--loop-interval must be 0 or more, not {self.loop_interval_ms}")
        if self.dry_run and self.loop:
            raise UsageError(
                "--dry-run cannot be combined with --loop: a dry run lists one pass; drop --loop"
            )
        if self.keep_ids and self.loop:
            raise UsageError(
                "--keep-ids cannot be combined with --loop: a second pass would reuse the ids of the first"
            )
        check_maxlen(self.maxlen)
        if self.max_refusals < 1:
            raise UsageError("max_refusals must be at least 1 (or keep_going)")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise UsageError("max_iterations must be at least 1")
        if self.batch_cap is not None and self.batch_cap < 1:
            raise UsageError("batch_cap must be at least 1")

    @property
    def refusal_limit(self) -> int | None:
        """Refusals in a row that stop the replay (``None``: never)."""
        return None if self.keep_going else self.max_refusals

    @property
    def interval_ns(self) -> int:
        """The pause between loop passes, in ns."""
        return (self.loop_interval_ms or 0) * 1_000_000
