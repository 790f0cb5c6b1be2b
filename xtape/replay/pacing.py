"""Timing modes: how a timeline's offsets become deadlines, one class per mode.

    Pacing.speed(2)                  # original timing, twice as fast (--speed 2)
    Pacing.rate(500)                 # a steady 500 events/s (--rate 500)
    choose(rate_ramp="1000:20000:5m")  # from 1,000/s to 20,000/s over 5 minutes

A mode says when event ``seq`` (offset ``offset_ns``) is due after the start of a pass
(:meth:`Pacing.deadline_ns`, in closed form: never a sum of previous waits, so a replay
does not drift), how it reads in a report (:meth:`Pacing.describe`) and what the
progress line can foresee (:meth:`Pacing.span_ns`, :meth:`Pacing.eta_s`). The
scheduler (:mod:`.scheduler`) only asks these questions.

Adding a timing mode is a class below and a line in :data:`MODES`, whose key is the
mode's keyword of :func:`choose` and of a case file's ``input:`` (``rate_ramp``), and
``--rate-ramp`` its option (``docs/architecture.md``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from xtape.errors import UsageError
from xtape.timeline import NS_PER_S
from xtape.units import parse_seconds, seconds_to_ns

#: Batch caps: paced replays keep batches small so a burst does not delay what follows
#: it; at max speed bigger batches amortise the per-round-trip cost.
PACED_BATCH_CAP = 1000
MAX_SPEED_BATCH_CAP = 5000

#: The range of --speed and --rate: beyond it a schedule is meaningless (a day's events
#: replayed a million times slower never ends; faster than a nanosecond apart is
#: --max-speed).
_LIMITS = (1e-3, 1e6)


class Pacing:
    """A timing mode; build one with :meth:`speed`, :meth:`max_speed`, :meth:`rate`,
    :meth:`rate_ramp` or :func:`choose`.

    ``key`` is the mode's keyword (:func:`choose`, a case file's ``input:``), ``option``
    its command-line option and ``takes`` the type of the value given to either.
    """

    key: ClassVar[str]
    option: ClassVar[str]
    takes: ClassVar[type]
    kind: ClassVar[str]
    #: Everything is due at once (no timing, no lateness).
    is_max_speed: ClassVar[bool] = False
    #: Deadlines follow the timeline's offsets (so the clock they are read by matters).
    follows_offsets: ClassVar[bool] = False

    @classmethod
    def from_option(cls, value: Any) -> Pacing:
        """The mode of its option's value (:class:`UsageError` if the value is wrong)."""
        raise NotImplementedError

    def deadline_ns(self, seq: int, offset_ns: int) -> int:
        """Nanoseconds after the start of a pass at which event ``seq`` is due."""
        raise NotImplementedError

    def describe(self) -> str:
        """How a report names the mode: ``"1x"``, ``"max speed"``, ``"100/s"``, ..."""
        raise NotImplementedError

    @property
    def period_ns(self) -> int:
        """The gap a looped pass leaves after the previous pass's last event (0: none)."""
        return 0

    @property
    def batch_cap(self) -> int:
        return MAX_SPEED_BATCH_CAP if self.is_max_speed else PACED_BATCH_CAP

    def span_ns(self, offsets_ns: int) -> int | None:
        """How long a pass whose offsets span ``offsets_ns`` lasts, where the offsets
        decide it (None: they do not)."""
        return None

    def eta_s(self, elapsed_ns: int, sent: int, total: int) -> float | None:
        """Seconds until a pass of ``total`` events, ``sent`` of them published after
        ``elapsed_ns``, is done, where the mode foresees it (None: from the rate seen)."""
        return None

    def __str__(self) -> str:
        return self.describe()

    # -- the public constructors -------------------------------------------------------

    @staticmethod
    def speed(factor: float) -> Pacing:
        """Original timing scaled: an event at offset ``o`` is due at ``o / factor``."""
        return Speed.from_option(factor)

    @staticmethod
    def max_speed() -> Pacing:
        """No timing: everything is due at once and goes out as fast as Redis takes it."""
        return MaxSpeed()

    @staticmethod
    def rate(per_second: float) -> Pacing:
        """A fixed rate, ignoring offsets: event ``i`` is due at ``i / per_second`` s."""
        return Rate.from_option(per_second)

    @staticmethod
    def rate_ramp(start: float, end: float, duration: float) -> Pacing:
        """A rate rising (or falling) linearly from ``start`` to ``end`` events/s over
        ``duration`` seconds, then staying at ``end``; offsets ignored."""
        return RateRamp.of(start, end, duration)

    @staticmethod
    def choose(**given: Any) -> Pacing:
        """:func:`choose`."""
        return choose(**given)


@dataclass(frozen=True)
class _OneNumber(Pacing):
    """A mode given one number, from 0.001 to 1,000,000 (``--speed``, ``--rate``)."""

    value: float

    takes = float

    @classmethod
    def from_option(cls, value: Any) -> Pacing:
        return cls(_in_range(cls.option, value))


@dataclass(frozen=True)
class Speed(_OneNumber):
    """Original timing, scaled by ``value`` (``--speed``; the default, 1x)."""

    value: float = 1.0

    key = "speed"
    option = "--speed"
    kind = "speed"
    follows_offsets = True

    def deadline_ns(self, seq: int, offset_ns: int) -> int:
        return offset_ns if self.value == 1.0 else round(offset_ns / self.value)

    def describe(self) -> str:
        return f"{self.value:g}x"

    def span_ns(self, offsets_ns: int) -> int | None:
        return round(offsets_ns / self.value)


@dataclass(frozen=True)
class MaxSpeed(Pacing):
    """No timing (``--max-speed``)."""

    value: float = 0.0

    key = "max_speed"
    option = "--max-speed"
    takes = bool
    kind = "max-speed"
    is_max_speed = True

    @classmethod
    def from_option(cls, value: Any) -> Pacing:
        return cls()

    def deadline_ns(self, seq: int, offset_ns: int) -> int:
        return 0

    def describe(self) -> str:
        return "max speed"


@dataclass(frozen=True)
class Rate(_OneNumber):
    """A fixed ``value`` events per second, offsets ignored (``--rate``)."""

    key = "rate"
    option = "--rate"
    kind = "rate"

    def deadline_ns(self, seq: int, offset_ns: int) -> int:
        return round(seq * NS_PER_S / self.value)

    @property
    def period_ns(self) -> int:
        """A looped pass at a fixed rate starts one period after the previous one's
        last event."""
        return round(NS_PER_S / self.value)

    def describe(self) -> str:
        return f"{self.value:g}/s"

    def eta_s(self, elapsed_ns: int, sent: int, total: int) -> float | None:
        return max(total - sent, 0) / self.value


_RAMP = re.compile(r"^\s*([^:]+):([^:]+):([^:]+)$")


@dataclass(frozen=True)
class RateRamp(Pacing):
    """A rate rising linearly from ``start`` to ``end`` events/s over ``duration``
    seconds, then staying at ``end`` (``--rate-ramp START:END:DURATION``); offsets ignored.

    Event ``n`` is due when the integral of the rate reaches ``n``: with ``a = (end -
    start) / (2 * duration)``, at the ``t`` where ``start * t + a * t**2 = n`` during the
    ramp, ``duration + (n - ramped) / end`` after it (``ramped`` the ramp's events). Each
    deadline is that closed form, so nothing accumulates; each pass of ``--loop`` ramps
    again, one period at the start rate after the previous pass's last event.
    """

    start: float
    end: float
    duration: float
    #: ``duration`` in the nanoseconds deadlines are counted in.
    duration_ns: int = field(init=False, repr=False, compare=False)

    key = "rate_ramp"
    option = "--rate-ramp"
    takes = str
    kind = "ramp"

    @classmethod
    def of(cls, start: float, end: float, duration: float) -> RateRamp:
        """A ramp with its rates checked (``duration`` in seconds)."""
        return cls(_in_range(cls.option, start), _in_range(cls.option, end), duration)

    def __post_init__(self) -> None:
        if not (isinstance(self.duration, int | float) and self.duration > 0 and math.isfinite(self.duration)):
            raise UsageError(f"{self.option}: the duration must be more than zero")
        object.__setattr__(self, "duration_ns", seconds_to_ns(self.duration))

    @classmethod
    def from_option(cls, value: Any) -> Pacing:
        match = _RAMP.match(value) if isinstance(value, str) else None
        if match is None:
            raise UsageError(
                f"invalid {cls.option} {value!r}: use START:END:DURATION, e.g. 1000:20000:5m "
                "(from 1,000 to 20,000 events/s over 5 minutes)"
            )
        rates: list[float] = []
        for text in match.group(1, 2):
            try:
                rates.append(float(text))
            except ValueError:
                raise UsageError(
                    f"invalid {cls.option} {value!r}: {text.strip()!r} is not a rate (events/s)"
                ) from None
        duration = parse_seconds(match.group(3), option=f"{cls.option} duration", positive=True)
        return cls.of(rates[0], rates[1], duration)

    @property
    def ramped(self) -> float:
        """How many events the ramp itself spans (the integral of its rate)."""
        return (self.start + self.end) * self.duration_ns / NS_PER_S / 2

    def deadline_ns(self, seq: int, offset_ns: int) -> int:
        duration_s = self.duration_ns / NS_PER_S
        ramped = self.ramped
        if seq >= ramped:
            return self.duration_ns + round((seq - ramped) * NS_PER_S / self.end)
        a = (self.end - self.start) / (2 * duration_s)
        # the root of a*t**2 + start*t - seq, in the form that does not cancel when a ~ 0
        t = 2 * seq / (self.start + math.sqrt(self.start * self.start + 4 * a * seq))
        return round(t * NS_PER_S)

    @property
    def period_ns(self) -> int:
        return round(NS_PER_S / self.start)

    def describe(self) -> str:
        return f"ramp {self.start:g}/s to {self.end:g}/s over {self.duration:g} s"

    def eta_s(self, elapsed_ns: int, sent: int, total: int) -> float | None:
        return max(self.deadline_ns(max(total - 1, 0), 0) - elapsed_ns, 0) / NS_PER_S


#: Every timing mode by its keyword: a new one is a class above and a line here.
MODES: dict[str, type[Pacing]] = {
    "speed": Speed,
    "max_speed": MaxSpeed,
    "rate": Rate,
    "rate_ramp": RateRamp,
}


def choose(**given: Any) -> Pacing:
    """The pacing of the options given (``speed=2``, ``max_speed=True``, ``rate=500``,
    ``rate_ramp="1000:20000:5m"``; None or False: not given): at most one of them;
    original timing (1x) when none is."""
    unknown = [key for key in given if key not in MODES]
    if unknown:
        raise TypeError(f"choose() got unknown timing modes {unknown} (known: {', '.join(MODES)})")
    chosen = [key for key, value in given.items() if value is not None and value is not False]
    if len(chosen) > 1:
        options = [mode.option for mode in MODES.values()]
        raise UsageError(f"choose one of {', '.join(options[:-1])} and {options[-1]}")
    if not chosen:
        return Speed()
    return MODES[chosen[0]].from_option(given[chosen[0]])


def _in_range(option: str, value: Any) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        shown = f"{value:g}" if isinstance(value, int | float) else repr(value)
        raise UsageError(f"{option} must be > 0 (got {shown})")
    low, high = _LIMITS
    if not low <= value <= high:
        raise UsageError(
            f"{option} {value:g} is out of range: use a value from {low:g} to {high:g}"
            + (" (or --max-speed)" if value > high else "")
        )
    return float(value)
