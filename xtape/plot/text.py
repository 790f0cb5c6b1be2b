"""The words and numbers a picture of a recording shows, shared by the figure and the page."""

from __future__ import annotations

import datetime as dt

from xtape.plot.data import PlotData
from xtape.plot.rates import OTHER
from xtape.timeline import NS_PER_S


def time_unit(span_s: float) -> tuple[str, float]:
    if span_s <= 180:
        return "s", 1.0
    if span_s <= 3 * 3600:
        return "min", 60.0
    return "h", 3600.0


def short(text: str, n: int = 34) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def rate_text(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}/s"
    if value >= 1:
        return f"{value:.1f}/s"
    return f"{value:.2g}/s"


def duration(ns: int) -> str:
    s = ns / NS_PER_S
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 120:
        return f"{s:.3g} s"
    if s < 7200:
        return f"{s / 60:.3g} min"
    return f"{s / 3600:.3g} h"


def utc(ns: int) -> str:
    """An absolute time as ``2026-11-25 12:13:37.716 UTC`` ('-' outside a date's range)."""
    try:
        when = dt.datetime.fromtimestamp(ns / NS_PER_S, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return "-"
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def subtitle(data: PlotData) -> str:
    s = data.series
    n = len([r for r in data.rows if r != OTHER]) + s.other_streams
    timed_by = "entry ids" if s.time_base == "id" else "the recorder's capture clock"
    parts = [
        f"{s.entries:,} entries in {n} stream{'s' * (n != 1)} over {duration(s.span_ns)}",
        f"from {utc(s.start_ns)}",
        f"buckets of {duration(s.bucket_ns)}",
        f"clock: {timed_by}",
    ]
    if not data.markers and not data.gaps:
        parts.append("no gaps, no markers")
    if not data.info.complete:
        parts.append("incomplete (no clean stop, or still being written)")
    return " · ".join(parts)
