"""Drawing :class:`~xtape.plot.data.PlotData` with matplotlib: PNG, SVG, and an HTML page.

matplotlib renders PNG and SVG itself, without a browser; the HTML page embeds the SVG
inline with tables of the streams, markers, gaps and replay figures, and holds no
script and no external reference, so it opens anywhere with no network.

The picture: a top panel with every stream's entries per second added up, then one row
per stream (each scaled to its own peak, so a quiet stream's shape shows beside a busy
one), markers as dashed vertical lines through every row, gaps as hatched red spans on
their stream's row.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xtape.errors import PlotUnavailable, UsageError
from xtape.plot.data import GapMark, PlotData
from xtape.plot.page import page
from xtape.plot.rates import OTHER
from xtape.plot.text import rate_text, short, subtitle, time_unit
from xtape.timeline import NS_PER_S, display_name

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Output formats, by file suffix.
FORMATS = {".html": "html", ".htm": "html", ".svg": "svg", ".png": "png"}

#: Colours of the recorder's marker kinds (others are grey).
MARKER_COLORS = {
    "reconnect": "#e67e00",
    "restart": "#c0392b",
    "flush": "#8e44ad",
    "recreated": "#16a085",
    "deleted": "#7f5539",
    "failover": "#d35400",
    "topology": "#2980b9",
    "replay": "#2c3e50",
}
_OTHER_MARKER = "#666666"
_GAP = "#d62728"
_GAP_FILL = (0.84, 0.15, 0.16, 0.16)
_GAP_EDGE = (0.84, 0.15, 0.16, 0.75)
_ROW_COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#843c39",
)  # fmt: skip
#: Marker labels drawn at most (every marker still gets its line, and the HTML lists all;
#: markers at about the same time share a label).
MAX_MARKER_LABELS = 30
_WIDTH_IN = 12.0
_DPI = 100


def output_format(path: Path) -> str:
    """``html``, ``svg`` or ``png`` from the file's suffix."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"cannot tell what to write from {str(path)!r}: end it in .html, .svg or .png"
        )
    return fmt


def require_matplotlib() -> None:
    """Fail with how to install the plot extra when matplotlib is missing (found, not
    imported: ``xtape plot`` reads the recording first, and imports it to draw)."""
    from importlib.util import find_spec

    try:
        found = find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise PlotUnavailable("matplotlib")


def write(data: PlotData, output: Path) -> None:
    """Draw ``data`` into ``output`` (its suffix picks the format), replacing it whole:
    written beside it and renamed, so a failure leaves no half-written file."""
    fmt = output_format(output)
    require_matplotlib()
    with _style():
        if fmt == "html":
            content = page(data, svg_text(figure(data, titles=False))).encode("utf-8")
        else:
            content = _render(figure(data), fmt)
            if fmt == "svg":
                content = _METADATA.sub(b"", content)
    _replace(output, content)


# -- the figure ---------------------------------------------------------------------------


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib as mpl

    with (
        warnings.catch_warnings(),
        mpl.rc_context(
            {
                "text.parse_math": False,  # a "$" in a stream name is a dollar sign
                "svg.fonttype": "none",  # text stays text: searchable, small
                "svg.hashsalt": "xtape",  # the same SVG for the same data
                "font.family": "DejaVu Sans",
                "font.size": 9,
                "axes.spines.top": False,
                "axes.spines.right": False,
                "axes.titlesize": 10,
            }
        ),
    ):
        # Names in scripts the bundled font lacks draw as boxes, not as warnings.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
        yield


def figure(data: PlotData, *, titles: bool = True) -> Figure:
    """The picture as a matplotlib figure (no pyplot: no global state, no GUI);
    without ``titles`` for a page that shows them as text."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    s = data.series
    rows = data.rows
    # Header: title, subtitle, the replay's figures (if any), then the legend.
    with_report = titles and data.report is not None
    top_in = (1.6 if with_report else 1.25) if titles else 0.55
    total_in, row_in, bottom_in = 2.3, 0.62, 0.8
    height = top_in + total_in + row_in * len(rows) + bottom_in
    fig = Figure(figsize=(_WIDTH_IN, height), dpi=_DPI)
    grid = fig.add_gridspec(
        1 + len(rows),
        1,
        height_ratios=[total_in] + [row_in] * len(rows),
        hspace=0.18,
        left=0.2,
        right=0.955,
        top=1 - top_in / height,
        bottom=bottom_in / height,
    )
    total_ax = fig.add_subplot(grid[0, 0])
    axes = [total_ax] + [fig.add_subplot(grid[i + 1, 0], sharex=total_ax) for i in range(len(rows))]

    unit, per = time_unit(s.span_ns / NS_PER_S)
    width = s.bucket_ns / NS_PER_S / per
    edges = [i * width for i in range(s.buckets + 1)]
    lo = min([0.0] + [m.offset_ns / NS_PER_S / per for m in data.markers])
    hi = max(
        [s.span_ns / NS_PER_S / per, edges[-1] if s.buckets else 0.0]
        + [m.offset_ns / NS_PER_S / per for m in data.markers]
    )
    if hi <= lo:
        hi = lo + 1.0
    pad = (hi - lo) * 0.01

    if titles:
        fig.text(
            0.02,
            1 - 0.32 / height,
            display_name(data.info.path.encode()),
            fontsize=15,
            weight="bold",
            va="center",
        )
        fig.text(
            0.02, 1 - 0.62 / height, subtitle(data), fontsize=9.5, color="#444444", va="center"
        )

    # The total.
    total = s.total()
    if s.buckets and s.entries:
        rates = [c / s.bucket_s for c in total]
        total_ax.stairs(rates, edges, fill=True, color="#9aa5b1", alpha=0.55, lw=0)
        total_ax.stairs(rates, edges, color="#34495e", lw=1.1)
        total_ax.set_ylim(0, max(rates) * 1.3 or 1)
    else:
        total_ax.set_ylim(0, 1)
        total_ax.text(
            0.5,
            0.5,
            "no entries",
            transform=total_ax.transAxes,
            ha="center",
            va="center",
            fontsize=12,
            color="#666666",
        )
    total_ax.set_ylabel(
        "all streams\nentries/s", rotation=0, ha="right", va="center", fontsize=10, weight="bold"
    )
    total_ax.grid(axis="y", color="#dddddd", lw=0.6)
    total_ax.set_xlim(lo - pad, hi + pad)

    # One row per stream.
    for i, (row, ax) in enumerate(zip(rows, axes[1:], strict=True)):
        _stream_row(ax, data, row, "#7f7f7f" if row == OTHER else _ROW_COLORS[i % len(_ROW_COLORS)], edges)
    for ax in axes[:-1]:
        ax.tick_params(axis="x", labelbottom=False)
    axes[-1].set_xlabel(f"time since the recording's start ({unit})", fontsize=10)

    # Gaps, on their stream's row.
    min_w = (hi - lo) * 0.004
    row_axes = dict(zip(rows, axes[1:], strict=True))
    for gap in data.gaps:
        _gap_span(row_axes.get(gap.row), gap, per, min_w)

    # Markers, through every row; labelled in the top panel. Markers closer together
    # than a label's width (a flush and the deletions it causes) share one label, which
    # names their kinds in order, rather than printing over each other.
    kinds: dict[str, str] = {}
    close = (hi - lo) * 0.012
    clusters: list[tuple[float, list[str]]] = []
    for marker in data.markers:
        x = marker.offset_ns / NS_PER_S / per
        color = MARKER_COLORS.get(marker.kind, _OTHER_MARKER)
        kinds.setdefault(marker.kind, color)
        for ax in axes:
            ax.axvline(x, color=color, ls=(0, (4, 2)), lw=1.3, zorder=3)
        if clusters and x - clusters[-1][0] < close:
            if marker.kind not in clusters[-1][1]:
                clusters[-1][1].append(marker.kind)
        else:
            clusters.append((x, [marker.kind]))
    for x, names in clusters[:MAX_MARKER_LABELS]:
        total_ax.text(
            x,
            0.97,
            " " + ", ".join(display_name(kind.encode()) for kind in names),
            transform=total_ax.get_xaxis_transform(),
            rotation=90,
            fontsize=8,
            color=kinds[names[0]] if len(names) == 1 else _OTHER_MARKER,
            va="top",
            ha="right",
            zorder=4,
        )

    if with_report:
        _annotate_report(fig, 1 - 0.95 / height, data)

    handles: list[Any] = [Patch(color="#9aa5b1")]
    labels = ["entries/s (per bucket)"]
    for kind, color in kinds.items():
        handles.append(Line2D([], [], color=color, ls=(0, (4, 2)), lw=1.3))
        labels.append(f"marker: {display_name(kind.encode())}")
    if data.gaps:
        # Fill and hatch apart, as on the rows (a tuple draws both in one legend key).
        fill = Patch(facecolor=_GAP_FILL, lw=0)
        hatch = Patch(facecolor="none", edgecolor=_GAP_EDGE, hatch="////", lw=0)
        handles.append((fill, hatch))
        labels.append("gap (entries lost)")
    fig.legend(
        handles,
        labels,
        loc="lower right",
        bbox_to_anchor=(0.955, 1 - (top_in - 0.05) / height),
        ncols=min(len(handles), 4),
        frameon=False,
        fontsize=8.5,
    )
    return fig


def _gap_span(ax: Any, gap: GapMark, per: float, min_w: float) -> None:
    """A gap on its stream's row (``ax``; None: a row not shown): a hatched span (at
    least ``min_w`` wide) and what was lost."""
    if ax is None:
        return
    a, b = gap.start_ns / NS_PER_S / per, gap.end_ns / NS_PER_S / per
    if b - a < min_w:
        mid = (a + b) / 2
        a, b = mid - min_w / 2, mid + min_w / 2
    # Fill and hatch apart: in SVG a hatch takes its patch's opacity.
    ax.axvspan(a, b, facecolor=_GAP_FILL, lw=0, zorder=2)
    ax.axvspan(a, b, facecolor="none", edgecolor=_GAP_EDGE, hatch="////", lw=0, zorder=2)
    lost = "? lost" if gap.lost < 0 else f"{gap.lost:,} lost"
    ax.text(
        b,
        0.95,
        f" gap: {lost}",
        transform=ax.get_xaxis_transform(),
        fontsize=7.5,
        color=_GAP,
        va="top",
        zorder=5,
        bbox={
            "boxstyle": "square,pad=0.1",
            "facecolor": "white",
            "edgecolor": "none",
            "alpha": 0.85,
        },
    )


def _stream_row(ax: Any, data: PlotData, row: bytes, color: str, edges: list[float]) -> None:
    """One stream's row: its rate as stairs, its peak, its name and its entry count."""
    s = data.series
    rates = s.rates(row)
    peak = max(rates, default=0.0)
    ax.stairs(rates, edges, fill=True, color=color, alpha=0.35, lw=0)
    ax.stairs(rates, edges, color=color, lw=1.0)
    ax.set_ylim(0, peak * 1.3 or 1)
    ax.set_yticks([peak] if peak else [])
    ax.set_yticklabels([rate_text(peak)] if peak else [], fontsize=7.5, color="#555555")
    ax.tick_params(axis="y", length=2, pad=1)
    n = data.row_entries(row)
    ax.text(
        -0.065,
        0.62,
        short(data.label(row)),
        transform=ax.transAxes,
        ha="right",
        va="center",
        fontsize=9.5,
    )
    ax.text(
        -0.065,
        0.22,
        f"{n:,} entr{'ies' if n != 1 else 'y'}",
        transform=ax.transAxes,
        ha="right",
        va="center",
        fontsize=7.5,
        color="#666666",
    )


def _annotate_report(fig: Figure, y: float, data: PlotData) -> None:
    """The replay's figures as a line under the subtitle: a report gives lateness as
    p50/p99/max only, so they are shown as text, not as a curve."""
    from xtape.report.replay_text import lateness_line, summary_line

    assert data.report is not None
    note = data.report
    fig.text(
        0.02,
        y,
        f"{summary_line(note)} · {lateness_line(note)}",
        fontsize=9,
        va="center",
        bbox={"boxstyle": "round,pad=0.35", "facecolor": "#fffbe6", "edgecolor": "#c8a600"},
    )


# -- files --------------------------------------------------------------------------------


def _render(fig: Figure, fmt: str) -> bytes:
    import io

    out = io.BytesIO()
    meta = {"Software": None} if fmt == "png" else {"Creator": None, "Date": None}
    fig.savefig(out, format=fmt, metadata=meta)
    return out.getvalue()


#: matplotlib's RDF metadata block (namespace URLs, nothing a reader needs).
_METADATA = re.compile(rb"\s*<metadata>.*?</metadata>", re.S)


def svg_text(fig: Figure) -> str:
    """The figure as an ``<svg>`` element for an HTML page: no XML prolog, no DOCTYPE,
    no metadata, and scaled to the page's width."""
    text = _render(fig, "svg").decode("utf-8")
    text = text[text.index("<svg") :]
    text = _METADATA.sub(b"", text.encode()).decode()
    head, rest = text.split(">", 1)
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    head = re.sub(r'\sxmlns(:xlink)?="[^"]*"', "", head)
    return (
        head
        + ' role="img" aria-label="entries per second per stream" style="width:100%;height:auto">'
        + rest
    )


def _replace(output: Path, content: bytes) -> None:
    from xtape.outputs import write_bytes

    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {output}: no such directory {folder}")
    write_bytes(output, content)
