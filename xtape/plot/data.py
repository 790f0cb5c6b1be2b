"""What a picture of a recording shows, gathered without matplotlib.

:func:`collect` reads the recording's summary (:func:`xtape.recording.summarize`: its
span, streams, gaps and markers) and then its entries once, into a fixed number of
buckets (:func:`xtape.plot.rates.count_rates`): memory stays flat however long the
recording is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xtape.errors import UsageError
from xtape.ids import id_ms
from xtape.plot.rates import OTHER, RateSeries, auto_time_base, count_rates
from xtape.plot.report import report_from_markers
from xtape.recording import Recording, RecordingInfo, TimeBase, summarize
from xtape.timeline import NS_PER_MS, display_name
from xtape.units import match_any

if TYPE_CHECKING:
    from xtape.replay.report import ReplayReport

#: Streams that get a row of their own at most; the rest share one "other" row.
MAX_ROWS = 12
#: Buckets over the span when no width is given.
DEFAULT_BUCKETS = 120


@dataclass(frozen=True)
class MarkerMark:
    """A recorder marker (reconnect, restart, flush, recreated, deleted, ...) on the axis."""

    offset_ns: int
    time_ns: int
    kind: str
    text: str


@dataclass(frozen=True)
class GapMark:
    """Entries of a stream that were lost, on the axis: from ``start_ns`` to ``end_ns``
    (offsets; by the ids around the gap on the id time base, the moment it was noticed on
    the capture clock)."""

    stream: bytes
    row: bytes
    start_ns: int
    end_ns: int
    time_ns: int
    after_id: bytes
    before_id: bytes
    #: How many were lost; -1 where unknown.
    lost: int


@dataclass
class PlotData:
    """Everything a picture of a recording shows."""

    info: RecordingInfo
    series: RateSeries
    #: Row keys, in the order the streams were first recorded (:data:`OTHER` last).
    rows: list[bytes]
    markers: list[MarkerMark]
    gaps: list[GapMark]
    report: ReplayReport | None = None
    #: Where :attr:`report` came from (a file, or "a 'replay' marker in <recording>").
    report_origin: str = ""
    #: Why the time base is not the one asked for (or the default), if it is not.
    clock_note: str | None = None

    def label(self, row: bytes) -> str:
        """A row's name as text."""
        if row == OTHER:
            n = self.series.other_streams
            return f"other ({n} stream{'s' * (n != 1)})"
        return display_name(row)

    def row_entries(self, row: bytes) -> int:
        return sum(self.series.counts.get(row, ()))


def collect(
    path: str | Path,
    *,
    time_base: TimeBase | None = None,
    streams: Sequence[str] = (),
    bucket: float | None = None,
    buckets: int = DEFAULT_BUCKETS,
    max_rows: int = MAX_ROWS,
    report: ReplayReport | None = None,
    report_origin: str = "",
) -> PlotData:
    """Read a recording (two passes at most: its summary, then its entries once) into
    what its picture shows. ``time_base`` None means the entry ids' time base, unless the ids
    were plainly set by producers (see :meth:`RecordingInfo.id_clock_warning`), then
    the recorder's. ``streams`` are globs; ``report`` a replay's report to show (read from ``report_origin``)."""
    if str(path) == "-":
        raise UsageError("xtape plot reads its recording twice: give a file, not - (stdin)")
    rec = Recording(path)
    if rec.one_pass:
        rec.close()
        raise UsageError(f"{path}: xtape plot reads its recording twice: give a regular file")
    info = summarize(rec)
    note = None
    if time_base is None:
        time_base = auto_time_base(info)
        if time_base == "capture":
            note = (
                "the entry ids do not follow the recording's time (set by producers?): "
                "drawn by the recorder's clock"
            )
    chosen = [name for name in info.streams if not streams or match_any(name, list(streams))]
    if streams and not chosen:
        raise UsageError(
            f"no stream of {path} matches --stream {' '.join(streams)} "
            f"(its streams: {', '.join(display_name(n) for n in list(info.streams)[:8])}"
            + (", ..." if len(info.streams) > 8 else "")
            + ")"
        )
    by_size = sorted(chosen, key=lambda n: info.streams[n].entries, reverse=True)
    own = by_size if len(by_size) <= max_rows else by_size[: max_rows - 1]
    series = count_rates(
        path,
        info,
        time_base=time_base,
        buckets=buckets,
        bucket=bucket,
        rows=own,
        streams=chosen,
    )
    rows = [name for name in chosen if name in set(own)]
    if OTHER in series.counts:
        rows.append(OTHER)
    start = series.start_ns
    markers = [MarkerMark(m.capture_ns - start, m.capture_ns, m.kind, m.text) for m in info.markers]
    gaps = []
    for name, gap in info.gaps:
        if name not in chosen:
            continue
        if time_base == "id":
            lo = id_ms(gap.after_id) * NS_PER_MS - start
            hi = id_ms(gap.before_id) * NS_PER_MS - start
        else:
            lo = hi = gap.capture_ns - start
        gaps.append(
            GapMark(
                name,
                name if name in series.counts else OTHER,
                lo,
                hi,
                gap.capture_ns,
                gap.after_id,
                gap.before_id,
                gap.lost,
            )
        )
    if report is None and (found := report_from_markers(info.markers, info.path)) is not None:
        report, report_origin = found
    return PlotData(info, series, rows, markers, gaps, report, report_origin, note)
