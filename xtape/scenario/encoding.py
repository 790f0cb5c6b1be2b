"""Payloads <-> stream fields.

``encoding: fields`` (the default): each top-level key becomes a field; strings as UTF-8,
numbers and booleans as their JSON text (``5``, ``5.0``, ``true``), ``null`` as ``null``,
objects and arrays as compact JSON, ``bytes`` (YAML ``!!binary``) as they are.
``encoding: {json: FIELD}``: the whole payload as one JSON field.

The inverse, :func:`fields_to_payload`, is what the converter writes: values stay strings
(so ``"5.0"``, ``"007"`` and ``"true"`` come back byte-identical), non-UTF-8 as bytes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard

from xtape.codecs import Codec, CodecFailed, message_of
from xtape.timeline import Fields

if TYPE_CHECKING:
    from xtape.scenario.values import Encoding, JsonEncoding

Payload: TypeAlias = Mapping[Any, Any] | Sequence[Sequence[Any]]
EditablePayload: TypeAlias = dict[str, str | bytes] | list[list[str | bytes]]


class EncodingFailed(ValueError):
    """A payload value that cannot become a field (located by the caller)."""


def encode_name(name: Any) -> bytes:
    """A field name as bytes: text as UTF-8, ``bytes`` as they are."""
    if isinstance(name, bytes):
        return name
    if isinstance(name, str):
        return name.encode("utf-8")
    return encode_value(name)


def encode_value(value: Any) -> bytes:
    """A payload value as field bytes (see the module docstring)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat().encode("ascii")
    return _json(value).encode("utf-8")


def _json(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_jsonable)
    except (TypeError, ValueError) as error:
        raise EncodingFailed(str(error)) from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise EncodingFailed(
                "binary (non-UTF-8) values are only allowed as whole fields, not inside JSON"
            ) from None
    raise EncodingFailed(f"cannot encode a {type(value).__name__} value")


def payload_items(payload: Payload) -> list[tuple[Any, Any]]:
    """``(name, value)`` pairs of a mapping or list-form payload, in order."""
    if isinstance(payload, Mapping):
        return list(payload.items())
    return [(pair[0], pair[1]) for pair in payload]


def payload_to_fields(payload: Payload, encoding: Encoding = "fields") -> Fields:
    """The stream fields a payload publishes as, under ``encoding``."""
    if encoding.__class__ is not str and _is_json_encoding(encoding):
        items = payload_items(payload)
        if not isinstance(payload, Mapping) and len({name for name, _ in items}) != len(items):
            raise EncodingFailed("encoding {json: ...} needs unique field names")
        obj = {_json_key(name): value for name, value in items}
        return ((encoding.field.encode("utf-8"), _json(obj).encode("utf-8")),)
    return tuple((encode_name(name), encode_value(value)) for name, value in payload_items(payload))


def _is_json_encoding(encoding: object) -> TypeGuard[JsonEncoding]:
    # pydantic (JsonEncoding's) only now: the converter writes payloads without it
    from xtape.scenario.values import JsonEncoding

    return isinstance(encoding, JsonEncoding)


def encode_payload(payload: Any, encoding: Encoding = "fields", codec: Codec | None = None) -> Fields:
    """The fields an event's payload publishes as: through its codec (``codecs:`` /
    ``codec:``) when it has one, else under ``encoding``."""
    if codec is None:
        return payload_to_fields(payload, encoding)
    try:
        return tuple(codec.encode(message_of(codec, payload)))
    except CodecFailed as error:
        raise EncodingFailed(f"codec {codec.name}: {error}") from None
    except (TypeError, ValueError) as error:
        raise EncodingFailed(f"codec {codec.name} cannot encode this payload: {error}") from None


def _json_key(name: Any) -> str:
    if isinstance(name, str):
        return name
    if isinstance(name, bytes):
        return name.decode("utf-8", errors="strict")
    return _json(name)


def _text(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def fields_to_payload(fields: Fields) -> EditablePayload:
    """Fields as a payload a person can read and edit, that publishes the same bytes.

    A mapping of strings when the names are unique UTF-8, else the list form
    ``[[name, value], ...]``. Values that are UTF-8 stay strings; others are ``bytes``.
    """
    names = [_text(name) for name, _ in fields]
    values = [_text(value) for _, value in fields]
    if all(isinstance(name, str) for name in names) and len(set(names)) == len(names):
        return {str(name): value for name, value in zip(names, values, strict=True)}
    return [[name, value] for name, value in zip(names, values, strict=True)]


def has_placeholder(payload: EditablePayload) -> bool:
    """Whether any text in the payload contains ``{{`` (so it must not be templated)."""
    return any(
        isinstance(part, str) and "{{" in part
        for name, value in payload_items(payload)
        for part in (name, value)
    )


def event_from_fields(
    stream: str | bytes,
    fields: Fields,
    *,
    delay: float = 0,
    id: str | bytes | None = None,
) -> dict[str, Any]:
    """A scenario ``events:`` entry that publishes exactly ``fields`` on ``stream``.

    For the converter: adds ``template: false`` when a value contains ``{{`` so it is not
    mistaken for a placeholder. Stream names must be UTF-8 (YAML keys of the event).
    """
    payload = fields_to_payload(fields)
    event: dict[str, Any] = {
        "stream": stream.decode("utf-8") if isinstance(stream, bytes) else stream
    }
    if delay:
        event["delay"] = delay
    event["payload"] = payload
    if has_placeholder(payload):
        event["template"] = False
    if id is not None:
        event["id"] = id.decode("ascii") if isinstance(id, bytes) else id
    return event
