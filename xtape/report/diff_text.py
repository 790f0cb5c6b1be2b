"""The terminal form of a :class:`~xtape.diff.result.DiffResult`: a summary table per
stream, then each difference with its position, id and a field-level diff."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from xtape.codecs import CodecFailed, get_codec
from xtape.diff.compare import FieldDiff, Item, json_text
from xtape.timeline import display_name, pair_fields

if TYPE_CHECKING:
    from xtape.diff.result import DiffResult, EntryDiff, StreamResult

#: Values longer than this are cut in the terminal (the JSON and HTML forms keep all).
MAX_SHOWN = 200

KeyFn = Callable[[Sequence[bytes]], "str | None"]

_RED, _GREEN, _YELLOW, _BOLD, _DIM, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[1m", "\x1b[2m", "\x1b[0m"


_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    """Text without terminal colour and cursor sequences (a service's log output)."""
    return _ANSI.sub("", text)


def show_bytes(value: bytes | None, limit: int | None = MAX_SHOWN) -> str:
    """A value for people: ``"text"`` (JSON-escaped) where UTF-8, else ``base64:...``;
    cut after ``limit`` characters with the full size said."""
    if value is None:
        return "(none)"
    try:
        text = json.dumps(value.decode("utf-8"), ensure_ascii=False)
    except UnicodeDecodeError:
        text = "base64:" + base64.b64encode(value).decode("ascii")
    if limit is not None and len(text) > limit:
        return f"{text[:limit]}... ({len(value)} bytes)"
    return text


def field_label(d: FieldDiff) -> str:
    """``price``, or ``a[2]`` for the third field named ``a`` (duplicates)."""
    if d.name is None:
        return d.kind
    name = display_name(d.name)
    return f"{name}[{d.occurrence}]" if d.occurrence else name


def entry_label(item: Item | None) -> str:
    if item is None:
        return "-"
    return f"#{item[0]} id {display_name(item[1])}"


def decoded_text(flat: Sequence[bytes], codec: str | None, limit: int | None = None) -> str | None:
    """An entry's payload decoded by ``codec`` as compact JSON text (None: not decoded)."""
    if codec is None:
        return None
    try:
        message = get_codec(codec).decode(pair_fields(flat))
    except (CodecFailed, RecursionError, ValueError):
        return None
    text = json_text(message.to_value())
    if limit is not None and len(text) > limit:
        return f"{text[:limit]}... ({len(text)} characters)"
    return text


def fields_line(flat: Sequence[bytes], limit: int = 6, codec: str | None = None) -> str:
    decoded = decoded_text(flat, codec, 60 * limit)
    if decoded is not None:
        return f"{codec}: {decoded}"
    pairs = [f"{display_name(flat[i])}={show_bytes(flat[i + 1], 60)}" for i in range(0, len(flat) - 1, 2)]
    more = len(pairs) - limit
    shown = " ".join(pairs[:limit])
    return shown + (f" ... (+{more} fields)" if more > 0 else "")


class _Paint:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text


def render_text(result: DiffResult, *, color: bool = False) -> str:
    """A summary per stream, then every reported difference (see docs/diff.md)."""
    paint = _Paint(color)
    lines: list[str] = [
        paint(_BOLD, f"expected: {result.expected}"),
        paint(_BOLD, f"actual:   {result.actual}"),
        f"rules:    {rules_line(result)}",
        "",
    ]
    for warning in result.warnings:
        lines.append(paint(_YELLOW, f"warning: {warning}"))
    if result.warnings:
        lines.append("")
    if not result.streams:
        lines.append("no streams to compare (none in either recording matches the rules)")
    else:
        width = max(6, *(len(display_name(s.name)) for s in result.streams))
        head = f"{'stream':<{width}}  {'expected':>8}  {'actual':>8}  {'same':>8}  {'changed':>7}  {'missing':>7}  {'extra':>7}  status"
        lines.append(paint(_BOLD, head))
        for s in result.streams:
            status = s.status
            code = _GREEN if s.is_same else _RED
            lines.append(
                f"{display_name(s.name):<{width}}  {s.expected:>8}  {s.actual:>8}  {s.same:>8}  "
                f"{s.changed:>7}  {s.missing:>7}  {s.extra:>7}  {paint(code, status)}"
            )
    spec = result.rules.match_by or result.key_by
    for s in result.streams:
        if s.is_same:
            continue
        lines.append("")
        lines.extend(_stream_lines(s, paint, key_getter(spec, s.codec)))
    lines.append("")
    lines.append(verdict(result))
    return "\n".join(lines) + "\n"


def rules_line(result: DiffResult) -> str:
    r = result.rules
    parts = [f"order {r.order}" + (f" by {r.match_by}" if r.match_by else "")]
    if r.streams:
        parts.append("streams " + ", ".join(r.streams))
    if r.ignore_fields:
        parts.append("ignore " + ", ".join(r.ignore_fields))
    if r.tolerances:
        parts.append("tolerance " + ", ".join(f"{k}={v}" for k, v in r.tolerances.items()))
    if r.json_fields:
        parts.append("json " + ", ".join(r.json_fields))
    paths = [f"{k}.{p}" if k else p for k, ps in r.paths.items() for p in ps]
    if paths:
        parts.append("ignore paths " + ", ".join(paths))
    parts.append("ids compared" if r.compare_ids else "ids ignored")
    if r.compare_times:
        parts.append(f"times compared (+/-{r.time_tolerance * 1000:g} ms)")
    if r.ignore_field_order:
        parts.append("field order ignored")
    return "; ".join(parts)


#: A field that differs the same way in at least this many entries is summarised once,
#: with its first :data:`SUMMARY_SHOWN` entries shown.
SUMMARY_MIN = 4
SUMMARY_SHOWN = 3

_SAID = {"missing": "absent", "extra": "only in the actual", "changed": "changed"}


def _field_keys(f: FieldDiff) -> list[tuple[str, str]]:
    """``(where, kind)`` of each difference a field diff holds (its paths, or itself)."""
    label = field_label(f)
    if f.kind == "decoded":
        return [(p.path, p.kind) for p in f.paths]
    if f.paths:
        return [(f"{label}{p.path}" if p.path.startswith("[") else f"{label}.{p.path}", p.kind) for p in f.paths]
    return [(label, f.kind)]


def _summaries(s: StreamResult) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for d in s.differences:
        if d.kind == "changed":
            for key in {k for f in d.fields if f.kind not in ("order", "id", "time") for k in _field_keys(f)}:
                counts[key] = counts.get(key, 0) + 1
    return {k: n for k, n in counts.items() if n >= SUMMARY_MIN}


def _stream_lines(s: StreamResult, paint: _Paint, key: KeyFn | None = None) -> list[str]:
    total = s.changed + s.missing + s.extra + s.moved
    own = " (compared in a pass of its own)" if s.own_pass else ""
    if s.codec is not None:
        own += f" (payloads decoded: {s.codec})"
    lines = [paint(_BOLD, f"{display_name(s.name)}: {total} difference{'s' if total != 1 else ''}{own}")]
    summaries = _summaries(s)
    paired = s.same + s.changed
    for (where, kind), n in sorted(summaries.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(
            paint(_YELLOW, f"  {where}: {_SAID.get(kind, kind)} in {n} of {paired} entries")
            + f" (the first {SUMMARY_SHOWN} shown)"
        )
    shown: dict[tuple[str, str], int] = {}
    hidden = 0
    for d in s.differences:
        if summaries and d.kind == "changed":
            keep = []
            for f in d.fields:
                keys = [k for k in _field_keys(f) if k in summaries]
                if keys and all(shown.get(k, 0) >= SUMMARY_SHOWN for k in keys):
                    continue
                keep.append(f)
            for k in {k for f in keep for k in _field_keys(f) if k in summaries}:
                shown[k] = shown.get(k, 0) + 1
            if not keep:
                hidden += 1
                continue
            d = replace(d, fields=tuple(keep))
        lines.extend(_entry_lines(d, paint, key, s.codec))
    if hidden:
        lines.append(f"  ... and {hidden} more changed entries like these (--json and --html show them all)")
    if s.unreported:
        lines.append(f"  ... and {s.unreported} more (max_reported; --json counts them all)")
    return lines


def key_getter(spec: str | None, codec: str | None = None) -> KeyFn | None:
    """Shows an entry's ``match_by``/``correlate_by`` value (a field or FIELD.path, or
    a path in the payload ``codec`` decodes)."""
    if not spec:
        return None
    from xtape.diff.compare import key_reader

    read = key_reader(spec, get_codec(codec) if codec else None)

    def get(flat: Sequence[bytes]) -> str | None:
        found = read(flat)
        if found is None:
            return None
        value = show_bytes(found, 60) if isinstance(found, bytes) else json_text(found[1])
        return f"{spec} {value}"

    return get


def _entry_lines(d: EntryDiff, paint: _Paint, key: KeyFn | None = None, codec: str | None = None) -> list[str]:
    if d.kind == "missing":
        assert d.expected is not None
        return [
            paint(_RED, f"  - missing  {entry_label(d.expected)}"),
            paint(_DIM, f"      {fields_line(d.expected[2], codec=codec)}"),
        ]
    if d.kind == "extra":
        assert d.actual is not None
        return [
            paint(_GREEN, f"  + extra    {entry_label(d.actual)} (actual)"),
            paint(_DIM, f"      {fields_line(d.actual[2], codec=codec)}"),
        ]
    e, a = d.expected, d.actual
    assert e is not None and a is not None
    keyed = key(e[2]) if key is not None else None
    said = f" ({keyed})" if keyed else ""
    if d.kind == "moved":
        return [
            paint(_YELLOW, f"  > moved    #{e[0]} -> #{a[0]}{said} id {display_name(e[1])} / actual id {display_name(a[1])}"),
            paint(_DIM, f"      {fields_line(e[2], codec=codec)}"),
        ]
    where = entry_label(e)
    if a[0] != e[0] or a[1] != e[1]:
        where += f" / actual {entry_label(a)}"
    lines = [paint(_YELLOW, f"  ~ changed  {where}{said}")]
    for f in d.fields:
        lines.extend(field_lines(f, paint))
    return lines


def field_lines(f: FieldDiff, paint: _Paint | None = None) -> list[str]:
    """The lines of one field-level difference (indented for an entry)."""
    paint = paint or _Paint(False)
    note = f"  ({f.note})" if f.note else ""
    label = field_label(f)
    if f.kind == "order":
        return [f"      {f.note}"]
    if f.kind in ("id", "time"):
        return [f"      {f.kind}: {paint(_RED, display_name(f.expected or b''))} -> {paint(_GREEN, display_name(f.actual or b''))}{note}"]
    if f.kind == "missing":
        return [f"      {label}: {paint(_RED, show_bytes(f.expected))} -> (no such field)"]
    if f.kind == "extra":
        return [f"      {label}: (no such field) -> {paint(_GREEN, show_bytes(f.actual))}"]
    if f.kind == "decoded":  # paths into a decoded payload: no field name before them
        return [
            f"      {p.path}: {paint(_RED, p.expected) if p.expected is not None else '(absent)'} -> "
            f"{paint(_GREEN, p.actual) if p.actual is not None else '(absent)'}{f'  ({p.note})' if p.note else ''}"
            for p in f.paths
        ]
    if f.paths:
        out = []
        for p in f.paths:
            pnote = f"  ({p.note})" if p.note else ""
            exp = paint(_RED, p.expected) if p.expected is not None else "(absent)"
            act = paint(_GREEN, p.actual) if p.actual is not None else "(absent)"
            out.append(f"      {label}.{p.path}: {exp} -> {act}{pnote}" if not p.path.startswith("[") else f"      {label}{p.path}: {exp} -> {act}{pnote}")
        return out
    return [f"      {label}: {paint(_RED, show_bytes(f.expected))} -> {paint(_GREEN, show_bytes(f.actual))}{note}"]


def verdict(result: DiffResult) -> str:
    t = result.totals()
    n = len(result.streams)
    differing = sum(1 for s in result.streams if not s.is_same)
    if result.same:
        return f"same: {n} stream{'s' if n != 1 else ''}, {t['same']} entries compared"
    moved = f", {t['moved']} moved" if t["moved"] else ""
    return (
        f"differs: {differing} of {n} stream{'s' if n != 1 else ''} "
        f"({t['changed']} changed, {t['missing']} missing, {t['extra']} extra{moved}; {t['same']} same)"
    )


__all__ = [
    "entry_label",
    "field_label",
    "field_lines",
    "fields_line",
    "render_text",
    "rules_line",
    "show_bytes",
    "strip_ansi",
    "verdict",
]
