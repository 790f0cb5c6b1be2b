"""Scenario YAML written one event at a time, as :func:`~xtape.scenario.dump_scenario_yaml`
writes it, at the speed of a converter.

``dump_scenario_yaml`` (PyYAML's pure-Python emitter) manages ~5,000 events/s and needs
the whole document in memory. Here each event becomes text on its own: the common case
(UTF-8 names and values on one printable line, no ``{{``) by string building, which
writes exactly what PyYAML writes; anything else (``!!binary``, line breaks, control
characters, list-form payloads, long keys, unusual numbers) through
``dump_scenario_yaml`` itself, one event at a time. Either way the text is the text the
whole-document dump would give (``tests/convert/test_convert_yaml.py`` checks it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from xtape.scenario.encoding import event_from_fields
from xtape.timeline import pair_fields
from xtape.yamlfile.core import NOT_TEXT
from xtape.yamlfile.dump import dump_scenario_yaml

#: Plain text that the YAML 1.2 core schema (the scenario dumper's and loader's,
#: :mod:`xtape.yamlfile.core`) would read back as a bool, null, int, float or merge
#: key: the dumper quotes it ('5', 'true').
#: The usual value or name (an identifier, a number, a hex digest, a stream name like
#: ``orders:eu``): plain unless it reads as another type (see ``NOT_TEXT``).
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]*(?<!:)", re.ASCII)
#: The first characters of what ``NOT_TEXT`` can match, among ``_WORD``'s.
_MAYBE_NOT_TEXT = frozenset("tTfFnN0123456789")
#: Characters that may not start a plain scalar.
_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
#: PyYAML writes a mapping key of 128 characters or more (with its tag) as ``? key``.
_MAX_KEY = 100
#: Far below the dumper's line width (2**20), so it never folds a line.
_MAX_VALUE = 100_000
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+")


def scalar(text: str, *, key: bool = False) -> str | None:
    """``text`` as the scenario dumper writes it in block context (a mapping value, or a
    key with ``key=True``), or ``None`` where this module leaves it to PyYAML."""
    n = len(text)
    if n == 0:
        return None if key else "''"
    if n > (_MAX_KEY if key else _MAX_VALUE):
        return None
    if _WORD.fullmatch(text):
        if text[0] in _MAYBE_NOT_TEXT and NOT_TEXT.fullmatch(text):
            return "'" + text + "'"
        return text
    if not text.isprintable():
        return None
    if NOT_TEXT.fullmatch(text):
        return "'" + text + "'"
    if _plain(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def _plain(text: str) -> bool:
    """Whether PyYAML writes printable one-line ``text`` plain in block context."""
    first = text[0]
    if first in _INDICATORS or first == " " or text[-1] in " :":
        return False
    if first in "?:-" and (len(text) == 1 or text[1] == " "):
        return False
    if text.startswith(("---", "...")):
        return False
    return ": " not in text and " #" not in text


def number(value: int | float) -> str | None:
    """An int or a float the way the dumper writes it, or ``None`` (left to PyYAML)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    return text if _FLOAT.fullmatch(text) else None


class EventWriter:
    """Turns converted events into the text of the scenario's ``events:`` items."""

    def __init__(self) -> None:
        # Field names repeat from entry to entry, short values often: remember them.
        self._keys: dict[bytes, str | None] = {}
        self._values: dict[bytes, str | None] = {}

    def text(
        self,
        stream: str,
        flat: Sequence[bytes],
        *,
        delay: int | float = 0,
        id: bytes | None = None,
        repeat: int = 1,
        interval: int | float = 0,
    ) -> str:
        """One ``  - stream: ...`` item: what ``event_from_fields`` builds, then
        ``repeat``/``interval``, as ``dump_scenario_yaml`` writes it under ``events:``."""
        fast = self._fast(stream, flat, delay, id, repeat, interval)
        if fast is not None:
            return fast
        event = event_from_fields(stream, pair_fields(flat), delay=delay, id=id)
        if repeat > 1:
            event["repeat"] = repeat
            if interval:
                event["interval"] = interval
        return item_text(event)

    def _fast(
        self,
        stream: str,
        flat: Sequence[bytes],
        delay: int | float,
        id: bytes | None,
        repeat: int,
        interval: int | float,
    ) -> str | None:
        name = scalar(stream)
        if name is None or not flat:
            return None
        parts = ["  - stream: ", name, "\n"]
        if delay:
            text = number(delay)
            if text is None:
                return None
            parts += ("    delay: ", text, "\n")
        parts.append("    payload:\n")
        keys, values = self._keys, self._values
        names = flat[0::2]
        if len(set(names)) != len(names) or len(flat) % 2:
            return None  # repeated names: the list form (an odd count: no payload)
        placeholder = False
        for raw_name, raw_value in zip(names, flat[1::2], strict=True):
            k = keys.get(raw_name, "")
            if k == "":
                k = _key_line(raw_name)
                if len(keys) >= 4096:
                    keys.clear()
                keys[raw_name] = k
            v = values.get(raw_value, "")
            if v == "":
                v = _value_text(raw_value)
                if len(raw_value) <= 24:
                    if len(values) >= 4096:
                        values.clear()  # bounded: keeps the values seen lately
                    values[raw_value] = v
            if k is None or v is None:
                return None
            if "{{" in k or "{{" in v:
                placeholder = True
            parts += (k, v, "\n")
        if placeholder:
            parts.append("    template: false\n")
        tail = _tail_parts(id, repeat, interval)
        if tail is None:
            return None
        parts += tail
        return "".join(parts)


def _tail_parts(id: bytes | None, repeat: int, interval: int | float) -> list[str] | None:
    """The ``id:``, ``repeat:`` and ``interval:`` lines of a fast-path item, or None where
    one needs PyYAML."""
    parts: list[str] = []
    if id is not None and repeat == 1:
        text = _value_text(id)
        if text is None:
            return None
        parts += ("    id: ", text, "\n")
    if repeat > 1:
        parts += ("    repeat: ", str(repeat), "\n")
        if interval:
            text = number(interval)
            if text is None:
                return None
            parts += ("    interval: ", text, "\n")
    return parts


def _key_line(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None  # the list form
    key = scalar(text, key=True)
    return None if key is None else "      " + key + ": "


def _value_text(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None  # !!binary
    return scalar(text)


def value_lines(value: Any, indent: str) -> list[str] | None:
    """A decoded payload (JSON-like: mappings with text keys, lists, text, numbers, bools,
    null) as the block lines the dumper writes under a key at ``indent``, or ``None``
    where this module leaves it to PyYAML. ``value`` must be a non-empty mapping or list."""
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return None
            name = scalar(key, key=True)
            if name is None:
                return None
            if isinstance(item, (dict, list)) and item:
                inner = value_lines(item, indent + "  ")
                if inner is None:
                    return None
                out.append(f"{indent}{name}:")
                out += inner
            else:
                leaf = _leaf(item)
                if leaf is None:
                    return None
                out.append(f"{indent}{name}: {leaf}")
        return out
    if len(value) == 2 and all(isinstance(part, str) for part in value):
        return None  # (the dumper writes a pair of texts in flow style: ['a', 'b'])
    for item in value:
        if isinstance(item, (dict, list)) and item:
            inner = value_lines(item, indent + "  ")
            if inner is None:
                return None
            inner[0] = f"{indent}- {inner[0][len(indent) + 2 :]}"
            out += inner
        else:
            leaf = _leaf(item)
            if leaf is None:
                return None
            out.append(f"{indent}- {leaf}")
    return out


def _leaf(value: Any) -> str | None:
    if isinstance(value, str):
        return scalar(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    return None


def item_text(event: dict[str, Any]) -> str:
    """One event as an item of ``events:``, by PyYAML (the text of the whole-document
    dump: each sequence item is written the same wherever it stands)."""
    payload = event.get("payload")
    if isinstance(payload, dict) and payload and "generator" not in event:
        fast = _item_fast(event, payload)
        if fast is not None:
            return fast
    text = dump_scenario_yaml({"events": [event]})
    return text[text.index("\n") + 1 :]


def _item_fast(event: dict[str, Any], payload: dict[str, Any]) -> str | None:
    """``item_text`` by string building for a mapping payload of plain values (decoded
    ones, from a codec), or ``None``; ``tests/convert/test_convert_yaml.py`` checks it is PyYAML's."""
    lines = []
    for key, value in event.items():
        name = scalar(str(key), key=True)
        if name is None or not isinstance(key, str):
            return None
        if key == "payload":
            inner = value_lines(payload, "      ")
            if inner is None:
                return None
            lines.append("    payload:")
            lines += inner
            continue
        leaf = _leaf(value)
        if leaf is None:
            return None
        lines.append(f"    {name}: {leaf}")
    lines[0] = "  - " + lines[0][4:]
    return "\n".join(lines) + "\n"


def header_text(name: str, description: str, codecs: dict[str, str] | None = None) -> str:
    """The lines before the events: ``name``, ``description``, ``codecs:`` (stream glob ->
    codec, when payloads are written decoded) and ``events:``."""
    parts = []
    for key, value in (("name", name), ("description", description)):
        text = scalar(value)
        if text is None:
            parts.append(dump_scenario_yaml({key: value}))
        else:
            parts.append(f"{key}: {text}\n")
    if codecs:
        parts.append(dump_scenario_yaml({"codecs": codecs}))
    parts.append("events:\n")
    return "".join(parts)
