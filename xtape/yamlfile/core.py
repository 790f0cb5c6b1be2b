"""The YAML 1.2 core schema: what a plain (unquoted, untagged) scalar reads as.

YAML 1.2 core schema (what JavaScript's js-yaml reads), not PyYAML's YAML 1.1: only
true/false are booleans (``yes``, ``no``, ``on``, ``off`` stay text), ``12:30`` is text
not 750, ``007`` is 7 not octal, ``1e3`` is a number, and dates stay text. The loader,
the dumper and the converter's fast writer share these patterns, so what is written is
quoted exactly where it would be read back as another type.
"""

from __future__ import annotations

import math
import re
from typing import Any

MERGE_TAG = "tag:yaml.org,2002:merge"
NULL_TAG = "tag:yaml.org,2002:null"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"

#: Each implicit type: its tag, the text it matches (a regex body) and the first
#: characters such text may have.
_TYPES: tuple[tuple[str, str, str], ...] = (
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    (NULL_TAG, r"~|null|Null|NULL", "~nN"),  # and "": see use_core_schema
    (INT_TAG, r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    (
        FLOAT_TAG,
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+.0123456789",
    ),
    (MERGE_TAG, r"<<", "<"),
)

#: ``(tag, regexp, first characters)`` of each implicit type, as PyYAML's resolvers take them.
CORE_SCHEMA: list[tuple[str, re.Pattern[str], str]] = [
    (tag, re.compile(f"^(?:{body})$"), first) for tag, body, first in _TYPES
]

#: Non-empty text that the core schema reads back as a bool, null, int, float or merge
#: key (a dumper quotes it: ``'5'``, ``'true'``).
NOT_TEXT = re.compile("|".join(f"(?:{body})" for _, body, _ in _TYPES))


def use_core_schema(cls: Any) -> None:
    """Make a PyYAML loader or dumper class resolve plain scalars by the core schema."""
    cls.yaml_implicit_resolvers = {}
    for tag, regexp, first in CORE_SCHEMA:
        cls.add_implicit_resolver(tag, regexp, list(first))
    cls.add_implicit_resolver(NULL_TAG, re.compile(r"^$"), [""])


_PATTERNS = {tag: regexp for tag, regexp, _ in CORE_SCHEMA}
_INT_RE = _PATTERNS[INT_TAG]
_FLOAT_RE = _PATTERNS[FLOAT_TAG]
_WORDS: dict[str, object] = {
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    "~": None, "null": None, "Null": None, "NULL": None, "": None,
}  # fmt: skip
_NUMERIC_START = frozenset("-+.0123456789")

#: First characters of the plain scalars that may resolve to something other than text.
RESOLVABLE = frozenset("tTfF~nN-+.0123456789")


def yaml_int(text: str) -> int:
    """An int as the core schema writes it (``007``, ``0o17``, ``0x1F``)."""
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


def plain_scalar(text: str) -> Any:
    """A plain (unquoted, untagged) scalar under the YAML 1.2 core schema."""
    if text in _WORDS:
        return _WORDS[text]
    if text and text[0] in _NUMERIC_START:
        if _INT_RE.match(text):
            return yaml_int(text)
        if _FLOAT_RE.match(text):
            return _float(text)
    return text
