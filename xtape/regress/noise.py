"""Noise, found rather than guessed: what differs between two runs of a service on the
same input (generated ids, timestamps, a framework's correlation ids).

    noise = find_noise([run1, run2])          # [("ts", ""), ("payload", "meta.id")]
    rules = apply_noise(case.rules, noise)    # ignore_fields / json_fields+ignore_paths

Entries are paired per stream by order (or by the rules' ``match_by``). When the stream's
codec (the rules' ``codecs``, else detected, as the diff chooses it) decodes both entries,
the paths of the decoded payloads that differ are noise (``("", "headers.correlation_id")``,
ignored as the diff's paths into decoded payloads). Otherwise a field whose values differ
is noise as a whole, unless both values are JSON structures: then the paths inside that
differ are (list positions generalised: ``lines[*].id``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from xtape.codecs import CodecResolver
from xtape.diff import DiffRules
from xtape.diff.compare import Comparer, parse_json
from xtape.regress.golden import entries_by_stream
from xtape.timeline import pair_fields

#: One piece of noise: a field name and a path inside its decoded value ("": the whole).
Noise = tuple[str, str]

_NOT_DECODED: Any = object()
#: Values at least this long that differ only in a part are payloads, not noise.
_OPAQUE_MIN = 64


def decode_value(stream: bytes, name: bytes, value: bytes) -> Any:
    """A field's value as a structure to walk (a dict or list), or ``_NOT_DECODED``.

    The seam for payload codecs: today JSON objects and arrays; a codec chosen for the
    stream (FastStream's envelope, msgpack...) decodes here once it exists."""
    if value[:1] not in (b"{", b"["):
        return _NOT_DECODED
    parsed = parse_json(value)
    return parsed if isinstance(parsed, (dict, list)) else _NOT_DECODED


def find_noise(
    runs: Sequence[str | Path], rules: DiffRules | None = None, unresolved: set[str] | None = None
) -> list[Noise]:
    """Every field (path) whose value differed between the first run and another, for
    entries paired per stream; sorted.

    A long opaque value of which only a small part differed (an envelope with a random id
    inside, JSON text inside a JSON string) is *not* noise: ignoring it would ignore the
    whole payload. Its field (path) goes into ``unresolved`` instead, for the caller to
    say (a codec that decodes it makes its inner paths comparable)."""
    rules = rules or DiffRules()
    keyer = Comparer(rules) if rules.match_by else None
    found: set[Noise] = set()
    opaque: set[Noise] = set()
    codecs = CodecResolver(rules.codecs, detect_json=False)
    first = entries_by_stream(runs[0])
    for other in runs[1:]:
        second = entries_by_stream(other)
        for stream, left in first.items():
            right = second.get(stream, [])
            for a, b in _pairs(left, right, keyer):
                if not _decoded(codecs, stream, a, b, found, opaque):
                    _fields(stream, a, b, found, opaque)
    if unresolved is not None:
        unresolved.update(shown(sorted(opaque - found)))
    return sorted(found)


def _decoded(
    codecs: CodecResolver, stream: bytes, a: list[bytes], b: list[bytes], found: set[Noise], opaque: set[Noise]
) -> bool:
    """Noise between two entries the stream's codec decodes (False: it decodes neither)."""
    da, db = codecs.decode(stream, pair_fields(a)), codecs.decode(stream, pair_fields(b))
    if da is None or db is None:
        return False
    _walk("", "", da[1].body, db[1].body, found, opaque)
    if da[1].headers is not None or db[1].headers is not None:
        _walk("", "headers", dict(da[1].headers or {}), dict(db[1].headers or {}), found, opaque)
    return True


def _pairs(
    left: list[tuple[bytes, list[bytes]]], right: list[tuple[bytes, list[bytes]]], keyer: Comparer | None
) -> Iterable[tuple[list[bytes], list[bytes]]]:
    if keyer is None:
        return ((a[1], b[1]) for a, b in zip(left, right, strict=False))
    by_key: dict[Any, list[list[bytes]]] = {}
    for _, flat in right:
        by_key.setdefault(keyer.key(flat), []).append(flat)
    out = []
    for _, flat in left:
        bucket = by_key.get(keyer.key(flat))
        if bucket:
            out.append((flat, bucket.pop(0)))
    return out


def _partly_equal(x: bytes | str, y: bytes | str) -> bool:
    """Whether two long values are mostly the same (a random part inside a payload)."""
    if min(len(x), len(y)) < _OPAQUE_MIN:
        return False
    head = 0
    while head < min(len(x), len(y)) and x[head] == y[head]:
        head += 1
    tail = 0
    while tail < min(len(x), len(y)) - head and x[-1 - tail] == y[-1 - tail]:
        tail += 1
    return head + tail >= min(len(x), len(y)) // 2


def _fields(stream: bytes, a: list[bytes], b: list[bytes], found: set[Noise], opaque: set[Noise]) -> None:
    ga: dict[bytes, list[bytes]] = {}
    gb: dict[bytes, list[bytes]] = {}
    for i in range(0, len(a) - 1, 2):
        ga.setdefault(a[i], []).append(a[i + 1])
    for i in range(0, len(b) - 1, 2):
        gb.setdefault(b[i], []).append(b[i + 1])
    for name in {*ga, *gb}:
        text = name.decode("utf-8", "surrogateescape")
        va, vb = ga.get(name, []), gb.get(name, [])
        if len(va) != len(vb):
            found.add((text, ""))
            continue
        for x, y in zip(va, vb, strict=True):
            if x == y:
                continue
            dx, dy = decode_value(stream, name, x), decode_value(stream, name, y)
            if dx is _NOT_DECODED or dy is _NOT_DECODED:
                (opaque if _partly_equal(x, y) else found).add((text, ""))
            else:
                _walk(text, "", dx, dy, found, opaque)


def _walk(name: str, path: str, x: Any, y: Any, found: set[Noise], opaque: set[Noise]) -> None:
    if isinstance(x, dict) and isinstance(y, dict):
        for key in {*x, *y}:
            child = f"{path}.{key}" if path else str(key)
            if key in x and key in y:
                _walk(name, child, x[key], y[key], found, opaque)
            else:
                found.add((name, _general(child)))
        return
    if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (p, q) in enumerate(zip(x, y, strict=True)):
            _walk(name, f"{path}[{i}]", p, q, found, opaque)
        return
    if type(x) is not type(y) or x != y:
        partly = isinstance(x, str) and isinstance(y, str) and _partly_equal(x, y)
        (opaque if partly else found).add((name, _general(path)))


def _general(path: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", path)


def shown(noise: Iterable[Noise]) -> list[str]:
    """``ts``, ``payload.meta.id``: how noise is printed."""
    return [f"{n}.{p}" if n and p and not p.startswith("[") else f"{n}{p}" for n, p in noise]


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def apply_noise(rules: DiffRules, noise: Iterable[Noise | Sequence[str]]) -> DiffRules:
    """``rules`` with the noise ignored too (the case's own rules stay as they are)."""
    fields: list[str] = []
    paths: dict[str, list[str]] = {k: list(v) for k, v in rules.paths.items()}
    for item in noise:
        name, path = str(item[0]), str(item[1])
        if not path:
            fields.append(_glob_escape(name))
        elif path not in paths.setdefault(name, []):
            paths[name].append(path)
    if not fields and {k: tuple(v) for k, v in paths.items()} == rules.paths:
        return rules
    json_fields = (*rules.json_fields, *(n for n in paths if n and n not in rules.json_fields))
    return rules.replace(
        ignore_fields=(*rules.ignore_fields, *(f for f in fields if f not in rules.ignore_fields)),
        json_fields=json_fields,
        ignore_paths={k: tuple(v) for k, v in paths.items()},
    )


__all__ = ["Noise", "apply_noise", "decode_value", "find_noise", "shown"]
