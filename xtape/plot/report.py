"""A replay's outcome beside its picture: the ``xtape replay --json`` report.

The report is a :class:`~xtape.replay.report.ReplayReport` read back with its
``from_dict``; the lines shown beside the picture come from :mod:`xtape.report.replay_text`.
A replay report carries its lateness as a summary only (p50, p99 and max against the
schedule, from a constant-memory histogram; none at ``--max-speed``), so the plot shows
those figures as annotations, not as a curve. The report comes from a file
(``xtape plot --report``) or, for a capture made during a replay, from a marker of kind
:data:`REPORT_MARKER` whose text is that JSON report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from xtape.errors import InvalidReport
from xtape.recording import Marker

if TYPE_CHECKING:
    from xtape.replay.report import ReplayReport

#: A marker of this kind whose text is a replay's ``--json`` report.
REPORT_MARKER = "replay"


def load_report(path: str | Path) -> ReplayReport:
    """Read a file written from ``xtape replay --json`` (errors name the file)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidReport(name, f"cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidReport(name, "it is not UTF-8 text") from None
    return parse_report(text, name)


def parse_report(text: str, origin: str) -> ReplayReport:
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
    from xtape.replay.report import ReplayReport  # (not the whole replay package's imports)

    try:
        return ReplayReport.from_dict(data)
    except ValueError as exc:
        raise InvalidReport(origin, str(exc)) from None


def report_from_markers(markers: Iterable[Marker], recording: str) -> tuple[ReplayReport, str] | None:
    """The last marker of kind :data:`REPORT_MARKER` that holds a replay report, if any
    (a capture made during a replay may carry the replay's report this way), with where
    it came from (``a 'replay' marker in <recording>``)."""
    found = None
    for marker in markers:
        if marker.kind == REPORT_MARKER:
            origin = f"a {REPORT_MARKER!r} marker in {recording}"
            try:
                found = (parse_report(marker.text, origin), origin)
            except InvalidReport:
                continue
    return found
