"""A replay's outcome beside its picture: the ``xtape replay --json`` report.

A replay report carries its lateness as a summary only (p50, p99 and max against the
schedule, from a constant-memory histogram; none at ``--max-speed``), so the plot shows
those figures as annotations, not as a curve. The report comes from a file
(``xtape plot --report``) or, for a capture made during a replay, from a marker of kind
:data:`REPORT_MARKER` whose text is that JSON report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xtape.errors import InvalidReport
from xtape.recording import Marker

#: A marker of this kind whose text is a replay's ``--json`` report.
REPORT_MARKER = "replay"


@dataclass(frozen=True)
class ReplayNote:
    """What a replay report says that a picture can show."""

    #: Where it came from (a file, or "marker in <recording>").
    origin: str
    pacing: str
    published: int
    duration_s: float
    rate: float
    #: Lateness against the schedule, in ms; None at --max-speed (no schedule).
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    errors: int = 0
    reconnects: int = 0
    interrupted: bool = False

    @property
    def has_lateness(self) -> bool:
        return self.p50_ms is not None

    def lateness_text(self) -> str:
        if self.p50_ms is None or self.p99_ms is None or self.max_ms is None:
            return "lateness: none measured (max speed: no schedule to be late against)"
        return (
            f"lateness vs schedule: p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, "
            f"max {self.max_ms:.2f} ms"
        )

    def summary_text(self) -> str:
        text = (
            f"replay ({self.pacing}): {self.published:,} published in "
            f"{self.duration_s:.3f} s ({self.rate:,.0f}/s)"
        )
        extra = [
            f"{self.errors:,} refused" if self.errors else "",
            f"{self.reconnects} reconnects" if self.reconnects else "",
            "interrupted" if self.interrupted else "",
        ]
        return ", ".join([text, *(e for e in extra if e)])


def load_report(path: str | Path) -> ReplayNote:
    """Read a file written from ``xtape replay --json``."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidReport(name, f"cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidReport(name, "it is not UTF-8 text") from None
    return parse_report(text, name)


def parse_report(text: str, origin: str) -> ReplayNote:
    """A replay report from its JSON text (or from the last line, if that is the JSON)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # Output captured with other lines around it: the report is the last JSON line.
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            data = json.loads(lines[-1]) if lines else None
        except json.JSONDecodeError:
            data = None
        if data is None:
            raise InvalidReport(origin, f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    return _note(data, origin)


def _note(data: Any, origin: str) -> ReplayNote:
    if not isinstance(data, Mapping):
        raise InvalidReport(origin, "expected a JSON object")
    for key in ("pacing", "published", "duration_s"):
        if key not in data:
            raise InvalidReport(origin, f"it has no {key!r}")
    lateness = data.get("lateness")
    if lateness is not None and not isinstance(lateness, Mapping):
        raise InvalidReport(origin, "'lateness' is neither null nor an object")
    late = (
        [None, None, None]
        if lateness is None
        else [
            _number(lateness.get(k), f"lateness.{k}", origin)
            for k in ("p50_ms", "p99_ms", "max_ms")
        ]
    )
    return ReplayNote(
        origin=origin,
        pacing=str(data["pacing"]),
        published=int(_number(data["published"], "published", origin)),
        duration_s=_number(data["duration_s"], "duration_s", origin),
        rate=_number(data.get("rate", 0), "rate", origin),
        p50_ms=late[0],
        p99_ms=late[1],
        max_ms=late[2],
        errors=int(_number(data.get("errors", 0), "errors", origin)),
        reconnects=int(_number(data.get("reconnects", 0), "reconnects", origin)),
        interrupted=bool(data.get("interrupted", False)),
    )


def _number(value: Any, what: str, origin: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        raise InvalidReport(origin, f"{what} is not a number of zero or more")
    return float(value)


def report_from_markers(markers: Iterable[Marker], recording: str) -> ReplayNote | None:
    """The last marker of kind :data:`REPORT_MARKER` that holds a replay report, if any
    (a capture made during a replay may carry the replay's report this way)."""
    note = None
    for marker in markers:
        if marker.kind == REPORT_MARKER:
            try:
                note = parse_report(marker.text, f"a {REPORT_MARKER!r} marker in {recording}")
            except InvalidReport:
                continue
    return note
