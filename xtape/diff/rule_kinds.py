"""Each rule of a diff as a small named object, and :data:`RULES`, their registry.

A rule names the field of :class:`~xtape.diff.rules.DiffRules` it fills and says, in one
class, everything but the comparison itself:

- ``keys``: the keys of a rules file (and of a case's ``diff:``) it reads; the first is
  the one :meth:`DiffRules.to_dict` writes;
- :meth:`Rule.normalize`: the value as given in Python made canonical, or refused with a
  :class:`~xtape.errors.UsageError` (``DiffRules(...)`` calls it);
- :meth:`Rule.read`: a file's value checked and turned into ``DiffRules`` arguments;
- :meth:`Rule.dump`: the canonical value as a rules file would say it;
- :meth:`Rule.merge`: a command-line option laid over the value from a rules file
  (:meth:`DiffRules.with_options`): lists add, single values override.

A new rule is a field of ``DiffRules``, one class here, one line of :data:`RULES`, its
command-line option, and the code in :mod:`xtape.diff.compare` that applies it
(docs/architecture.md, "Adding a diff rule").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from xtape.codecs import parse_codec_options
from xtape.diff.tolerance import Tolerance
from xtape.errors import UsageError
from xtape.yamlfile.check import kind

ORDERS: tuple[str, ...] = ("strict", "key", "multiset")


class Refused(UsageError):
    """A problem inside a key's value (at ``loc`` below the key)."""

    def __init__(self, loc: tuple[object, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


class Rule:
    """A rule that takes its value as it comes (subclasses check and convert)."""

    #: The attribute of ``DiffRules`` this rule fills.
    field: str = ""
    #: The rules-file keys it reads (the first is the one written back).
    keys: tuple[str, ...] = ()

    def normalize(self, value: Any, values: Mapping[str, Any]) -> Any:
        """``value`` as ``DiffRules`` keeps it; ``values`` holds the rules normalized
        before this one (in :data:`RULES` order)."""
        return value

    def read(self, key: str, value: Any) -> dict[str, Any]:
        """A rules file's ``key: value`` as ``DiffRules`` arguments."""
        return {self.field: value}

    def dump(self, value: Any) -> Any:
        return value

    def merge(self, current: Any, option: Any, given: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        """The ``DiffRules`` changes of a command-line ``option`` laid over ``current``
        (``given``: every option given; ``values``: the rules before any option)."""
        return {self.field: option}


class Names(Rule):
    """A list of names or globs; options add to the file's."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.keys = (field,)

    def normalize(self, value: Any, values: Mapping[str, Any]) -> Any:
        return tuple(str(v) for v in ((value,) if isinstance(value, str) else value))

    def read(self, key: str, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            return {key: (value,)}
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return {key: tuple(value)}
        raise UsageError(f"expected a list of names or globs, got {kind(value)}")

    def dump(self, value: Any) -> Any:
        return list(value)

    def merge(self, current: Any, option: Any, given: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        return {self.field: (*current, *option)}


class Tolerances(Rule):
    field = "tolerances"
    keys = ("tolerance",)

    def normalize(self, value: Any, values: Mapping[str, Any]) -> Any:
        return {str(k): Tolerance.parse(v, what=f"tolerance for {k!r}") for k, v in value.items()}

    def read(self, key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise UsageError(f"expected a mapping FIELD: AMOUNT, got {kind(value)}")
        tolerances = {}
        for name, amount in value.items():
            try:
                tolerances[str(name)] = Tolerance.parse(amount, what="tolerance")
            except UsageError as exc:
                raise Refused((name,), str(exc)) from None
        return {self.field: tolerances}

    def dump(self, value: Any) -> Any:
        return {k: str(v) for k, v in value.items()}

    def merge(self, current: Any, option: Any, given: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        from xtape.units import parse_pair

        tolerances = dict(current)
        for text in option:
            name, amount = parse_pair(text, option="--tolerance")
            tolerances[name] = amount
        return {self.field: tolerances}


def split_path(json_fields: Sequence[str], full: str) -> tuple[str, str]:
    """``payload.meta.ts`` -> ``("payload", "meta.ts")``: the JSON field (the longest of
    ``json_fields`` that prefixes it) and the path inside; a path under no JSON field is
    a path into decoded payloads (a stream's codec): ``("", path)``."""
    for name in sorted(json_fields, key=len, reverse=True):
        if full.startswith(name) and full[len(name) : len(name) + 1] in (".", "["):
            return name, full[len(name) :].lstrip(".")
    if not full.strip():
        raise UsageError("invalid ignore_paths entry '': name a path, e.g. headers.correlation_id")
    return "", full


class IgnorePaths(Rule):
    """Paths inside JSON fields or decoded payloads: kept as JSON field -> paths."""

    field = "ignore_paths"
    keys = ("ignore_paths",)

    def normalize(self, value: Any, values: Mapping[str, Any]) -> Any:
        if isinstance(value, Mapping):
            out: dict[str, tuple[str, ...]] = {}
            for key, paths in value.items():
                items = (paths,) if isinstance(paths, str) else tuple(paths)
                out[str(key)] = tuple(str(p) for p in items)
            return out
        grouped: dict[str, list[str]] = {}
        for full in (value,) if isinstance(value, str) else value:
            name, inner = split_path(values["json_fields"], str(full))
            grouped.setdefault(name, []).append(inner)
        return {k: tuple(v) for k, v in grouped.items()}

    def read(self, key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, (Mapping, list, str)):
            raise UsageError(f"expected a list of paths, got {kind(value)}")
        return {key: value}

    def dump(self, value: Any) -> Any:
        return {k: list(v) for k, v in value.items()}

    def merge(self, current: Any, option: Any, given: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        json_fields = (*values["json_fields"], *given.get("json_fields", ()))
        paths = {k: list(v) for k, v in current.items()}
        for full in option:
            name, inner = split_path(json_fields, full)
            paths.setdefault(name, []).append(inner)
        return {self.field: {k: tuple(v) for k, v in paths.items()}}


class MatchBy(Rule):
    field = "match_by"
    keys = ("match_by", "match-by")

    def normalize(self, value: Any, values: Mapping[str, Any]) -> Any:
        if value is not None and not str(value).strip():
            raise UsageError("match_by must name a field")
        return value

    def read(self, key: str, value: Any) -> dict[str, Any]:
        if value is not None and not isinstance(value, str):
            raise UsageError(f"expected a field name, got {kind(value)}")
        return {self.field: value}


class Order(Rule):
    """``order: strict | key | multiset``; ``unordered: true`` (``--unordered``) is multiset."""

    field = "order"
    keys = ("order", "unordered")

    def normalize(self, value: Any, values: Mapping[str, Any]) -> Any:
        if value not in ORDERS:
            raise UsageError(f"invalid order {value!r}: use one of {', '.join(ORDERS)}")
        return value

    def read(self, key: str, value: Any) -> dict[str, Any]:
        if key == "order":
            return {self.field: self.normalize(value, {})}
        if not isinstance(value, bool):
            raise UsageError(f"expected true or false, got {kind(value)}")
        return {self.field: "multiset"} if value else {}

    def merge(self, current: Any, option: Any, given: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        if option == "multiset" and given.get("match_by") is not None:
            raise UsageError("--match-by and --unordered exclude each other: pick one way to pair entries")
        return {self.field: option, "match_by": None} if option == "multiset" else {self.field: option}


class Flag(Rule):
    """True or false; an option can only turn it on."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.keys = (field,)

    def read(self, key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, bool):
            raise UsageError(f"expected true or false, got {kind(value)}")
        return {key: value}


class Count(Rule):
    """A whole number of at least ``least``."""

    def __init__(self, field: str, least: int, message: str) -> None:
        self.field = field
        self.keys = (field,)
        self.least = least
        self.message = message

    def normalize(self, value: Any, values: Mapping[str, Any]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value < self.least:
            raise UsageError(f"invalid {self.field} {value!r}: {self.message}")
        return value

    def read(self, key: str, value: Any) -> dict[str, Any]:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"expected a whole number, got {kind(value)}")
        return {key: value}


class TimeTolerance(Rule):
    """Seconds in Python (the API's unit); a duration with its unit in a file (``5ms``,
    as ``--time-tolerance``), or a number of ms under the old key ``time_tolerance_ms``."""

    field = "time_tolerance"
    keys = ("time_tolerance", "time_tolerance_ms")

    def normalize(self, value: Any, values: Mapping[str, Any]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise UsageError(f"invalid time_tolerance {value!r}: use a number of seconds >= 0 (0.005 for 5 ms)")
        return float(value)

    def read(self, key: str, value: Any) -> dict[str, Any]:
        from xtape.units import parse_seconds

        if key == "time_tolerance_ms":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UsageError(f"expected a number of ms, got {kind(value)}")
            return {self.field: value / 1000}
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise UsageError(f"expected a duration (e.g. 5ms), got {kind(value)}")
        return {self.field: parse_seconds(str(value), option=key)}

    def dump(self, value: Any) -> Any:
        return f"{value * 1000:g}ms"

    def merge(self, current: Any, option: Any, given: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        from xtape.units import parse_seconds

        seconds = parse_seconds(option, option="--time-tolerance") if isinstance(option, str) else option
        return {self.field: seconds}


def codec_pairs(pairs: Any) -> list[tuple[str, str]]:
    """``(glob, name)`` pairs, each codec name checked (an unknown one lists the known)."""
    return parse_codec_options(f"{glob}={name}" for glob, name in pairs)


class Codecs(Rule):
    """``(glob, name)`` in precedence order; ``--codec GLOB=NAME`` options come first."""

    field = "codecs"
    keys = ("codecs",)

    def normalize(self, value: Any, values: Mapping[str, Any]) -> Any:
        return tuple(codec_pairs(value.items() if isinstance(value, Mapping) else value))

    def read(self, key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise UsageError(f"expected a mapping STREAM_GLOB: CODEC, got {kind(value)}")
        return {key: tuple(codec_pairs(value.items()))}

    def dump(self, value: Any) -> Any:
        return dict(value)

    def merge(self, current: Any, option: Any, given: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        return {self.field: (*parse_codec_options(option), *current)}


#: Every diff rule, in the order they are normalized and written (``json_fields``
#: before ``ignore_paths``, which splits its paths by them). A new rule is one line here.
RULES: tuple[Rule, ...] = (
    Names("streams"),
    Names("ignore_fields"),
    Tolerances(),
    Names("json_fields"),
    IgnorePaths(),
    MatchBy(),
    Order(),
    Flag("compare_ids"),
    Flag("compare_times"),
    TimeTolerance(),
    Flag("ignore_field_order"),
    Count("window", 1, "use a whole number of entries above zero"),
    Count("max_reported", 0, "use a whole number >= 0"),
    Codecs(),
    Names("presence_fields"),
)
#: Rules by field name (the names :meth:`DiffRules.with_options` takes).
BY_FIELD: dict[str, Rule] = {rule.field: rule for rule in RULES}
#: Rules by rules-file key (``match-by`` is an old spelling of ``match_by``).
BY_KEY: dict[str, Rule] = {key: rule for rule in RULES for key in rule.keys}

__all__ = ["BY_FIELD", "BY_KEY", "ORDERS", "RULES", "Refused", "Rule", "codec_pairs", "split_path"]
