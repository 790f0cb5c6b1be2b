"""``export --flatten``: one column per top-level key of the decoded payloads.

A first pass reads the recording and notes, per stream, the kinds of value each key
holds (:class:`Columns`); the types follow from them: a key whose values are all
booleans, integers, numbers (integers and numbers together), text or bytes gets that
type; objects and arrays are JSON text; a key whose values differ in kind within a
stream, or whose streams disagree, is text (strings as they are, other values as JSON
text). An entry no codec decodes is flattened by its fields: text, typed where it is
exactly how a number or boolean is written (:func:`typed_text`), bytes where it is
not UTF-8 (a name repeated in the entry: its last value).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from xtape.errors import UsageError
from xtape.interop.reading import jsonable

#: Columns ``--flatten`` makes at most (payloads keyed by ids or users would make one a key).
MAX_COLUMNS = 1_000
#: The columns every export has; a key of the same name becomes ``payload.KEY``.
BASE_COLUMNS = frozenset({"stream", "id", "ms", "seq", "capture_time", "fields", "payload"})

_INT64 = (-(1 << 63), (1 << 63) - 1)


def kind_of(value: Any) -> str | None:
    """``bool``, ``int``, ``float``, ``text``, ``binary`` or ``json`` (None: null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if _INT64[0] <= value <= _INT64[1] else "json"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (bytes, bytearray)):
        return "binary"
    return "json"


def merged(kinds: set[str]) -> str:
    """One kind for the values of a key: theirs if they agree, else text."""
    if not kinds:
        return "text"
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds == {"int", "float"}:
        return "float"
    return "text"


_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,18})")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+")
_BOOLS = {"true": True, "false": False}


def typed_text(text: str) -> Any:
    """Field text as the value it writes: an integer, a decimal number or a boolean
    where the text is exactly how that value is written (``5``, ``2.5``, ``true``; not
    ``007`` or ``1e3``), so that writing the value gives the text back; else the text."""
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text) and repr(float(text)) == text:
        return float(text)
    return _BOOLS.get(text, text)


def fields_mapping(flat: Sequence[bytes]) -> dict[str, Any]:
    """An entry's fields as ``{name: value}``: text typed by :func:`typed_text`, bytes
    where a value is not UTF-8 (a repeated name: its last value)."""
    out: dict[str, Any] = {}
    it = iter(flat)
    for name, value in zip(it, it, strict=False):
        key = name.decode("utf-8", "backslashreplace")
        try:
            out[key] = typed_text(value.decode("utf-8"))
        except UnicodeDecodeError:
            out[key] = value
    return out


class Columns:
    """The flattened columns: their names and types, from what each stream held."""

    def __init__(self) -> None:
        #: stream -> key -> the kinds seen.
        self.seen: dict[bytes, dict[str, set[str]]] = {}
        self._keys: dict[str, None] = {}

    def add(self, stream: bytes, body: Any) -> None:
        """Take note of one entry's decoded body (a mapping; anything else adds nothing)."""
        if not isinstance(body, Mapping):
            return
        keys = self.seen.setdefault(stream, {})
        for key, value in body.items():
            name = str(key)
            kinds = keys.get(name)
            if kinds is None:
                if name not in self._keys:
                    if len(self._keys) >= MAX_COLUMNS:
                        raise UsageError(
                            f"--flatten: the payloads have more than {MAX_COLUMNS:,} distinct top-level "
                            "keys (one column each); query the payload column instead"
                        )
                    self._keys[name] = None
                kinds = keys[name] = set()
            kind = kind_of(value)
            if kind is not None:
                kinds.add(kind)

    def types(self) -> dict[str, str]:
        """Column name -> kind, in the order the keys were first seen."""
        out: dict[str, str] = {}
        for key in self._keys:
            per_stream = {merged(keys[key]) for keys in self.seen.values() if keys.get(key)}
            kind = merged(per_stream)
            out[f"payload.{key}" if key in BASE_COLUMNS else key] = kind
        return out

    @staticmethod
    def key_of(column: str) -> str:
        """The payload key a column holds."""
        if column.startswith("payload.") and column[8:] in BASE_COLUMNS:
            return column[8:]
        return column


def cell(value: Any, kind: str) -> Any:
    """A value as the column of ``kind`` holds it (None where it cannot)."""
    if value is None:
        return None
    if kind == "text":
        return value if isinstance(value, str) else orjson.dumps(value, default=jsonable).decode("utf-8")
    if kind == "json":
        return orjson.dumps(value, default=jsonable, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    if kind == "float":
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if kind == "bool":
        return value if isinstance(value, bool) else None
    return bytes(value) if isinstance(value, (bytes, bytearray)) else None


__all__ = ["BASE_COLUMNS", "MAX_COLUMNS", "Columns", "cell", "fields_mapping", "kind_of", "merged", "typed_text"]
