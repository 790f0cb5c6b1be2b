"""What a replay is asked to do: :class:`ReplayOptions`, checked as a whole when built.

Every check of an option value or combination lives here (the CLI only parses), so a
library user gets the same refusals as ``xtape replay``.
"""

from __future__ import annotations

from dataclasses import dataclass

from xtape.errors import UsageError
from xtape.replay.pacing import Pacing, Speed
from xtape.transform import Transform
from xtape.units import seconds_to_ns

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
    #: Pause between loop passes, in seconds (only with ``loop``; ``None``: 0).
    loop_interval: float | None = None
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
    progress_every: float = 0.25

    def __post_init__(self) -> None:
        if self.loop_interval is not None:
            if not self.loop:
                raise UsageError("--loop-interval applies to --loop: add --loop or drop it")
            if not self.loop_interval >= 0:  # (also refuses NaN)
                raise UsageError(f"--loop-interval must be 0 or more, not {self.loop_interval:g} s")
        if self.dry_run and self.loop:
            raise UsageError(
                "--dry-run cannot be combined with --loop: a dry run lists one pass; drop --loop"
            )
        if self.keep_ids and self.loop:
            raise UsageError(
                "--keep-ids cannot be combined with --loop: a second pass would reuse the ids of the first"
            )
        multiply = self.transform.multiply
        if self.keep_ids and multiply is not None and multiply.into_same and multiply.copies > 1:
            raise UsageError(
                "--keep-ids cannot be combined with --copy-into-same: the copies would reuse the same ids "
                "in one stream; give each copy its own streams (--copy-map) or drop --keep-ids"
            )
        check_maxlen(self.maxlen)
        if self.max_refusals < 1:
            raise UsageError("max_refusals must be at least 1 (or keep_going)")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise UsageError("max_iterations must be at least 1")
        if self.batch_cap is not None and self.batch_cap < 1:
            raise UsageError("batch_cap must be at least 1")
        if not self.progress_every >= 0:
            raise UsageError(f"progress_every must be 0 or more seconds, not {self.progress_every}")

    @property
    def refusal_limit(self) -> int | None:
        """Refusals in a row that stop the replay (``None``: never)."""
        return None if self.keep_going else self.max_refusals

    @property
    def interval_ns(self) -> int:
        """The pause between loop passes, in ns (what the runner's clock counts)."""
        return seconds_to_ns(self.loop_interval or 0.0)
