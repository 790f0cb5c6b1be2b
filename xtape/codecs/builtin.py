"""The built-in codecs: ``json``, ``msgpack``, ``faststream``, ``taskiq``, ``base64``, ``raw``.

Field-wise codecs (``json``, ``msgpack``, ``base64``, ``raw``) decode an entry into a
mapping of field name -> value; the envelope codecs (``faststream``, ``taskiq``) into the
message their framework carries in its one field.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Mapping
from typing import Any

import msgpack

from xtape.codecs.base import (
    CodecFailed,
    Fields,
    JsonStyle,
    Message,
    dump_json,
    json_shaped,
    load_json,
    looks_like_json,
    text_or_bytes,
    to_bytes,
)


def _names_unique(fields: Fields, codec: str) -> None:
    names = [name for name, _ in fields]
    if len(set(names)) != len(names):
        raise CodecFailed(f"{codec}: an entry with a repeated field name")
    if not fields:
        raise CodecFailed(f"{codec}: an entry with no fields")


def _name(raw: bytes, codec: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CodecFailed(f"{codec}: a field name that is not UTF-8") from None


def _body_mapping(message: Message, codec: str) -> Mapping[str, Any]:
    if not isinstance(message.body, Mapping) or not message.body:
        raise CodecFailed(f"{codec}: the payload is a mapping of field name -> value")
    return message.body


class RawCodec:
    """Fields as they are: names and values as text where UTF-8, else bytes."""

    name = "raw"
    has_headers = False

    def detect(self, fields: Fields) -> bool:
        return True

    def decode(self, fields: Fields) -> Message:
        _names_unique(fields, self.name)
        return Message({_name(n, self.name): text_or_bytes(v) for n, v in fields})

    def encode(self, message: Message) -> list[tuple[bytes, bytes]]:
        body = _body_mapping(message, self.name)
        return [(str(k).encode("utf-8"), to_bytes(v, f"field {k}")) for k, v in body.items()]


_JSON_OPENERS = (b"{", b"[")


class JsonCodec:
    """Fields whose values are JSON objects or arrays, parsed; other values as text."""

    name = "json"
    has_headers = False

    def __init__(self, style: JsonStyle = "compact") -> None:
        self.style = style

    def detect(self, fields: Fields) -> bool:
        return any(looks_like_json(value) for _, value in fields)

    def decode(self, fields: Fields) -> Message:
        # The hot path of export, diff and cat --decode: one pass, each value parsed once.
        if not fields:
            raise CodecFailed("json: an entry with no fields")
        body: dict[str, Any] = {}
        found = False
        for name, value in fields:
            key = _name(name, self.name)
            if key in body:
                raise CodecFailed("json: an entry with a repeated field name")
            parsed = json_shaped(value) if value[:1] in _JSON_OPENERS else None
            if parsed is not None:
                body[key] = parsed
                found = True
            else:
                try:
                    body[key] = value.decode("utf-8")
                except UnicodeDecodeError:
                    body[key] = value
        if not found:
            raise CodecFailed("json: no field holds a JSON object or array")
        return Message(body)

    def encode(self, message: Message) -> list[tuple[bytes, bytes]]:
        out = []
        for key, value in _body_mapping(message, self.name).items():
            if isinstance(value, (dict, list)):
                raw = dump_json(value, self.style)
            else:
                raw = to_bytes(value, f"json field {key}")
            out.append((str(key).encode("utf-8"), raw))
        return out


class MsgpackCodec:
    """Every field value a msgpack document."""

    name = "msgpack"
    has_headers = False

    def detect(self, fields: Fields) -> bool:
        return False  # any bytes can parse as msgpack: chosen, never guessed

    def decode(self, fields: Fields) -> Message:
        _names_unique(fields, self.name)
        body = {}
        for name, value in fields:
            try:
                body[_name(name, self.name)] = msgpack.unpackb(value, raw=False, strict_map_key=False)
            except (ValueError, msgpack.UnpackException) as error:
                raise CodecFailed(f"msgpack: field {name!r} is not msgpack ({error})") from None
        return Message(body)

    def encode(self, message: Message) -> list[tuple[bytes, bytes]]:
        out = []
        for key, value in _body_mapping(message, self.name).items():
            try:
                out.append((str(key).encode("utf-8"), msgpack.packb(value, use_bin_type=True)))
            except (TypeError, ValueError) as error:
                raise CodecFailed(f"msgpack: field {key}: {error}") from None
        return out


class Base64Codec:
    """Every field value base64 text (of UTF-8 text, or of bytes)."""

    name = "base64"
    has_headers = False

    def detect(self, fields: Fields) -> bool:
        return False

    def decode(self, fields: Fields) -> Message:
        _names_unique(fields, self.name)
        body = {}
        for name, value in fields:
            try:
                body[_name(name, self.name)] = text_or_bytes(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                raise CodecFailed(f"base64: field {name!r} is not base64") from None
        return Message(body)

    def encode(self, message: Message) -> list[tuple[bytes, bytes]]:
        return [
            (str(k).encode("utf-8"), base64.b64encode(to_bytes(v, f"field {k}")))
            for k, v in _body_mapping(message, self.name).items()
        ]


#: FastStream's Redis stream field and the magic of its ``BinaryMessageFormatV1``.
FASTSTREAM_FIELD = b"__data__"
FASTSTREAM_MAGIC = b"\x89BIN\x0d\x0a\x1a\x0a"
_JSON_TYPE = "application/json"


class FastStreamCodec:
    """FastStream's Redis message: one field ``__data__`` holding ``BinaryMessageFormatV1``
    (magic, version 1, header offsets, ``key, value`` strings, then the body), or the older
    JSON envelope ``{"data": BODY_TEXT, "headers": {...}}``. The body is parsed when its
    ``content-type`` is JSON; text stays text, anything else bytes."""

    name = "faststream"
    has_headers = True

    def __init__(self, style: JsonStyle = "compact", envelope: str = "binary") -> None:
        self.style = style
        self.envelope = envelope

    def detect(self, fields: Fields) -> bool:
        if len(fields) != 1 or fields[0][0] != FASTSTREAM_FIELD:
            return False
        value = fields[0][1]
        return value.startswith(FASTSTREAM_MAGIC) or (value.startswith(b"{") and b'"headers"' in value)

    def decode(self, fields: Fields) -> Message:
        if len(fields) != 1 or fields[0][0] != FASTSTREAM_FIELD:
            raise CodecFailed("faststream: an entry with one field __data__ expected")
        data = fields[0][1]
        if data.startswith(FASTSTREAM_MAGIC):
            raw, headers = _parse_binary(data)
        else:
            envelope = load_json(data)
            if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), str):
                raise CodecFailed("faststream: neither the binary nor the JSON envelope")
            raw = envelope["data"].encode("utf-8")
            headers = envelope.get("headers") or {}
            if not isinstance(headers, dict):
                raise CodecFailed("faststream: headers must be a mapping")
        return Message(self._body(raw, headers), headers)

    def _body(self, raw: bytes, headers: Mapping[str, Any]) -> Any:
        content_type = str(headers.get("content-type", ""))
        if content_type.startswith(_JSON_TYPE):
            return load_json(raw)
        return text_or_bytes(raw)

    def encode(self, message: Message) -> list[tuple[bytes, bytes]]:
        headers = dict(message.headers or {})
        content_type = str(headers.get("content-type", ""))
        if content_type.startswith(_JSON_TYPE):
            raw = dump_json(message.body, self.style)
        else:
            raw = to_bytes(message.body, "a faststream body without a JSON content-type")
        if self.envelope == "json":
            text = raw.decode("utf-8", "strict") if isinstance(raw, bytes) else raw
            return [(FASTSTREAM_FIELD, dump_json({"data": text, "headers": headers}, self.style))]
        return [(FASTSTREAM_FIELD, _build_binary(raw, headers))]


def _parse_binary(data: bytes) -> tuple[bytes, dict[str, Any]]:
    try:
        (version,) = struct.unpack_from(">H", data, len(FASTSTREAM_MAGIC))
        if version != 1:
            raise CodecFailed(f"faststream: binary envelope version {version} (xtape reads 1)")
        headers_start, data_start = struct.unpack_from(">II", data, len(FASTSTREAM_MAGIC) + 2)
        (count,) = struct.unpack_from(">H", data, headers_start)
        offset = headers_start + 2
        headers: dict[str, Any] = {}
        for _ in range(count):
            pair = []
            for _ in range(2):
                (size,) = struct.unpack_from(">H", data, offset)
                offset += 2
                if offset + size > len(data):
                    raise CodecFailed("faststream: a header runs past the end of the message")
                pair.append(data[offset : offset + size].decode("utf-8"))
                offset += size
            headers[pair[0]] = pair[1]
    except (struct.error, UnicodeDecodeError) as error:
        raise CodecFailed(f"faststream: a damaged binary envelope ({error})") from None
    if data_start > len(data):
        raise CodecFailed("faststream: the body starts past the end of the message")
    return data[data_start:], headers


def _build_binary(body: bytes, headers: Mapping[str, Any]) -> bytes:
    block = bytearray()
    for key, value in headers.items():
        for text in (key, value):
            raw = to_bytes(text if isinstance(text, (str, bytes)) else str(text), "a faststream header")
            if len(raw) > 0xFFFF:
                raise CodecFailed("faststream: a header longer than 65535 bytes")
            block += struct.pack(">H", len(raw)) + raw
    headers_start = len(FASTSTREAM_MAGIC) + 2 + 8
    data_start = headers_start + 2 + len(block)
    return b"".join(
        (
            FASTSTREAM_MAGIC,
            struct.pack(">HII", 1, headers_start, data_start),
            struct.pack(">H", len(headers)),
            bytes(block),
            body,
        )
    )


TASKIQ_FIELD = b"data"


class TaskiqCodec:
    """taskiq's stream broker (``taskiq-redis`` ``RedisStreamBroker``): one field ``data``
    holding the task message as JSON (``task_id``, ``task_name``, ``labels``, ``args``,
    ``kwargs``)."""

    name = "taskiq"
    has_headers = False
    default_style: JsonStyle = "python"  # taskiq's JSONSerializer is json.dumps

    def __init__(self, style: JsonStyle = "python") -> None:
        self.style = style

    def detect(self, fields: Fields) -> bool:
        if len(fields) != 1 or fields[0][0] != TASKIQ_FIELD or not fields[0][1].startswith(b"{"):
            return False
        return b'"task_id"' in fields[0][1] and b'"task_name"' in fields[0][1]

    def decode(self, fields: Fields) -> Message:
        if len(fields) != 1 or fields[0][0] != TASKIQ_FIELD:
            raise CodecFailed("taskiq: an entry with one field data expected")
        body = load_json(fields[0][1])
        if not isinstance(body, dict) or "task_name" not in body:
            raise CodecFailed("taskiq: not a task message (no task_name)")
        return Message(body)

    def encode(self, message: Message) -> list[tuple[bytes, bytes]]:
        return [(TASKIQ_FIELD, dump_json(message.body, self.style))]


__all__ = [
    "FASTSTREAM_FIELD",
    "FASTSTREAM_MAGIC",
    "Base64Codec",
    "FastStreamCodec",
    "JsonCodec",
    "MsgpackCodec",
    "RawCodec",
    "TaskiqCodec",
]
