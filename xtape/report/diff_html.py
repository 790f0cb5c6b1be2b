"""The HTML form of a :class:`~xtape.diff.result.DiffResult`: one self-contained file a
reviewer can open anywhere. Inline CSS only: no scripts, fonts, images or links out."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from xtape.diff.compare import FieldDiff, Item
from xtape.report.diff_text import decoded_text, field_label, rules_line, show_bytes, verdict
from xtape.timeline import display_name
from xtape.version import __version__

if TYPE_CHECKING:
    from xtape.diff.result import DiffResult, EntryDiff, StreamResult

_CSS = """
:root { color-scheme: light; --red: #b42318; --red-bg: #fdecea; --green: #067647; --green-bg: #e7f6ec;
  --amber: #b54708; --amber-bg: #fef4e6; --line: #d0d5dd; --muted: #667085; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; color: #101828; background: #f9fafb; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
code, .mono, td.v { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12.5px; }
.meta { color: var(--muted); margin: 2px 0; }
.verdict { display: inline-block; margin: 14px 0 4px; padding: 6px 12px; border-radius: 6px; font-weight: 600; }
.verdict.same { background: var(--green-bg); color: var(--green); }
.verdict.differs { background: var(--red-bg); color: var(--red); }
.warn { background: var(--amber-bg); color: var(--amber); padding: 6px 10px; border-radius: 6px; margin: 6px 0; }
table { border-collapse: collapse; background: #fff; }
table.summary { min-width: 640px; border: 1px solid var(--line); }
table.summary th, table.summary td { padding: 6px 12px; border-bottom: 1px solid var(--line); text-align: right; }
table.summary th:first-child, table.summary td:first-child { text-align: left; }
table.summary th { background: #f2f4f7; font-weight: 600; }
.status { font-weight: 600; }
.status.same { color: var(--green); }
.status.bad { color: var(--red); }
.entry { background: #fff; border: 1px solid var(--line); border-left-width: 4px; border-radius: 6px;
  margin: 10px 0; padding: 8px 12px; max-width: 1100px; }
.entry.changed { border-left-color: var(--amber); }
.entry.missing { border-left-color: var(--red); }
.entry.extra { border-left-color: var(--green); }
.entry .head { font-weight: 600; margin-bottom: 6px; }
.kind { display: inline-block; min-width: 64px; padding: 1px 8px; margin-right: 8px; border-radius: 4px;
  font-size: 12px; text-transform: uppercase; letter-spacing: .03em; text-align: center; }
.kind.changed { background: var(--amber-bg); color: var(--amber); }
.kind.missing { background: var(--red-bg); color: var(--red); }
.kind.extra { background: var(--green-bg); color: var(--green); }
.kind.moved { background: var(--amber-bg); color: var(--amber); }
table.fields { width: 100%; table-layout: fixed; }
table.fields th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; padding: 3px 8px; }
table.fields td { padding: 4px 8px; vertical-align: top; border-top: 1px solid #eaecf0; word-break: break-all; }
table.fields col.name { width: 22%; }
td.exp { background: var(--red-bg); }
td.act { background: var(--green-bg); }
td.note { color: var(--muted); }
.absent { color: var(--muted); font-style: italic; }
details { margin-top: 6px; }
summary { cursor: pointer; color: var(--muted); }
.more { color: var(--muted); margin: 8px 0; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
"""


_PATH_NOTES = {"missing": "not in the actual value", "extra": "only in the actual value"}


def write_html(result: DiffResult, path: str | Path) -> None:
    """The report of :func:`render_html` written to ``path``."""
    from xtape.outputs import write_text

    write_text(path, render_html(result))


def render_html(result: DiffResult) -> str:
    """A self-contained HTML report (inline CSS, no scripts, fonts or network)."""
    verdict_class = "same" if result.same else "differs"
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No network: nothing may be fetched, even by accident.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>xtape diff: {escape(verdict_class)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>xtape diff</h1>",
        f'<p class="meta">expected: <code>{escape(result.expected)}</code></p>',
        f'<p class="meta">actual: <code>{escape(result.actual)}</code></p>',
        f'<p class="meta">rules: {escape(rules_line(result))}</p>',
        f'<div class="verdict {verdict_class}" id="verdict">{escape(verdict(result))}</div>',
    ]
    for warning in result.warnings:
        out.append(f'<div class="warn">{escape(warning)}</div>')
    out.append(_summary(result))
    for s in result.streams:
        if not s.is_same:
            out.append(_stream(s))
    out.append(f"<footer>Written by xtape {escape(__version__)}. Values are shown as JSON text where they are UTF-8, else as base64.</footer>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _summary(result: DiffResult) -> str:
    rows = [
        "<h2>Streams</h2>",
        '<table class="summary"><thead><tr><th>stream</th><th>expected</th><th>actual</th><th>same</th>'
        "<th>changed</th><th>missing</th><th>extra</th><th>status</th></tr></thead><tbody>",
    ]
    if not result.streams:
        rows.append('<tr><td colspan="8">no streams to compare</td></tr>')
    for s in result.streams:
        cls = "same" if s.is_same else "bad"
        name = escape(display_name(s.name))
        link = name if s.is_same else f'<a href="#s-{_anchor(s.name)}">{name}</a>'
        rows.append(
            f"<tr><td>{link}</td><td>{s.expected}</td><td>{s.actual}</td><td>{s.same}</td>"
            f"<td>{s.changed}</td><td>{s.missing}</td><td>{s.extra}</td>"
            f'<td class="status {cls}">{escape(s.status)}</td></tr>'
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _anchor(name: bytes) -> str:
    return name.hex()


def _stream(s: StreamResult) -> str:
    total = s.changed + s.missing + s.extra + s.moved
    out = [
        f'<h2 id="s-{_anchor(s.name)}">{escape(display_name(s.name))}: {total} difference{"s" if total != 1 else ""}</h2>'
    ]
    out.extend(_entry(d, s.codec) for d in s.differences)
    if s.unreported:
        out.append(f'<p class="more">... and {s.unreported} more not shown (max_reported).</p>')
    return "\n".join(out)


def _label(item: Item | None, side: str) -> str:
    if item is None:
        return ""
    return f'{side} #{item[0]} <span class="mono">id {escape(display_name(item[1]))}</span>'


def _value(value: bytes | str | None) -> str:
    if value is None:
        return '<span class="absent">(absent)</span>'
    if isinstance(value, str):
        return escape(value)
    return escape(show_bytes(value, None))


def _entry(d: EntryDiff, codec: str | None = None) -> str:
    heads = [_label(d.expected, "expected"), _label(d.actual, "actual")]
    head = " &middot; ".join(h for h in heads if h)
    out = [f'<div class="entry {d.kind}"><div class="head"><span class="kind {d.kind}">{d.kind}</span>{head}</div>']
    if d.kind == "changed":
        out.append(
            '<table class="fields"><colgroup><col class="name"><col><col><col style="width:20%"></colgroup>'
            "<thead><tr><th>field</th><th>expected</th><th>actual</th><th>note</th></tr></thead><tbody>"
        )
        for f in d.fields:
            out.extend(_field_rows(f))
        out.append("</tbody></table>")
    item = d.expected if d.kind == "missing" else d.actual
    if d.kind == "changed":
        shown = [("expected", d.expected), ("actual", d.actual)]
    else:
        shown = [(d.kind, item)]
    for which, it in shown:
        if it is None:
            continue
        rows = "".join(
            f'<tr><td class="v">{escape(display_name(it[2][i]))}</td><td class="v">{escape(show_bytes(it[2][i + 1], None))}</td></tr>'
            for i in range(0, len(it[2]) - 1, 2)
        )
        decoded = decoded_text(it[2], codec)
        if decoded is not None:
            rows = f'<tr><td class="v">({escape(str(codec))})</td><td class="v">{escape(decoded)}</td></tr>' + rows
        opened = " open" if d.kind != "changed" else ""
        out.append(
            f"<details{opened}><summary>{which} entry: all fields</summary>"
            f'<table class="fields"><colgroup><col class="name"><col></colgroup><tbody>{rows}</tbody></table></details>'
        )
    out.append("</div>")
    return "\n".join(out)


def _field_rows(f: FieldDiff) -> list[str]:
    label = escape(field_label(f))
    if f.kind == "order":
        return [f'<tr><td class="v">(order)</td><td colspan="3" class="note">{escape(f.note)}</td></tr>']
    if f.kind in ("id", "time"):
        return [
            f'<tr><td class="v">({f.kind})</td><td class="v exp">{escape(display_name(f.expected or b""))}</td>'
            f'<td class="v act">{escape(display_name(f.actual or b""))}</td><td class="note">{escape(f.note)}</td></tr>'
        ]
    if f.paths:
        rows = []
        for p in f.paths:
            path = f"{label}{p.path}" if p.path.startswith("[") else f"{label}.{p.path}"
            if f.kind == "decoded":
                path = p.path
            rows.append(
                f'<tr><td class="v">{escape(path)}</td><td class="v exp">{_value(p.expected)}</td>'
                f'<td class="v act">{_value(p.actual)}</td><td class="note">{escape(p.note or _PATH_NOTES.get(p.kind, ""))}</td></tr>'
            )
        return rows
    note = f.note or {"missing": "field missing", "extra": "extra field"}.get(f.kind, "")
    return [
        f'<tr><td class="v">{label}</td><td class="v exp">{_value(f.expected)}</td>'
        f'<td class="v act">{_value(f.actual)}</td><td class="note">{escape(note)}</td></tr>'
    ]


__all__ = ["render_html", "write_html"]
