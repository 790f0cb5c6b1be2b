"""What a replay reports: counts, rate, and how late events went out against the schedule."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from xtape.timeline import NS_PER_MS

_EXACT_US = 1024  # lateness below this many microseconds is kept exactly


class LatenessHistogram:
    """Lateness (publish time - deadline) of every event, in constant memory.

    Values are kept to the microsecond below about 1 ms and with 10 significant bits
    (0.1 %) above, which is plenty for p50/p99; the maximum is exact.
    """

    def __init__(self) -> None:
        self.count = 0
        self.max_ns = 0
        self._buckets: Counter[int] = Counter()

    def record(self, deadlines: list[int], published_ns: int) -> None:
        """Account for events due at ``deadlines`` that went out at ``published_ns``."""
        buckets = self._buckets
        for deadline in deadlines:
            us = (published_ns - deadline) // 1000
            if us >= _EXACT_US:
                shift = us.bit_length() - 10
                us = (us >> shift) << shift
            buckets[max(us, 0)] += 1
        self.count += len(deadlines)
        if deadlines:
            self.max_ns = max(self.max_ns, published_ns - deadlines[0])

    def quantile_ms(self, q: float) -> float:
        """The ``q`` quantile (0..1) in milliseconds; 0 when nothing was recorded."""
        if not self.count:
            return 0.0
        rank = max(1, round(q * self.count))
        seen = 0
        for us in sorted(self._buckets):
            seen += self._buckets[us]
            if seen >= rank:
                return us / 1000
        return self.max_ns / NS_PER_MS

    def summary(self) -> Lateness | None:
        if not self.count:
            return None
        return Lateness(
            p50_ms=self.quantile_ms(0.50),
            p99_ms=self.quantile_ms(0.99),
            max_ms=max(self.max_ns, 0) / NS_PER_MS,
        )


@dataclass(frozen=True)
class Lateness:
    """How late events were published against their deadlines, in milliseconds."""

    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class ReplayProgress:
    """A snapshot passed to the progress callback during a replay.

    ``sent``/``errors``/``elapsed_s`` count the whole replay; ``pass_sent`` and the rest
    the current pass (``iteration``, from 0). ``pass_total``, ``percent`` and ``eta_s``
    are ``None`` where they cannot be known (``pass_total`` with ``--since``/``--until``).
    """

    sent: int
    errors: int
    iteration: int
    elapsed_s: float
    pass_sent: int = 0
    pass_total: int | None = None
    #: Entries per second over the current pass.
    rate: float = 0.0
    #: Done of the current pass, 0-100 (by entries, else by schedule).
    percent: float | None = None
    #: Seconds until the current pass ends.
    eta_s: float | None = None


@dataclass
class ReplayReport:
    """The outcome of :func:`xtape.replay.replay`.

    ``published`` counts entries the target accepted; ``errors`` those it refused
    (``error_messages`` keeps the first few); both count only *confirmed* entries,
    whose reply was read from the server. ``streams`` maps each target stream name
    (as text, undecodable bytes escaped) to the entries it accepted. ``lateness`` is
    ``None`` at max speed, where there is no schedule to be late against.
    """

    source: str
    pacing: str
    published: int = 0
    errors: int = 0
    error_messages: list[str] = field(default_factory=list)
    streams: dict[str, int] = field(default_factory=dict)
    iterations: int = 0
    duration_s: float = 0.0
    lateness: Lateness | None = None
    interrupted: bool = False
    #: Things a user should know about the result (a ``--map`` that matched nothing,
    #: filters that kept nothing, reconnects).
    warnings: list[str] = field(default_factory=list)
    #: Times the connection to Redis was lost and made again.
    reconnects: int = 0
    #: With ``--multiply``: entries the target accepted per copy (``"1"`` to ``"N"``).
    copies: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Accepted entries per second over the whole replay."""
        return self.published / self.duration_s if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``xtape replay --json``)."""
        data = asdict(self)
        data["rate"] = round(self.rate, 1)
        data["duration_s"] = round(self.duration_s, 6)
        data["stream_count"] = len(self.streams)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> ReplayReport:
        """A report from its :meth:`to_dict` form (``xtape replay --json`` read back);
        what is not a report raises :class:`ValueError` saying why (the plot's
        ``load_report`` names the file)."""
        if not isinstance(data, Mapping):
            raise ValueError("expected a JSON object")
        for key in ("pacing", "published", "duration_s"):
            if key not in data:
                raise ValueError(f"it has no {key!r}")
        lateness = data.get("lateness")
        if lateness is not None and not isinstance(lateness, Mapping):
            raise ValueError("'lateness' is neither null nor an object")
        streams = data.get("streams") or {}
        return cls(
            source=str(data.get("source", "")),
            pacing=str(data["pacing"]),
            published=int(_number(data["published"], "published")),
            errors=int(_number(data.get("errors", 0), "errors")),
            error_messages=[str(m) for m in data.get("error_messages") or ()],
            streams={str(k): int(v) for k, v in streams.items()} if isinstance(streams, Mapping) else {},
            iterations=int(_number(data.get("iterations", 0), "iterations")),
            duration_s=_number(data["duration_s"], "duration_s"),
            lateness=None if lateness is None else Lateness(
                *(_number(lateness.get(k), f"lateness.{k}") for k in ("p50_ms", "p99_ms", "max_ms"))
            ),
            interrupted=bool(data.get("interrupted", False)),
            warnings=[str(w) for w in data.get("warnings") or ()],
            reconnects=int(_number(data.get("reconnects", 0), "reconnects")),
            copies=_copies(data.get("copies")),
        )


def _copies(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): int(_number(v, f"copies.{k}")) for k, v in value.items()}


def _number(value: Any, what: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} is not a number of zero or more")
    return float(value)
