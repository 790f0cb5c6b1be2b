"""Two entries compared under :class:`~xtape.diff.rules.DiffRules`: field by field, bytes
exact, with ignored fields, numeric tolerances and JSON-valued fields.

Fields are compared by name and occurrence (the second ``a`` with the second ``a``), so
duplicate names are compared exactly; unless ``ignore_field_order``, the order of the
fields counts too. A JSON field is compared as parsed JSON (objects without regard to
key order, numbers as exact decimals), with paths inside it ignored or given a tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from xtape.codecs import Codec, CodecFailed, Message
from xtape.diff.json_values import (
    NOT_JSON,
    JsonRules,
    PathDiff,
    canonical,
    json_text,
    lookup_path,
    parse_json,
    path_pattern,
    signed_text,
    walk,
)
from xtape.diff.rules import DiffRules, Tolerance, parse_number
from xtape.ids import id_ms
from xtape.timeline import display_name, pair_fields
from xtape.units import match_any

#: ``(position in its stream, entry id, flat fields)``: one entry as the diff holds it.
Item = tuple[int, bytes, Sequence[bytes]]


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One difference between two paired entries.

    ``kind``: ``changed`` (a value differs), ``missing`` (a field of the expected entry
    is absent), ``extra`` (a field only the actual entry has), ``order`` (same fields,
    another order), ``id`` (with ``compare_ids``), ``time`` (with ``compare_times``).
    ``occurrence`` counts from 0 among the fields of that name (duplicates).
    """

    kind: str
    name: bytes | None = None
    occurrence: int = 0
    expected: bytes | None = None
    actual: bytes | None = None
    note: str = ""
    paths: tuple[PathDiff, ...] = ()


@dataclass(frozen=True, slots=True)
class _FieldRule:
    ignored: bool
    tolerance: Tolerance | None
    #: The JSON field's name as the rules give it, when the field is JSON-valued.
    json: str | None
    #: Compared by presence only (``presence_fields``).
    presence: bool = False


class Comparer:
    """Compares entries under one set of rules; caches what it learns per field name.

    With a ``codec`` (the stream's, from :class:`~xtape.codecs.CodecResolver`), entries
    it decodes are compared as decoded values: paths into the body (``total``,
    ``lines[3].line_total``) and the headers (``headers.correlation_id``); ignore paths
    and tolerances that name no JSON field apply to those paths. An entry the codec
    cannot decode is compared field by field as without one.
    """

    def __init__(self, rules: DiffRules, codec: Codec | None = None) -> None:
        self.rules = rules
        self.codec = codec
        self._rules: dict[bytes, _FieldRule] = {}
        self._json: dict[str, JsonRules] = {}
        json_tols: dict[str, list[tuple[str, Tolerance]]] = {}
        self._field_tols: list[tuple[str, Tolerance]] = []
        for key, tol in rules.tolerances.items():
            assert isinstance(tol, Tolerance)
            owner = self._json_owner(key)
            if owner is not None:
                json_tols.setdefault(owner[0], []).append((owner[1], tol))
            else:
                self._field_tols.append((key, tol))
        paths = rules.paths
        for name in rules.json_fields:
            self._json[name] = JsonRules(paths.get(name, ()), json_tols.get(name, ()))
        #: Paths into decoded payloads: ignored ones (and ignored field globs), tolerances.
        self._decoded = JsonRules(
            (*paths.get("", ()), *rules.ignore_fields), self._field_tols
        )
        #: Only ignored fields could make raw-different entries equal: compare projections.
        self.simple = (
            not rules.tolerances
            and not rules.json_fields
            and not rules.ignore_field_order
            and not rules.presence_fields
            and codec is None
        )
        self.bases: tuple[int, int] = (0, 0)
        #: The time tolerance in the unit entry times are compared in (ids' ms).
        self.time_tolerance_ms = rules.time_tolerance * 1000
        self._keep: dict[Sequence[bytes], Callable[[Sequence[bytes]], Any]] = {}
        self._match = self._match_key(rules.match_by)

    def _json_owner(self, key: str) -> tuple[str, str] | None:
        for name in sorted(self.rules.json_fields, key=len, reverse=True):
            if key.startswith(name) and key[len(name) : len(name) + 1] in (".", "["):
                return name, key[len(name) :].lstrip(".")
        return None

    def rule(self, name: bytes) -> _FieldRule:
        found = self._rules.get(name)
        if found is None:
            r = self.rules
            ignored = bool(r.ignore_fields) and match_any(name, r.ignore_fields)
            tol = next((t for g, t in self._field_tols if match_any(name, (g,))), None)
            text = name.decode("utf-8", "surrogateescape")
            json_name = next((j for j in r.json_fields if match_any(name, (j,))), None)
            if json_name is not None and text in self._json:
                json_name = text
            presence = bool(r.presence_fields) and match_any(name, r.presence_fields)
            found = _FieldRule(ignored, tol, json_name, presence)
            if len(self._rules) < 10_000:
                self._rules[name] = found
        return found

    def _kept(self, names: Sequence[bytes]) -> Callable[[Sequence[bytes]], Any]:
        """A getter of the compared names and values of entries with these field names."""
        indices = [j for i, n in enumerate(names) if not self.rule(n).ignored for j in (2 * i, 2 * i + 1)]
        keep: Callable[[Sequence[bytes]], Any] = itemgetter(*indices) if indices else _nothing
        if len(self._keep) < 10_000:
            self._keep[tuple(names)] = keep
        return keep

    def project(self, flat: Sequence[bytes]) -> list[tuple[bytes, bytes]]:
        """The fields that are compared (ignored ones left out), as pairs."""
        it = iter(flat)
        if not self.rules.ignore_fields:
            return list(zip(it, it, strict=True))
        rule = self.rule
        return [(n, v) for n, v in zip(it, it, strict=True) if not rule(n).ignored]

    # -- equality ---------------------------------------------------------------------

    def diff(self, e: Item, a: Item) -> list[FieldDiff]:
        """Every difference between two entries (empty: they are the same under the rules)."""
        out: list[FieldDiff] = []
        r = self.rules
        if r.compare_ids and e[1] != a[1]:
            out.append(FieldDiff("id", expected=e[1], actual=a[1]))
        if r.compare_times:
            te = id_ms(e[1]) - self.bases[0]
            ta = id_ms(a[1]) - self.bases[1]
            if abs(te - ta) > self.time_tolerance_ms:
                out.append(
                    FieldDiff(
                        "time",
                        expected=str(te).encode(),
                        actual=str(ta).encode(),
                        note=f"at +{te} ms from the start, now +{ta} ms ({ta - te:+} ms)",
                    )
                )
        ef, af = e[2], a[2]
        if ef == af:
            return out
        if self.codec is not None:
            me, ma = self.decode(ef), self.decode(af)
            if me is not None and ma is not None:
                out.extend(self.decoded_diff(me, ma))
                return out
        if self.simple:
            names = ef[0::2]
            if names == af[0::2]:
                keep = self._keep.get(names)
                if keep is None:
                    keep = self._kept(names)
                if keep(ef) == keep(af):
                    return out
        pe, pa = self.project(ef), self.project(af)
        if pe == pa:
            return out
        out.extend(self.fields_diff(pe, pa))
        return out

    def same(self, e: Item, a: Item) -> bool:
        """Whether two entries are the same under the rules: what ``not diff(e, a)``
        says, without building the differences (pairing asks this far more often than
        it reports; the differences are built only for those reported)."""
        r = self.rules
        if r.compare_ids and e[1] != a[1]:
            return False
        if r.compare_times:
            te = id_ms(e[1]) - self.bases[0]
            ta = id_ms(a[1]) - self.bases[1]
            if abs(te - ta) > self.time_tolerance_ms:
                return False
        ef, af = e[2], a[2]
        if ef == af:
            return True
        if self.signature(ef) != self.signature(af):
            return False  # (equal entries have equal signatures)
        if self.simple:
            return True  # (and here equal signatures are equal entries)
        if self.codec is not None:
            return not self.diff(e, a)  # (decoded payloads: their own comparison)
        return not self.fields_diff(self.project(ef), self.project(af))

    def fields_diff(self, pe: list[tuple[bytes, bytes]], pa: list[tuple[bytes, bytes]]) -> list[FieldDiff]:
        ge: dict[bytes, list[bytes]] = {}
        ga: dict[bytes, list[bytes]] = {}
        for n, v in pe:
            ge.setdefault(n, []).append(v)
        for n, v in pa:
            ga.setdefault(n, []).append(v)
        out: list[FieldDiff] = []
        names = list(ge) + [n for n in ga if n not in ge]
        for name in names:
            ve = ge.get(name, [])
            va = ga.get(name, [])
            for i in range(max(len(ve), len(va))):
                if i >= len(va):
                    out.append(FieldDiff("missing", name, i, expected=ve[i]))
                elif i >= len(ve):
                    out.append(FieldDiff("extra", name, i, actual=va[i]))
                else:
                    d = self.value_diff(name, i, ve[i], va[i])
                    if d is not None:
                        out.append(d)
        if not self.rules.ignore_field_order:
            seq_e = _occurrences([n for n, _ in pe], ga)
            seq_a = _occurrences([n for n, _ in pa], ge)
            if seq_e != seq_a:
                shown_e = ", ".join(display_name(n) for n, _ in seq_e)
                shown_a = ", ".join(display_name(n) for n, _ in seq_a)
                out.append(FieldDiff("order", note=f"fields in another order: {shown_e} -> {shown_a}"))
        return out

    def value_diff(self, name: bytes, occurrence: int, ve: bytes, va: bytes) -> FieldDiff | None:
        """How two values of a field differ, or None if they are equal under the rules."""
        if ve == va:
            return None
        rule = self.rule(name)
        if rule.presence:
            return None
        if rule.json is not None:
            je, ja = parse_json(ve), parse_json(va)
            if je is not NOT_JSON and ja is not NOT_JSON:
                jr = self._json[rule.json] if rule.json in self._json else JsonRules((), ())
                paths: list[PathDiff] = []
                walk(jr, "", je, ja, paths)
                if not paths:
                    return None
                return FieldDiff("changed", name, occurrence, ve, va, paths=tuple(paths))
            bad = "expected" if je is NOT_JSON else "actual"
            if je is NOT_JSON and ja is NOT_JSON:
                bad = "both values"
            return FieldDiff("changed", name, occurrence, ve, va, note=f"not JSON ({bad})")
        if rule.tolerance is not None:
            ne, na = parse_number(ve), parse_number(va)
            if ne is not None and na is not None:
                if rule.tolerance.allows(ne, na):
                    return None
                return FieldDiff(
                    "changed", name, occurrence, ve, va,
                    note=f"differs by {signed_text(na - ne)}, beyond the tolerance {rule.tolerance}",
                )
            return FieldDiff("changed", name, occurrence, ve, va, note="not a number")
        return FieldDiff("changed", name, occurrence, ve, va)

    def decode(self, flat: Sequence[bytes]) -> Message | None:
        """An entry decoded by the stream's codec (None: no codec, or not its format)."""
        if self.codec is None:
            return None
        try:
            return self.codec.decode(pair_fields(flat))
        except (CodecFailed, RecursionError, ValueError):
            return None

    def decoded_diff(self, e: Message, a: Message) -> list[FieldDiff]:
        """How two decoded payloads differ: one ``decoded`` difference listing the paths."""
        paths: list[PathDiff] = []
        walk(self._decoded, "", e.body, a.body, paths)
        if e.headers is not None or a.headers is not None:
            walk(self._decoded, "headers", dict(e.headers or {}), dict(a.headers or {}), paths)
        if not paths:
            return []
        assert self.codec is not None
        return [FieldDiff("decoded", note=self.codec.name, paths=tuple(paths))]

    # -- hashing (pairing candidates) -------------------------------------------------------

    def signature(self, flat: Sequence[bytes]) -> Any:
        """A hashable form of an entry's compared content: entries the rules call equal
        have equal signatures (values under a tolerance are left out, so equal signatures
        still need :meth:`diff` to confirm)."""
        if self.simple:
            if not self.rules.ignore_fields:
                return flat if type(flat) is tuple else tuple(flat)
            names = flat[0::2]
            keep = self._keep.get(names)
            if keep is None:
                keep = self._kept(names)
            return keep(flat)
        decoded = self.decode(flat)
        if decoded is not None:
            jr = self._decoded
            headers = None if decoded.headers is None else canonical(jr, "headers", dict(decoded.headers))
            return ("decoded", canonical(jr, "", decoded.body), headers)
        items: list[tuple[bytes, Any]] = []
        for name, value in self.project(flat):
            rule = self.rule(name)
            v: Any = value
            if rule.presence:
                v = None
            elif rule.json is not None:
                parsed = parse_json(value)
                if parsed is not NOT_JSON:
                    jr = self._json.get(rule.json) or JsonRules((), ())
                    v = ("json", canonical(jr, "", parsed))
            elif rule.tolerance is not None and parse_number(value) is not None:
                v = None
            items.append((name, v))
        if self.rules.ignore_field_order:
            items.sort(key=lambda p: p[0])
        return tuple(items)

    def _match_key(self, spec: str | None) -> Any:
        if spec is None:
            return None
        owner = self._json_owner(spec)
        if owner is None:
            return (spec.encode("utf-8", "surrogateescape"), None)
        return (owner[0].encode("utf-8", "surrogateescape"), owner[1])

    def key(self, flat: Sequence[bytes]) -> Any:
        """The ``match_by`` value of an entry (None when it has none)."""
        name, inner = self._match
        if inner is None and self.codec is not None:
            decoded = self.decode(flat)
            if decoded is not None:
                where = decoded.to_value() if name.startswith(b"headers") else decoded.body
                found = lookup_path(where, name.decode("utf-8", "surrogateescape"))
                if found is not NOT_JSON:
                    return ("json", canonical(JsonRules((), ()), "", found))
        for i in range(0, len(flat) - 1, 2):
            if flat[i] == name:
                value = flat[i + 1]
                if inner is None:
                    return value
                parsed = lookup_path(parse_json(value), inner)
                if parsed is NOT_JSON:
                    return None
                return ("json", canonical(JsonRules((), ()), "", parsed))
        return None


def key_reader(spec: str, codec: Codec | None = None) -> Callable[[Sequence[bytes]], Any]:
    """The ``match_by``/``correlate_by`` value of an entry (None when it has none): the
    field ``spec``, or the path in the payload ``codec`` decodes, else ``FIELD.path``
    inside a JSON field (as :meth:`Comparer.key` returns it)."""
    plain = Comparer(DiffRules(match_by=spec), codec)
    head = spec.split(".", 1)[0].split("[", 1)[0]
    inner = Comparer(DiffRules(match_by=spec, json_fields=(head,))) if head != spec else None

    def key(flat: Sequence[bytes]) -> Any:
        found = plain.key(flat)
        if found is None and inner is not None:
            found = inner.key(flat)
        return found

    return key


def _nothing(flat: Sequence[bytes]) -> tuple[()]:
    return ()


def _occurrences(names: list[bytes], other: dict[bytes, list[bytes]]) -> list[tuple[bytes, int]]:
    """``(name, occurrence)`` in order, keeping only those the other side has too."""
    seen: dict[bytes, int] = {}
    out = []
    for n in names:
        i = seen.get(n, 0)
        seen[n] = i + 1
        if i < len(other.get(n, ())):
            out.append((n, i))
    return out


__all__ = ["Comparer", "FieldDiff", "Item", "PathDiff", "json_text", "key_reader", "parse_json", "path_pattern"]
