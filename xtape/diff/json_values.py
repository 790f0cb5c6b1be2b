"""JSON values as a diff compares them: parsed with exact decimals, walked path by path
with ignored paths and tolerances (:class:`JsonRules`), written back as compact text."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xtape.diff.tolerance import Tolerance


@dataclass(frozen=True, slots=True)
class PathDiff:
    """A difference inside a JSON field: ``path`` like ``payload.items[2].qty``; values
    as JSON text (None where the key or element is absent)."""

    path: str
    kind: str  # changed | missing | extra
    expected: str | None
    actual: str | None
    note: str = ""


class _Const:
    """``NaN``/``Infinity`` in JSON: equal to itself by name (a float NaN is not)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Const) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("json-const", self.name))

    def __repr__(self) -> str:
        return self.name


NOT_JSON = object()


def parse_json(value: bytes) -> Any:
    """A field value as JSON (floats as exact decimals), or ``NOT_JSON``."""
    try:
        return json.loads(value, parse_float=Decimal, parse_constant=_Const)
    except (ValueError, RecursionError):
        return NOT_JSON


def json_text(value: Any) -> str:
    """A parsed JSON value back as compact JSON text (numbers as they were written)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, _Const):
        return value.name
    if isinstance(value, bytes):  # a decoded value that is not text
        try:
            return json.dumps(value.decode("utf-8"), ensure_ascii=False)
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(value).decode("ascii")
    return json.dumps(value, ensure_ascii=False)


def path_pattern(pattern: str) -> re.Pattern[str]:
    """A path glob (``meta.ts``, ``items[*].id``, ``meta.*``) as a regex over paths."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("[*]", i):
            out.append(r"\[\d+\]")
            i += 3
        elif pattern[i] == "*":
            out.append(r"[^.\[]*")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


class JsonRules:
    """Ignore paths and tolerances inside one JSON field."""

    def __init__(self, ignore: Sequence[str], tolerances: Sequence[tuple[str, Tolerance]]) -> None:
        self.ignore = [path_pattern(p) for p in ignore]
        self.tolerances = [(path_pattern(p), t) for p, t in tolerances]

    def ignored(self, path: str) -> bool:
        return any(p.match(path) for p in self.ignore)

    def tolerance(self, path: str) -> Tolerance | None:
        for pattern, tol in self.tolerances:
            if pattern.match(path):
                return tol
        return None


def is_number(value: Any) -> bool:
    return type(value) in (int, Decimal, float)


def exact_decimal(value: Any) -> Decimal:
    """A number as an exact decimal (a float as the shortest text that reads back as it)."""
    return Decimal(repr(value)) if type(value) is float else Decimal(value)


def _leaf_equal(e: Any, a: Any) -> bool:
    if type(e) is bool or type(a) is bool:
        return type(e) is type(a) and e == a
    if is_number(e) and is_number(a):
        return bool(exact_decimal(e) == exact_decimal(a))
    return type(e) is type(a) and bool(e == a)



#: A key or index one side of a JSON value does not have.
_ABSENT = object()


def _children(e: Any, a: Any) -> list[tuple[str | int, Any, Any]] | None:
    """Two objects' keys (the expected's, then those only the actual has) or two arrays'
    indexes, each with both sides' values (:data:`_ABSENT` where a side has none); None
    for anything else (a leaf)."""
    if isinstance(e, dict) and isinstance(a, dict):
        return [(k, v, a.get(k, _ABSENT)) for k, v in e.items()] + [(k, _ABSENT, v) for k, v in a.items() if k not in e]
    if isinstance(e, list) and isinstance(a, list):
        return [
            (i, e[i] if i < len(e) else _ABSENT, a[i] if i < len(a) else _ABSENT) for i in range(max(len(e), len(a)))
        ]
    return None


def _leaf_diff(jr: JsonRules, path: str, e: Any, a: Any, out: list[PathDiff]) -> None:
    """Two JSON leaves: equal, within the path's tolerance, or a ``changed`` difference."""
    if _leaf_equal(e, a):
        return
    note = ""
    if is_number(e) and is_number(a):
        tol = jr.tolerance(path)
        if tol is not None:
            if tol.allows(exact_decimal(e), exact_decimal(a)):
                return
            note = f"differs by {signed_text(exact_decimal(a) - exact_decimal(e))}, beyond the tolerance {tol}"
    out.append(PathDiff(path, "changed", json_text(e), json_text(a), note))


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def walk(jr: JsonRules, path: str, e: Any, a: Any, out: list[PathDiff]) -> None:
    """The differences between two parsed JSON values, below ``path``, into ``out``."""
    if path and jr.ignored(path):
        return
    children = _children(e, a)
    if children is None:
        _leaf_diff(jr, path, e, a, out)
        return
    for key, ev, av in children:
        child = child_path(path, key)
        if ev is not _ABSENT and av is not _ABSENT:
            walk(jr, child, ev, av, out)
        elif jr.ignored(child):
            continue
        elif av is _ABSENT:
            out.append(PathDiff(child, "missing", json_text(ev), None))
        else:
            out.append(PathDiff(child, "extra", None, json_text(av)))


def lookup_path(value: Any, path: str) -> Any:
    """The value at ``path`` (``a.b[2].c``) inside a parsed or decoded value, or ``NOT_JSON``."""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("[") and isinstance(value, list):
            idx = int(part[1:-1])
            value = value[idx] if idx < len(value) else NOT_JSON
        elif isinstance(value, dict):
            value = value.get(part, NOT_JSON)
        else:
            return NOT_JSON
    return value


def canonical(jr: JsonRules, path: str, value: Any) -> Any:
    if isinstance(value, dict):
        items = []
        for k in sorted(value):
            child = child_path(path, k)
            if not jr.ignored(child):
                items.append((k, canonical(jr, child, value[k])))
        return ("{", tuple(items))
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            child = child_path(path, i)
            out.append(None if jr.ignored(child) else canonical(jr, child, v))
        return ("[", tuple(out))
    if type(value) is bool:
        return ("bool", value)
    if is_number(value):
        if jr.tolerance(path) is not None:
            return None
        return exact_decimal(value) if type(value) is float else value
    return value


def signed_text(value: Decimal) -> str:
    return format(value.normalize() if value else Decimal(0), "+f")


__all__ = [
    "NOT_JSON",
    "JsonRules",
    "PathDiff",
    "canonical",
    "child_path",
    "exact_decimal",
    "is_number",
    "json_text",
    "lookup_path",
    "parse_json",
    "path_pattern",
    "signed_text",
    "walk",
]
