"""What a diff compares and what it forgives: :class:`DiffRules`, from options or a file.

A rules file is YAML (or JSON) with these keys, all optional::

    streams: ["order.acc*"]          # stream globs to compare (default: every stream)
    ignore_fields: [timestamp, "trace*"]
    tolerance: {fillPrice: 0.01, qty: 1%, payload.price: 0.5}
    json_fields: [payload]
    ignore_paths: [payload.meta.ts, "payload.items[*].id", headers.correlation_id]
    codecs: {"orders*": faststream}  # see docs/codecs.md (default: envelopes detected)
    ignore_paths: [payload.meta.ts, "payload.items[*].id"]
    presence_fields: ["pass*"]       # compared by presence only, not by value
    match_by: orderId                # or payload.orderId inside a JSON field
    order: strict                    # strict | key | multiset
    compare_ids: false
    compare_times: false
    time_tolerance_ms: 0
    ignore_field_order: false
    window: 10000
    max_reported: 1000

Errors name the file and line (``rules.yaml:4: tolerance.qty: ...``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from xtape.codecs import parse_codec_options
from xtape.errors import DiffRulesError, UsageError
from xtape.yamlfile.check import Checker, MappedLines, dotted
from xtape.yamlfile.check import kind as _kind

Order = Literal["strict", "key", "multiset"]
ORDERS: tuple[str, ...] = ("strict", "key", "multiset")

#: Default match / look-ahead window, in entries per stream (see docs/diff.md, Bounds).
DEFAULT_WINDOW = 10_000
#: Default number of differences kept in detail per stream (all are counted).
DEFAULT_MAX_REPORTED = 1000

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far apart two numbers may be and still count as equal: ``amount`` absolute,
    or, if ``relative``, a fraction of the expected value (``1%`` is ``0.01``)."""

    amount: Decimal
    relative: bool = False

    @classmethod
    def parse(cls, value: object, *, what: str = "tolerance") -> Tolerance:
        """``0.01``, ``"0.01"``, ``"1%"``, ``"1e-3"`` -> a tolerance; a negative or
        non-numeric value is refused with a :class:`UsageError`."""
        if isinstance(value, Tolerance):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise UsageError(f"invalid {what} {value!r}: use a number (0.01) or a percentage (1%)")
        text = str(value).strip()
        relative = text.endswith("%")
        number = text[:-1].strip() if relative else text
        if not _NUMBER.match(number):
            raise UsageError(f"invalid {what} {value!r}: use a number (0.01) or a percentage (1%)")
        amount = Decimal(number)
        if amount < 0:
            raise UsageError(f"invalid {what} {value!r}: a tolerance cannot be negative")
        if relative:
            amount = amount / 100
        return cls(amount, relative)

    def allows(self, expected: Decimal, actual: Decimal) -> bool:
        """Whether ``actual`` is within this tolerance of ``expected`` (boundary included)."""
        limit = self.amount * abs(expected) if self.relative else self.amount
        return abs(expected - actual) <= limit

    def __str__(self) -> str:
        if self.relative:
            return f"{(self.amount * 100).normalize():f}%"
        return f"{self.amount.normalize():f}"


def parse_number(value: bytes) -> Decimal | None:
    """A field value as a decimal number, or None if it is not one (exactly, no floats)."""
    if len(value) > 100:
        return None
    try:
        text = value.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if not _NUMBER.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


@dataclass(frozen=True)
class DiffRules:
    """The rules of a comparison (see the module docstring and docs/diff.md).

    ``tolerances`` maps field-name globs (or ``FIELD.path`` inside a JSON field) to a
    :class:`Tolerance` or its text (``"0.01"``, ``"1%"``). ``ignore_paths`` maps a JSON
    field to paths inside it (``{"payload": ("meta.ts",)}``); a sequence of full paths
    (``["payload.meta.ts"]``) is accepted too. ``match_by`` implies ``order="key"``.
    """

    streams: tuple[str, ...] = ()
    ignore_fields: tuple[str, ...] = ()
    tolerances: Mapping[str, Tolerance | str | float] = field(default_factory=dict)
    json_fields: tuple[str, ...] = ()
    ignore_paths: Mapping[str, tuple[str, ...]] | Sequence[str] = field(default_factory=dict)
    match_by: str | None = None
    order: Order = "strict"
    compare_ids: bool = False
    compare_times: bool = False
    #: With ``compare_times``: how far (ms) an entry's offset from its recording's start
    #: may move.
    time_tolerance_ms: float = 0.0
    #: Compare the fields of an entry as a set of names (with each name's values in order)
    #: rather than as an ordered list.
    ignore_field_order: bool = False
    #: The match window, in entries per stream (docs/diff.md, Bounds).
    window: int = DEFAULT_WINDOW
    #: Differences kept in detail per stream; all are counted.
    max_reported: int = DEFAULT_MAX_REPORTED
    #: The codec of streams, ``(glob, name)`` in precedence order (``--codec`` first, then
    #: a case file's ``codecs:``); streams none names get one detected (envelopes only).
    codecs: tuple[tuple[str, str], ...] = ()
    #: Field globs compared by presence only (a value on each side, whatever it is):
    #: redacted fields whose two sides were redacted with different keys.
    presence_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        for name in ("streams", "ignore_fields", "json_fields", "presence_fields"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            setattr_(self, name, tuple(str(v) for v in value))
        setattr_(
            self,
            "tolerances",
            {str(k): Tolerance.parse(v, what=f"tolerance for {k!r}") for k, v in self.tolerances.items()},
        )
        setattr_(self, "ignore_paths", self._paths(self.ignore_paths))
        codecs = self.codecs.items() if isinstance(self.codecs, Mapping) else self.codecs
        setattr_(self, "codecs", tuple(codec_pairs(codecs)))
        if self.order not in ORDERS:
            raise UsageError(f"invalid order {self.order!r}: use one of {', '.join(ORDERS)}")
        if self.match_by is not None:
            if not str(self.match_by).strip():
                raise UsageError("match_by must name a field")
            if self.order == "multiset":
                raise UsageError("match_by and order multiset (--unordered) exclude each other")
            setattr_(self, "order", "key")
        elif self.order == "key":
            raise UsageError("order key needs match_by (the field that pairs entries)")
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
            raise UsageError(f"invalid window {self.window!r}: use a whole number of entries above zero")
        if isinstance(self.max_reported, bool) or not isinstance(self.max_reported, int) or self.max_reported < 0:
            raise UsageError(f"invalid max_reported {self.max_reported!r}: use a whole number >= 0")
        try:
            tol = float(self.time_tolerance_ms)
        except (TypeError, ValueError):
            tol = -1.0
        if not tol >= 0:
            raise UsageError(f"invalid time_tolerance_ms {self.time_tolerance_ms!r}: use a number of ms >= 0")
        setattr_(self, "time_tolerance_ms", tol)

    def _paths(self, value: Mapping[str, Any] | Sequence[str]) -> dict[str, tuple[str, ...]]:
        if isinstance(value, Mapping):
            out: dict[str, tuple[str, ...]] = {}
            for key, paths in value.items():
                items = (paths,) if isinstance(paths, str) else tuple(paths)
                out[str(key)] = tuple(str(p) for p in items)
            return out
        grouped: dict[str, list[str]] = {}
        for full in ((value,) if isinstance(value, str) else value):
            name, inner = self.split_path(str(full))
            grouped.setdefault(name, []).append(inner)
        return {k: tuple(v) for k, v in grouped.items()}

    def split_path(self, full: str) -> tuple[str, str]:
        """``payload.meta.ts`` -> ``("payload", "meta.ts")``: the JSON field (the longest
        of :attr:`json_fields` that prefixes it) and the path inside; a path under no JSON
        field is a path into decoded payloads (a stream's codec): ``("", path)``."""
        for name in sorted(self.json_fields, key=len, reverse=True):
            if full.startswith(name) and full[len(name) : len(name) + 1] in (".", "["):
                return name, full[len(name) :].lstrip(".")
        if not full.strip():
            raise UsageError("invalid ignore_paths entry '': name a path, e.g. headers.correlation_id")
        return "", full

    @property
    def paths(self) -> dict[str, tuple[str, ...]]:
        """:attr:`ignore_paths` as normalised: JSON field -> paths inside it."""
        return dict(self.ignore_paths)  # type: ignore[arg-type]

    def replace(self, **changes: Any) -> DiffRules:
        """A copy with some rules changed. Dropping ``match_by`` (``match_by=None``)
        drops the ``key`` order it implied too (back to ``strict``), unless ``order``
        is given."""
        if "match_by" in changes and changes["match_by"] is None and "order" not in changes and self.order == "key":
            changes["order"] = "strict"
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The rules as a rules file would say them (for reports)."""
        return {
            "streams": list(self.streams),
            "ignore_fields": list(self.ignore_fields),
            "tolerance": {k: str(v) for k, v in self.tolerances.items()},
            "json_fields": list(self.json_fields),
            "ignore_paths": {k: list(v) for k, v in self.paths.items()},
            "match_by": self.match_by,
            "order": self.order,
            "compare_ids": self.compare_ids,
            "compare_times": self.compare_times,
            "time_tolerance_ms": self.time_tolerance_ms,
            "ignore_field_order": self.ignore_field_order,
            "window": self.window,
            "max_reported": self.max_reported,
            "codecs": dict(self.codecs),
            "presence_fields": list(self.presence_fields),
        }

    # -- from files ------------------------------------------------------------------

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        where: str,
        lines: Mapping[tuple[object, ...], int] | None = None,
        base: tuple[object, ...] = (),
    ) -> DiffRules:
        """Rules from a mapping (a rules file, or the ``diff:`` section of a regression
        case). Errors are :class:`DiffRulesError` naming ``where`` and, when ``lines``
        (key path -> line, as :func:`xtape.yamlfile.load.load_yaml` gives) is known,
        the line; ``base`` is the mapping's own key path in that file."""

        check = Checker(where, MappedLines(lines), DiffRulesError, name=dotted, base=base)
        if not isinstance(data, Mapping):
            raise check.problem((), f"expected a mapping of rules, got {_kind(data)}")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            read = _READERS.get(key)
            if read is None:
                raise check.problem((key,), f"unknown key (known: {', '.join(_KNOWN)})")
            try:
                read(kwargs, key, value)
            except _Refused as exc:
                raise check.problem((key, *exc.loc), exc.message) from None
            except UsageError as exc:
                raise check.problem((key,), str(exc)) from None
        try:
            return cls(**kwargs)
        except UsageError as exc:
            message = str(exc)
            blamed = next((k for k in _COMBINED if k in data and k in message.replace(" ", "_")), None)
            raise check.problem((blamed,) if blamed else (), message) from None

    @classmethod
    def load(cls, path: str | Path) -> DiffRules:
        """Rules from a YAML (or JSON) rules file; errors say ``file:line: ...``."""
        from xtape.yamlfile.load import load_yaml_file

        name = str(path)
        data, lines = load_yaml_file(path, "rules file", DiffRulesError)
        if data is None:
            data = {}
        return cls.from_mapping(data, where=name, lines=lines)


#: Keys whose errors only show once all rules are known (blamed by name in the message).
_COMBINED = ("ignore_paths", "match_by", "window", "order")


class _Refused(UsageError):
    """A problem inside a key's value (at ``loc`` below the key)."""

    def __init__(self, loc: tuple[object, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _tolerances(kwargs: dict[str, Any], key: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise UsageError(f"expected a mapping FIELD: AMOUNT, got {_kind(value)}")
    tolerances = {}
    for name, amount in value.items():
        try:
            tolerances[str(name)] = Tolerance.parse(amount, what="tolerance")
        except UsageError as exc:
            raise _Refused((name,), str(exc)) from None
    kwargs["tolerances"] = tolerances


def _names(kwargs: dict[str, Any], key: str, value: Any) -> None:
    kwargs[key] = _strings(value)


def _paths(kwargs: dict[str, Any], key: str, value: Any) -> None:
    if not isinstance(value, (Mapping, list, str)):
        raise UsageError(f"expected a list of paths, got {_kind(value)}")
    kwargs[key] = value


def _match_by(kwargs: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise UsageError(f"expected a field name, got {_kind(value)}")
    kwargs["match_by"] = value


def _unordered(kwargs: dict[str, Any], key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise UsageError(f"expected true or false, got {_kind(value)}")
    if value:
        kwargs["order"] = "multiset"


def _order(kwargs: dict[str, Any], key: str, value: Any) -> None:
    if value not in ORDERS:
        raise UsageError(f"invalid order {value!r}: use one of {', '.join(ORDERS)}")
    kwargs[key] = value


def _flag(kwargs: dict[str, Any], key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise UsageError(f"expected true or false, got {_kind(value)}")
    kwargs[key] = value


def _whole(kwargs: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"expected a whole number, got {_kind(value)}")
    kwargs[key] = value


def _codecs(kwargs: dict[str, Any], key: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise UsageError(f"expected a mapping STREAM_GLOB: CODEC, got {_kind(value)}")
    kwargs[key] = tuple(codec_pairs(value.items()))


def _milliseconds(kwargs: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"expected a number of ms, got {_kind(value)}")
    kwargs[key] = value


#: Each key of a rules file (and of a case's ``diff:``): how its value is read into
#: :class:`DiffRules` arguments (a new key is one line here).
_READERS: dict[str, Callable[[dict[str, Any], str, Any], None]] = {
    "streams": _names,
    "ignore_fields": _names,
    "json_fields": _names,
    "presence_fields": _names,
    "tolerance": _tolerances,
    "ignore_paths": _paths,
    "match_by": _match_by,
    "match-by": _match_by,
    "unordered": _unordered,
    "order": _order,
    "compare_ids": _flag,
    "compare_times": _flag,
    "ignore_field_order": _flag,
    "window": _whole,
    "max_reported": _whole,
    "codecs": _codecs,
    "time_tolerance_ms": _milliseconds,
}
#: The keys an unknown key's message lists (``match-by`` is an old spelling).
_KNOWN = tuple(sorted(set(_READERS) - {"match-by"}))


def codec_pairs(pairs: Any) -> list[tuple[str, str]]:
    """``(glob, name)`` pairs, each codec name checked (an unknown one lists the known)."""
    return parse_codec_options(f"{glob}={name}" for glob, name in pairs)


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UsageError(f"expected a list of names or globs, got {_kind(value)}")


__all__ = ["DEFAULT_MAX_REPORTED", "DEFAULT_WINDOW", "ORDERS", "DiffRules", "Order", "Tolerance", "parse_number"]
