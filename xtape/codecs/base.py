"""The codec contract: a payload's stream fields <-> a value a person can read.

A :class:`Codec` turns the fields of one entry into a :class:`Message` (a JSON-like
``body`` and, for formats that carry them, ``headers``) and back. ``encode(decode(f))``
gives ``f`` again, byte for byte, for what the codec's own producer wrote; callers that
must keep bytes (``convert``) check that and keep the raw fields when it does not hold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

Fields = Sequence[tuple[bytes, bytes]]

#: How JSON text is laid out: ``compact`` (orjson, pydantic, JavaScript: ``{"a":1}``,
#: UTF-8 as is) or ``python`` (``json.dumps`` defaults: ``{"a": 1}``, ``\\u`` escapes).
JsonStyle = Literal["compact", "python"]
JSON_STYLES: tuple[JsonStyle, ...] = ("compact", "python")


class CodecFailed(ValueError):
    """These fields are not in the codec's format (or a value cannot be encoded)."""


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded payload: its ``body`` and, for enveloped formats, its ``headers``."""

    body: Any
    headers: Mapping[str, Any] | None = None

    def to_value(self) -> Any:
        """One JSON-like value: the body, or ``{headers, body}`` when there are headers."""
        if self.headers is None:
            return self.body
        return {"headers": dict(self.headers), "body": self.body}


@runtime_checkable
class Codec(Protocol):
    """A payload format. ``name`` is how users choose it (``--codec 'orders*=NAME'``)."""

    name: str
    #: Whether decoded messages carry headers (then a scenario payload is ``{headers, body}``).
    has_headers: bool

    def detect(self, fields: Fields) -> bool:
        """Whether these fields look like this format (cheap; used when nothing is chosen)."""
        ...

    def decode(self, fields: Fields) -> Message:
        """The message these fields hold; :class:`CodecFailed` if they hold none."""
        ...

    def encode(self, message: Message) -> list[tuple[bytes, bytes]]:
        """The fields that carry ``message``; :class:`CodecFailed` if it cannot be encoded."""
        ...


def message_of(codec: Codec, value: Any) -> Message:
    """A scenario payload (what :meth:`Message.to_value` made) as a message for ``codec``."""
    if codec.has_headers:
        if not isinstance(value, Mapping) or set(value) - {"headers", "body"}:
            raise CodecFailed(f"a {codec.name} payload is a mapping with headers: and body:")
        headers = value.get("headers") or {}
        if not isinstance(headers, Mapping):
            raise CodecFailed(f"{codec.name}: headers must be a mapping")
        return Message(value.get("body"), headers)
    return Message(value)


def dump_json(value: Any, style: JsonStyle) -> bytes:
    """``value`` as JSON text laid out in ``style``."""
    try:
        if style == "python":
            return json.dumps(value).encode("utf-8")
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise CodecFailed(f"not JSON: {error}") from None


#: A run of digits orjson may read as a float where ``json`` reads an integer (beyond 64 bits).
_LONG_NUMBER = re.compile(rb"[0-9]{20}")


def _first_loads(data: bytes) -> Any:
    """orjson's ``loads``, imported on first use: a command that reads no JSON payload
    (a scenario's replay) does not import it (``bench/startup.py``)."""
    global _orjson_loads
    import orjson

    _orjson_loads = orjson.loads
    return _orjson_loads(data)


_orjson_loads: Callable[[bytes], Any] = _first_loads


def parse_json(data: bytes) -> Any:
    """``json.loads(data)``, the same value, about ten times faster: orjson first, and
    ``json`` for what orjson refuses or reads otherwise (NaN and Infinity, lone
    surrogates, other encodings than UTF-8, integers beyond 64 bits)."""
    if _LONG_NUMBER.search(data) is None:
        try:
            return _orjson_loads(data)
        except json.JSONDecodeError:  # (orjson's JSONDecodeError is one)
            pass
    return json.loads(data)


def load_json(data: bytes) -> Any:
    """Parsed JSON text; :class:`CodecFailed` if it is not JSON."""
    try:
        return parse_json(data)
    except (ValueError, RecursionError) as error:
        raise CodecFailed(f"not JSON: {error}") from None


def json_shaped(data: bytes) -> dict[str, Any] | list[Any] | None:
    """The JSON object or array ``data`` holds (JSON "by its shape"), else None."""
    if data[:1] not in (b"{", b"["):
        return None
    tail = data[-1:]
    if tail not in (b"}", b"]") and (not tail.isspace() or data.rstrip()[-1:] not in (b"}", b"]")):
        return None
    try:
        value = parse_json(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, (dict, list)) else None


def looks_like_json(data: bytes) -> bool:
    """Whether ``data`` is a JSON object or array (JSON "by its shape")."""
    return json_shaped(data) is not None


def text_or_bytes(raw: bytes) -> str | bytes:
    """UTF-8 as text, anything else as bytes."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def to_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise CodecFailed(f"{what} must be text or bytes (got {type(value).__name__})")
