"""Pictures of a recording: entries per second per stream over time, with the gaps and
the recorder's markers (reconnects, restarts, flushes, recreated or deleted streams),
and a replay's lateness where a report gives it.

``collect`` and the rate counting need only xtape; drawing (``write``) needs the
optional ``plot`` extra (matplotlib): ``pip install 'xtape[plot]'``. See ``docs/plot.md``.

Names are imported lazily, so ``xtape info`` (which needs only :mod:`.rates`) does not
import the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xtape._lazy import lazy_getattr

if TYPE_CHECKING:
    from xtape.plot.data import GapMark, MarkerMark, PlotData, collect
    from xtape.plot.rates import OTHER, RateSeries, count_rates, sparkline
    from xtape.plot.render import output_format, write
    from xtape.plot.report import REPORT_MARKER, load_report, parse_report

_EXPORTS: dict[str, str] = {
    "GapMark": "xtape.plot.data",
    "MarkerMark": "xtape.plot.data",
    "PlotData": "xtape.plot.data",
    "collect": "xtape.plot.data",
    "OTHER": "xtape.plot.rates",
    "RateSeries": "xtape.plot.rates",
    "count_rates": "xtape.plot.rates",
    "sparkline": "xtape.plot.rates",
    "output_format": "xtape.plot.render",
    "write": "xtape.plot.render",
    "REPORT_MARKER": "xtape.plot.report",
    "load_report": "xtape.plot.report",
    "parse_report": "xtape.plot.report",
}

__all__ = [
    "OTHER",
    "REPORT_MARKER",
    "GapMark",
    "MarkerMark",
    "PlotData",
    "RateSeries",
    "collect",
    "count_rates",
    "load_report",
    "output_format",
    "parse_report",
    "sparkline",
    "write",
]


__getattr__ = lazy_getattr('xtape.plot', _EXPORTS, globals())
