"""The HTML page of ``xtape plot``: the picture inline as SVG, then its figures as
tables. No script, no stylesheet link, no font download, no URL: it opens anywhere
with no network."""

from __future__ import annotations

import html

from xtape.plot.data import PlotData
from xtape.plot.rates import OTHER
from xtape.plot.text import rate_text, subtitle, time_unit, utc
from xtape.report.replay_text import lateness_line, summary_line
from xtape.timeline import NS_PER_S, display_name

_CSS = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 24px; color: #222; max-width: 1280px; }
h1 { font-size: 20px; margin: 0 0 4px 0; }
h2 { font-size: 15px; margin: 24px 0 6px 0; }
p.sub { color: #555; margin: 0 0 12px 0; font-size: 13px; }
figure { margin: 0; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { background: #fffbe6; border: 1px solid #c8a600; padding: 6px 10px; display: inline-block; font-size: 13px; }
.kind { font-weight: bold; }
"""


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _offset(ns: int, per: float, unit: str) -> str:
    return f"{ns / NS_PER_S / per:,.3f} {unit}"


def page(data: PlotData, svg: str) -> str:
    """A self-contained HTML page: the picture inline, then its figures as tables."""
    s = data.series
    info = data.info
    unit, per = time_unit(s.span_ns / NS_PER_S)
    title = display_name(info.path.encode())
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>xtape plot: {_esc(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="sub">{_esc(subtitle(data))}</p>',
    ]
    if data.clock_note:
        out.append(f'<p class="sub">{_esc(data.clock_note)}</p>')
    if data.report is not None:
        out.append(
            f'<p class="note" id="replay">{_esc(summary_line(data.report))}<br>'
            f"{_esc(lateness_line(data.report))}<br><small>from {_esc(data.report_origin)}</small></p>"
        )
    out.append(f"<figure>{svg}</figure>")

    out.append(
        '<h2>Streams</h2><table id="streams"><tr><th>stream</th><th>entries</th><th>mean rate</th><th>peak rate</th><th>first id</th><th>last id</th></tr>'
    )
    span_s = s.span_ns / NS_PER_S
    for name, summary in info.streams.items():
        counted = name in s.counts or (OTHER in s.counts and name not in s.counts)
        if not counted:
            continue
        mean = summary.entries / span_s if span_s > 0 else 0.0
        peak = rate_text(s.peak_rate(name)) if name in s.counts else f"(in {data.label(OTHER)})"
        out.append(
            f"<tr><td>{_esc(display_name(name))}</td><td class=n>{summary.entries:,}</td>"
            f"<td class=n>{rate_text(mean)}</td><td class=n>{_esc(peak)}</td>"
            f"<td>{_esc((summary.first_id or b'-').decode('ascii', 'replace'))}</td>"
            f"<td>{_esc((summary.last_id or b'-').decode('ascii', 'replace'))}</td></tr>"
        )
    out.append("</table>")

    out.append(f"<h2>Markers ({len(data.markers)})</h2>")
    if data.markers:
        out.append(
            '<table id="markers"><tr><th>time (UTC)</th><th>since start</th><th>kind</th><th>what</th></tr>'
        )
        for m in data.markers:
            out.append(
                f"<tr><td>{_esc(utc(m.time_ns))}</td><td class=n>{_offset(m.offset_ns, per, unit)}</td>"
                f'<td class="kind">{_esc(display_name(m.kind.encode()))}</td><td>{_esc(display_name(m.text.encode()))}</td></tr>'
            )
        out.append("</table>")
    else:
        out.append(
            "<p>none: no reconnect, restart, failover, flush, recreated or deleted stream while recording</p>"
        )

    out.append(f"<h2>Gaps ({len(data.gaps)})</h2>")
    if data.gaps:
        out.append(
            '<table id="gaps"><tr><th>stream</th><th>noticed (UTC)</th><th>since start</th><th>after id</th><th>before id</th><th>lost</th></tr>'
        )
        for g in data.gaps:
            lost = "unknown" if g.lost < 0 else f"{g.lost:,}"
            out.append(
                f"<tr><td>{_esc(display_name(g.stream))}</td><td>{_esc(utc(g.time_ns))}</td>"
                f"<td class=n>{_offset(g.start_ns, per, unit)}</td>"
                f"<td>{_esc(g.after_id.decode('ascii', 'replace'))}</td><td>{_esc(g.before_id.decode('ascii', 'replace'))}</td>"
                f"<td class=n>{lost}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p>none: every entry between the first and the last was recorded</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
