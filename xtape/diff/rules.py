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
    time_tolerance: 0ms               # with compare_times (a duration with its unit)
    ignore_field_order: false
    window: 10000
    max_reported: 1000

Errors name the file and line (``rules.yaml:4: tolerance.qty: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from xtape.diff.rule_kinds import BY_FIELD, BY_KEY, ORDERS, RULES, Refused, codec_pairs, split_path
from xtape.diff.tolerance import Tolerance, parse_number
from xtape.errors import DiffRulesError, UsageError
from xtape.yamlfile.check import Checker, MappedLines, dotted
from xtape.yamlfile.check import kind as _kind

Order = Literal["strict", "key", "multiset"]

#: Default match / look-ahead window, in entries per stream (see docs/diff.md, Bounds).
DEFAULT_WINDOW = 10_000
#: Default number of differences kept in detail per stream (all are counted).
DEFAULT_MAX_REPORTED = 1000

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
    #: With ``compare_times``: how far (seconds) an entry's offset from its recording's
    #: start may move.
    time_tolerance: float = 0.0
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
        values: dict[str, Any] = {}
        for rule in RULES:
            values[rule.field] = rule.normalize(getattr(self, rule.field), values)
            object.__setattr__(self, rule.field, values[rule.field])
        if self.match_by is not None:
            if self.order == "multiset":
                raise UsageError("match_by and order multiset (--unordered) exclude each other")
            object.__setattr__(self, "order", "key")
        elif self.order == "key":
            raise UsageError("order key needs match_by (the field that pairs entries)")

    def split_path(self, full: str) -> tuple[str, str]:
        """``payload.meta.ts`` -> ``("payload", "meta.ts")``: the JSON field (the longest
        of :attr:`json_fields` that prefixes it) and the path inside; a path under no JSON
        field is a path into decoded payloads (a stream's codec): ``("", path)``."""
        return split_path(self.json_fields, full)

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

    def with_options(self, **options: Any) -> DiffRules:
        """These rules with command-line options laid over them (``xtape diff --rules
        FILE --ignore-field ts``): options are named by field (``ignore_fields=["ts"]``,
        ``tolerances=["qty=1%"]``, ``codecs=["orders*=json"]``, ``order="multiset"`` for
        ``--unordered``, ``time_tolerance="5ms"``); list options add to the rules',
        others override them; None, False and empty lists are options not given."""
        given = {k: v for k, v in options.items() if v is not None and v is not False and v != [] and v != ()}
        unknown = sorted(set(given) - set(BY_FIELD))
        if unknown:
            raise TypeError(f"unknown diff option(s): {', '.join(unknown)} (known: {', '.join(BY_FIELD)})")
        values = {rule.field: getattr(self, rule.field) for rule in RULES}
        changes: dict[str, Any] = {}
        for rule in RULES:
            if rule.field in given:
                changes.update(rule.merge(values[rule.field], given[rule.field], given, values))
        return replace(self, **changes) if changes else self

    def to_dict(self) -> dict[str, Any]:
        """The rules as a rules file would say them (for reports)."""
        return {rule.keys[0]: rule.dump(getattr(self, rule.field)) for rule in RULES}

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
            rule = BY_KEY.get(key)
            if rule is None:
                raise check.problem((key,), f"unknown key (known: {', '.join(_KNOWN)})")
            try:
                kwargs.update(rule.read(key, value))
            except Refused as exc:
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


#: The keys an unknown key's message lists (not the old spellings: ``match-by``,
#: ``time_tolerance_ms``).
_KNOWN = tuple(sorted(rule.keys[0] for rule in RULES))


__all__ = [
    "DEFAULT_MAX_REPORTED",
    "DEFAULT_WINDOW",
    "ORDERS",
    "DiffRules",
    "Order",
    "Tolerance",
    "codec_pairs",
    "parse_number",
]
