"""Pictures of a recording: entries per second per stream over time, with the gaps and
the recorder's markers (reconnects, restarts, flushes, recreated or deleted streams),
and a replay's lateness where a report gives it.

``collect`` and the rate counting need only xtape; drawing (``write``) needs the
optional ``plot`` extra (matplotlib): ``pip install 'xtape[plot]'``. See ``docs/plot.md``.
"""

from xtape.plot.data import GapMark, MarkerMark, PlotData, collect
from xtape.plot.rates import OTHER, RateSeries, count_rates, sparkline
from xtape.plot.render import output_format, write
from xtape.plot.report import REPORT_MARKER, ReplayNote, load_report, parse_report

__all__ = [
    "OTHER",
    "REPORT_MARKER",
    "GapMark",
    "MarkerMark",
    "PlotData",
    "RateSeries",
    "ReplayNote",
    "collect",
    "count_rates",
    "load_report",
    "output_format",
    "parse_report",
    "sparkline",
    "write",
]
