"""What a diff found: per stream, counts and the differences themselves.

:meth:`DiffResult.to_dict` is the ``--json`` form and :meth:`DiffResult.from_dict` reads
it back; the terminal, HTML and JSON renderers are in :mod:`xtape.report`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from xtape.diff.compare import FieldDiff, Item, PathDiff
from xtape.diff.rules import DiffRules
from xtape.timeline import bytes_from_json, bytes_to_json, display_name


@dataclass(frozen=True, slots=True)
class EntryDiff:
    """One difference between the streams: an expected entry with no counterpart
    (``missing``), an actual entry with none (``extra``), a pair that differs
    (``changed``, with the field-level ``fields``), or an equal entry at another
    position (``moved``: both positions in the items)."""

    kind: str
    expected: Item | None
    actual: Item | None
    fields: tuple[FieldDiff, ...] = ()

    @property
    def position(self) -> int:
        """The entry's 0-based position in its stream (the expected side's if paired)."""
        item = self.expected if self.expected is not None else self.actual
        assert item is not None
        return item[0]

    def sort_key(self) -> tuple[int, int]:
        e = self.expected[0] if self.expected is not None else -1
        a = self.actual[0] if self.actual is not None else -1
        return (e if e >= 0 else a, a)


@dataclass
class StreamResult:
    """One stream's comparison. ``differences`` holds the first ``max_reported`` in
    position order; the counts are exact. ``name`` is the stream's name as Redis has it
    (raw bytes, like every name xtape handles); :attr:`display_name` is it as text."""

    name: bytes
    expected: int = 0
    actual: int = 0
    same: int = 0
    changed: int = 0
    missing: int = 0
    extra: int = 0
    #: Entries found at another position (a missing entry equal to an extra one; strict order).
    moved: int = 0
    in_expected: bool = False
    in_actual: bool = False
    #: Gap records (entries the recorder lost) in the expected and the actual recording.
    gaps: list[int] = field(default_factory=lambda: [0, 0])
    differences: list[EntryDiff] = field(default_factory=list)
    #: Compared in a pass of its own (its entries were too far apart in the two files).
    own_pass: bool = False
    #: The codec its payloads were decoded with (None: compared as fields).
    codec: str | None = None

    @property
    def display_name(self) -> str:
        """The name as text to show: UTF-8, with control characters and bytes that are
        not UTF-8 escaped (the form of the text and HTML reports)."""
        return display_name(self.name)

    @property
    def is_same(self) -> bool:
        return not (self.changed or self.missing or self.extra or self.moved)

    @property
    def status(self) -> str:
        if self.is_same:
            return "same"
        if not self.in_actual:
            return "missing stream"
        if not self.in_expected:
            return "extra stream"
        return "differs"

    @property
    def unreported(self) -> int:
        return self.changed + self.missing + self.extra + self.moved - len(self.differences)


@dataclass
class DiffResult:
    """The comparison of two recordings (or a recording and live streams)."""

    expected: str
    actual: str
    rules: DiffRules
    streams: list[StreamResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Shown with each changed entry when the rules have no ``match_by``: the field (or
    #: FIELD.path) that names an entry (a regression case's ``correlate_by``).
    key_by: str | None = None
    #: What the codec resolver chose, one line per stream (``codec for stream ...``).
    codec_lines: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return all(s.is_same for s in self.streams)

    def stream(self, name: str | bytes) -> StreamResult:
        """The result of the stream ``name`` (text is taken as UTF-8); KeyError if the
        comparison had no such stream."""
        raw = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
        for result in self.streams:
            if result.name == raw:
                return result
        raise KeyError(name)

    def totals(self) -> dict[str, int]:
        keys = ("expected", "actual", "same", "changed", "missing", "extra", "moved")
        return {k: sum(getattr(s, k) for s in self.streams) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` form (names and values as text where UTF-8, else base64)."""
        return {
            "expected": self.expected,
            "actual": self.actual,
            "same": self.same,
            "totals": self.totals(),
            "rules": self.rules.to_dict(),
            "warnings": list(self.warnings),
            "streams": [_stream_dict(s) for s in self.streams],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiffResult:
        """A result from its :meth:`to_dict` form (the ``--json`` output read back)."""
        return cls(
            expected=str(data["expected"]),
            actual=str(data["actual"]),
            rules=DiffRules.from_mapping(data.get("rules") or {}, where="a diff report"),
            streams=[_stream_from(s) for s in data.get("streams", ())],
            warnings=[str(w) for w in data.get("warnings", ())],
        )


def _item_dict(item: Item | None) -> dict[str, Any] | None:
    if item is None:
        return None
    flat: Sequence[bytes] = item[2]
    return {
        "position": item[0],
        "id": bytes_to_json(item[1]),
        "fields": [[bytes_to_json(flat[i]), bytes_to_json(flat[i + 1])] for i in range(0, len(flat) - 1, 2)],
    }


def _opt(value: bytes | None) -> Any:
    return None if value is None else bytes_to_json(value)


def field_dict(d: FieldDiff) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": d.kind}
    if d.name is not None:
        out["field"] = bytes_to_json(d.name)
        out["occurrence"] = d.occurrence
    if d.expected is not None or d.kind in ("changed", "missing"):
        out["expected"] = _opt(d.expected)
    if d.actual is not None or d.kind in ("changed", "extra"):
        out["actual"] = _opt(d.actual)
    if d.note:
        out["note"] = d.note
    if d.paths:
        out["paths"] = [
            {"path": p.path, "kind": p.kind, "expected": p.expected, "actual": p.actual, **({"note": p.note} if p.note else {})}
            for p in d.paths
        ]
    return out


def _stream_dict(s: StreamResult) -> dict[str, Any]:
    return {
        "stream": bytes_to_json(s.name),
        "status": s.status,
        "expected": s.expected,
        "actual": s.actual,
        "same": s.same,
        "changed": s.changed,
        "missing": s.missing,
        "extra": s.extra,
        "moved": s.moved,
        "gaps": {"expected": s.gaps[0], "actual": s.gaps[1]},
        "unreported": s.unreported,
        "codec": s.codec,
        "differences": [
            {
                "kind": d.kind,
                "expected": _item_dict(d.expected),
                "actual": _item_dict(d.actual),
                "fields": [field_dict(f) for f in d.fields],
            }
            for d in s.differences
        ],
    }


def _item_from(data: Mapping[str, Any] | None) -> Item | None:
    if data is None:
        return None
    flat = [bytes_from_json(part) for pair in data["fields"] for part in pair]
    return (int(data["position"]), bytes_from_json(data["id"]), flat)


def _bytes_or_none(data: Mapping[str, Any], key: str) -> bytes | None:
    value = data.get(key)
    return None if value is None else bytes_from_json(value)


def field_from(data: Mapping[str, Any]) -> FieldDiff:
    """The inverse of :func:`field_dict`."""
    return FieldDiff(
        kind=str(data["kind"]),
        name=_bytes_or_none(data, "field"),
        occurrence=int(data.get("occurrence", 0)),
        expected=_bytes_or_none(data, "expected"),
        actual=_bytes_or_none(data, "actual"),
        note=str(data.get("note", "")),
        paths=tuple(
            PathDiff(p["path"], p["kind"], p["expected"], p["actual"], p.get("note", "")) for p in data.get("paths", ())
        ),
    )


def _stream_from(data: Mapping[str, Any]) -> StreamResult:
    status = data["status"]
    return StreamResult(
        name=bytes_from_json(data["stream"]),
        expected=int(data["expected"]),
        actual=int(data["actual"]),
        same=int(data["same"]),
        changed=int(data["changed"]),
        missing=int(data["missing"]),
        extra=int(data["extra"]),
        moved=int(data["moved"]),
        in_expected=status != "extra stream",
        in_actual=status != "missing stream",
        gaps=[int(data["gaps"]["expected"]), int(data["gaps"]["actual"])],
        differences=[
            EntryDiff(
                kind=str(d["kind"]),
                expected=_item_from(d["expected"]),
                actual=_item_from(d["actual"]),
                fields=tuple(field_from(f) for f in d["fields"]),
            )
            for d in data.get("differences", ())
        ],
        codec=data.get("codec"),
    )


__all__ = ["DiffResult", "EntryDiff", "StreamResult", "field_dict", "field_from"]
