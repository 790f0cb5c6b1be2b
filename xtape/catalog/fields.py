"""What was seen of one field of one stream (:class:`FieldStats`), kept in constant
memory, and what a catalog says of it: its type, enum values, ranges, examples, and a
generator that makes values like them (for :mod:`xtape.catalog.infer`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from xtape.catalog.shown import shown

#: A field with at most this many distinct values (each seen at least twice on average)
#: is an enum.
ENUM_MAX = 10
#: Examples kept per field.
EXAMPLES = 3
#: A value longer than this (bytes) is never an enum member: the field is no enum.
ENUM_VALUE_MAX = 100
#: A value longer than this (bytes) is never kept as an example.
EXAMPLE_MAX = 1_000

_INT = re.compile(rb"-?(?:0|[1-9][0-9]*)")
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE][-+]?[0-9]+)?")
_REDACTED = re.compile(rb"redacted:[0-9a-f]{32}")
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_HEX = re.compile(rb"[0-9a-f]*")
_DIGITS = re.compile(rb"[0-9]+")
#: Field names whose values are secrets (password, token, secret, *key; any case).
_SECRET = re.compile(rb"pass(?:word|wd)|token|secret|key$", re.IGNORECASE)


def _chars(value: bytes) -> int:
    """How many characters UTF-8 ``value`` holds (its bytes where it is not UTF-8)."""
    try:
        return len(value.decode("utf-8"))
    except UnicodeDecodeError:
        return len(value)


class FieldStats:
    """What was seen of one field of one stream."""

    __slots__ = (
        "count",
        "counts",
        "examples",
        "hex",
        "high",
        "kind",
        "low",
        "max_decimals",
        "max_len",
        "min_len",
        "name",
        "prefix",
        "redacted",
        "secret",
        "tail_digits",
        "uuid",
    )  # fmt: skip

    def __init__(self, name: bytes) -> None:
        self.name = name
        self.count = 0
        #: "integer", "number", "boolean", "object", "array", "string" or "binary".
        self.kind = ""
        #: value -> how many times, while there are at most ENUM_MAX distinct values.
        self.counts: dict[bytes, int] | None = {}
        self.examples: list[bytes] = []
        self.low: float = 0
        self.high: float = 0
        self.max_decimals = 0
        self.min_len = 1 << 62
        self.max_len = 0
        self.redacted = True
        self.uuid = True
        self.hex = True
        #: The text every value starts with, and whether what follows is always digits.
        self.prefix: bytes | None = None
        self.tail_digits = True
        #: The name looks like a secret's: its values are never written (unless redacted).
        self.secret = _SECRET.search(name) is not None

    def add(self, value: bytes) -> None:
        """One more value of the field (the hot path of infer: one call per field)."""
        self.count += 1
        counts = self.counts
        if counts is not None:
            seen = counts.get(value)
            if seen is not None:  # a value seen before: nothing new to learn but its count
                counts[value] = seen + 1
                return
            if len(counts) < ENUM_MAX and len(value) <= ENUM_VALUE_MAX:
                counts[value] = 1
            else:
                self.counts = None
        size = len(value)
        # Lengths in characters (JSON Schema's minLength), in bytes where not UTF-8.
        chars = size if value.isascii() else _chars(value)
        if chars < self.min_len:
            self.min_len = chars
        if chars > self.max_len:
            self.max_len = chars
        if len(self.examples) < EXAMPLES and size <= EXAMPLE_MAX and value not in self.examples:
            self.examples.append(value)
        kind = self.kind
        if kind == "number" or kind == "integer":
            if kind == "integer" and _INT.fullmatch(value):
                number: float = int(value)
            else:
                match = _NUMBER.fullmatch(value)
                if match is None:
                    self._first(value)
                    return
                self.kind = "number"
                number = float(value)
                decimals = match.group(1)
                if decimals is not None and len(decimals) > self.max_decimals:
                    self.max_decimals = len(decimals)
            if number < self.low:
                self.low = number
            elif number > self.high:
                self.high = number
            return
        if kind == "string" or kind == "binary":
            self._text(value)
            return
        self._first(value)

    def _number(self, number: float, match: re.Match[bytes]) -> None:
        if number < self.low:
            self.low = number
        if number > self.high:
            self.high = number
        decimals = match.group(1)
        if decimals is not None and len(decimals) > self.max_decimals:
            self.max_decimals = len(decimals)

    def _first(self, value: bytes) -> None:
        """Classify a value when the field's kind so far does not cover it."""
        kind = self.kind
        if kind == "":
            if _INT.fullmatch(value):
                self.kind = "integer"
                self.low = self.high = int(value)
                return
            match = _NUMBER.fullmatch(value)
            if match is not None:
                self.kind = "number"
                self.low = self.high = float(value)
                self._number(self.low, match)
                return
            if value in (b"true", b"false"):
                self.kind = "boolean"
                return
            if value[:1] in (b"{", b"["):
                try:
                    parsed = json.loads(value)
                except (ValueError, RecursionError):
                    parsed = None
                if isinstance(parsed, (dict, list)):
                    self.kind = "object" if isinstance(parsed, dict) else "array"
                    return
        elif kind == "boolean" and value in (b"true", b"false"):
            return
        elif kind in ("object", "array") and value[:1] in (b"{", b"["):
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict if kind == "object" else list):
                return
        if kind not in ("", "string"):  # what it was so far is text too
            for example in self.examples:
                self._text(example)
        self.kind = "string"
        self._text(value)

    def _text(self, value: bytes) -> None:
        if self.kind == "string" and not value.isascii():
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                self.kind = "binary"
        if self.redacted and not _REDACTED.fullmatch(value):
            self.redacted = False
        if self.uuid and not _UUID.fullmatch(value):
            self.uuid = False
        if self.hex and not _HEX.fullmatch(value):
            self.hex = False
        prefix = self.prefix
        if prefix is None:
            head = value.rstrip(b"0123456789")
            self.prefix = head
            self.tail_digits = len(head) < len(value)
        else:
            if not value.startswith(prefix):
                short = prefix
                while short and not value.startswith(short):
                    short = short[:-1]
                if not _DIGITS.fullmatch(prefix, len(short)) and len(short) < len(prefix):
                    self.tail_digits = False  # earlier values go on with more than digits
                self.prefix = prefix = short
            if self.tail_digits and not _DIGITS.fullmatch(value, len(prefix)):
                self.tail_digits = False

    # -- conclusions -------------------------------------------------------------------

    @property
    def hidden(self) -> bool:
        """Whether the values must stay out of the catalog: a secret's, not redacted."""
        return self.secret and not (self.redacted and self.kind == "string")

    @property
    def text_name(self) -> str | None:
        try:
            return self.name.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def enum(self) -> list[bytes] | None:
        """The values, most frequent first, when the field is an enum."""
        counts = self.counts
        if counts is None or self.kind in ("boolean", "binary", "object", "array") or (self.redacted and self.kind == "string"):
            return None
        if self.hidden:
            return None
        if not counts or self.count < 2 * len(counts) or (len(counts) < 2 and self.count < 3):
            return None
        return sorted(counts, key=lambda v: (-counts[v], v))

    def is_timestamp(self) -> bool:
        """Whole numbers that read as ms since the epoch (years 2000 to 2100)."""
        return self.kind == "integer" and 946_684_800_000 <= self.low <= self.high <= 4_102_444_800_000

    def is_sequence(self) -> bool:
        return self.kind == "string" and bool(self.prefix) and self.tail_digits and not self.redacted and not self.hidden

    def schema(self) -> dict[str, Any]:
        """The field's catalog entry (a JSON Schema of its decoded value, in short form)."""
        kind = self.kind or "string"
        if kind == "binary":
            return {"type": "binary"}
        if kind == "string" and self.redacted:
            return {"type": "string", "pattern": "^redacted:[0-9a-f]{32}$"}
        out: dict[str, Any] = {"type": kind}
        values = self.enum()
        if values is not None:
            members: list[Any] = []
            for value in values:  # "1.5" and "1.50" are one member
                decoded = _decoded(value, kind)
                if not any(decoded == m and type(decoded) is type(m) for m in members):
                    members.append(decoded)
            out["enum"] = members
            return out
        if kind == "string":
            if self.uuid and not self.hidden:
                out["format"] = "uuid"
            elif self.is_sequence():
                out["pattern"] = f"^{re.escape((self.prefix or b'').decode('utf-8'))}[0-9]+$"
            else:
                out["minLength"] = self.min_len
                out["maxLength"] = self.max_len
        if kind != "boolean" and self.examples and not self.hidden:
            out["examples"] = [_decoded(v, kind) for v in self.examples]
        return out

    def comment(self, entries: int) -> str:
        """What the entry was inferred from, for a person reading the catalog."""
        seen = "every entry" if self.count == entries else f"{self.count:,} of {entries:,} entries"
        parts = [seen]
        kind = self.kind
        values = self.enum()
        if kind == "string" and self.redacted:
            parts.append("redacted by the recorder: values are digests")
        elif self.hidden:
            parts.append(
                "values left out: the name looks like a secret's and the recording was not redacted "
                "(record --redact)"
            )
        elif kind == "binary":
            parts.append(f"binary (not UTF-8), {self.min_len}-{self.max_len} bytes")
        elif values is not None and self.counts is not None:
            counts = self.counts
            parts.append(f"{counted(len(values), 'value')}: " + ", ".join(f"{_label(v)} x{counts[v]:,}" for v in values))
        elif kind in ("integer", "number"):
            span = f"{_num(self.low)} .. {_num(self.high)}"
            if kind == "number":
                span += f", up to {self.max_decimals} decimals"
            parts.append(span)
        elif kind == "string" and not self.uuid:
            parts.append(f"{self.min_len}-{self.max_len} characters" if self.min_len != self.max_len else f"{self.min_len} characters")
        return "; ".join(parts)

    def generator(self) -> Any:
        """A generator field spec that makes values like the ones seen (never a private
        value verbatim, except the values of an enum)."""
        kind = self.kind or "string"
        values = self.enum()
        if values is not None and self.counts is not None:
            counts = self.counts
            return {"choice": [_option(v, kind) for v in values], "weights": [counts[v] for v in values]}
        if self.hidden and kind in ("integer", "number"):  # the observed range is not shown
            top = 10 ** min(self.max_len, 15) - 1
            return {"int": [0, top]} if kind == "integer" else {"float": [0, top], "decimals": self.max_decimals}
        if kind == "integer":
            if self.is_timestamp():
                return {"timestamp": True}
            return {"int": [int(self.low), int(self.high)]}
        if kind == "number":
            return {"float": [float(self.low), float(self.high)], "decimals": self.max_decimals}
        if kind == "boolean":
            trues = (self.counts or {}).get(b"true", 0)
            share = trues / self.count if self.count else 0.5
            return {"bool": round(share, 3)}
        if kind in ("object", "array"):
            try:
                example = json.loads(self.examples[0]) if self.examples else ({} if kind == "object" else [])
            except (ValueError, RecursionError):
                example = {} if kind == "object" else []
            return {"literal": _skeleton(example)}
        if kind == "string" and self.redacted:
            return {"text": [32, 32], "chars": "0123456789abcdef", "prefix": "redacted:"}
        if kind == "string" and self.uuid and not self.hidden:
            return {"uuid": True}
        if self.is_sequence():
            return {"sequence": 1, "prefix": (self.prefix or b"").decode("utf-8")}
        spec: dict[str, Any] = {"text": [self.min_len, self.max_len]}
        if self.hex and kind == "string":
            spec["chars"] = "0123456789abcdef"
        return spec


def counted(n: int, one: str, many: str | None = None) -> str:
    """``counted(1200, "entry", "entries")`` -> ``"1,200 entries"``."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1 << 53 else repr(value)


def _label(value: bytes) -> str:
    return shown(value.decode("utf-8", "replace"), 30)


def _decoded(value: bytes, kind: str) -> Any:
    """An observed value as it appears in the catalog (decoded per the field's kind)."""
    text = value.decode("utf-8", "replace")
    if kind in ("integer", "number", "object", "array"):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return text
    return text


def _option(value: bytes, kind: str) -> Any:
    """An enum value as a ``choice:`` option that publishes the same bytes."""
    if kind == "integer":
        return int(value)
    text = value.decode("utf-8", "replace")
    return {"literal": text} if "{{" in text else text


def _skeleton(value: Any) -> Any:
    """The shape of a JSON value with its contents blanked (no private data)."""
    if isinstance(value, dict):
        return {str(k): _skeleton(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_skeleton(v) for v in value[:1]]
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return 0
    if isinstance(value, str):
        return ""
    return value
