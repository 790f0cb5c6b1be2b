"""``xtape export REC -o OUT.mcap``: one MCAP channel per stream, for Foxglove.

Each channel's topic is the stream's name (``\\xNN`` escapes where it is not UTF-8; the
exact bytes are in the channel's metadata, ``xtape.stream``, base64), its messages JSON
(``message_encoding: json``) and its schema a JSON Schema (``encoding: jsonschema``)::

    {"id": "1700000000000-0",
     "fields": [["user", "alice"], ["blob", {"base64": "/w=="}]],   # as xtape cat writes them
     "payload": {"user": "alice", "amount": 12.5}}                  # typed

``payload`` is the decoded payload where the stream's codec reads the entry (as
``payload`` in Parquet), else the fields typed by the stream's catalog entry (the
catalog given or found, else one inferred from the recording in a first pass:
``xtape infer``'s), so numbers plot as numbers. The channel's schema describes it
the same way. A message's ``log_time`` is when the recorder read the entry, its
``publish_time`` the entry id's milliseconds. Gaps and markers are MCAP metadata
records (``xtape.gap``, ``xtape.marker``), which ``xtape import`` reads back.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
from mcap.writer import CompressionType, Writer

from xtape.catalog.catalog import Catalog, load_catalog_text
from xtape.catalog.infer import infer_catalog
from xtape.catalog.schema import StreamSchema
from xtape.codecs import Codec, CodecResolver
from xtape.errors import UsageError
from xtape.interop.flatten import fields_mapping
from xtape.interop.reading import Event, ExportStats, Payloads, batches, jsonable
from xtape.outputs import replacing_binary
from xtape.recording import Recording
from xtape.timeline import NS_PER_MS, fields_to_json, pair_fields

#: The schema name of every channel xtape writes (``import`` looks for it).
SCHEMA_PREFIX = "xtape.entry"
GAP = "xtape.gap"
MARKER = "xtape.marker"
STREAM_KEY = "xtape.stream"

_TEXT_OR_BYTES: dict[str, Any] = {
    "oneOf": [
        {"type": "string"},
        {"type": "object", "properties": {"base64": {"type": "string"}}, "required": ["base64"]},
    ]
}
_FIELDS = {
    "type": "array",
    "description": "The entry's fields in order, repeated names kept: [name, value] (text, or {base64} for bytes).",
    "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": _TEXT_OR_BYTES},
}


def channel_schema(stream: str, payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """The JSON Schema of one stream's messages."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": stream,
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The Redis stream entry id, ms-seq."},
            "fields": _FIELDS,
            "payload": dict(payload or {}),
        },
        "required": ["id", "fields"],
    }


class _Schemas:
    """Each stream's catalog entry: the catalog's, else an inferred one."""

    def __init__(self, rec: Recording, catalog: Catalog | None, codecs: CodecResolver) -> None:
        self.catalog = catalog
        self.inferred: Catalog | None = None
        self._rec = rec
        self._codecs = codecs

    def lookup(self, stream: bytes) -> StreamSchema | None:
        found = None if self.catalog is None else self.catalog.lookup(stream)
        if found is not None:
            return found
        if self.inferred is None:
            self.inferred = self._infer()
        return self.inferred.lookup(stream)

    def _infer(self) -> Catalog:
        rec = self._rec
        if rec.one_pass or rec.path is None:
            raise UsageError(
                "export to MCAP infers the streams' schemas in a first pass: give a recording file, "
                "not standard input (or a --catalog that covers every stream)"
            )
        inferred = infer_catalog(rec.path, codecs=self._codecs)
        return load_catalog_text(inferred.catalog_yaml(), "<inferred catalog>")


#: Keywords at their JSON Schema defaults, which the schema compiler writes into a
#: catalog's schemas; left out of the channels' schemas, which people read.
_DEFAULTS: dict[str, Any] = {
    "readOnly": False,
    "items": True,
    "uniqueItems": False,
    "definitions": {},
    "properties": {},
    "patternProperties": {},
}


def tidy_schema(schema: Any) -> Any:
    """``schema`` without keywords that say only their default (see :data:`_DEFAULTS`)."""
    if isinstance(schema, Mapping):
        return {
            key: tidy_schema(value)
            for key, value in schema.items()
            if not (key in _DEFAULTS and value == _DEFAULTS[key] and type(value) is type(_DEFAULTS[key]))
        }
    if isinstance(schema, list):
        return [tidy_schema(item) for item in schema]
    return schema


def _payload_schema(schema: StreamSchema | None, codec: Codec | None) -> dict[str, Any]:
    body = tidy_schema(schema.schema) if schema is not None and schema.kind != "none" else {}
    if codec is not None and codec.has_headers:
        return {"type": "object", "properties": {"headers": {"type": "object"}, "body": body}}
    return body


class _Channels:
    """The channel of each stream, registered (with its schema) on first use."""

    def __init__(self, writer: Writer, schemas: _Schemas) -> None:
        self.writer = writer
        self.schemas = schemas
        self.ids: dict[bytes, tuple[int, StreamSchema | None]] = {}

    def get(self, stream: bytes, codec: Codec | None) -> tuple[int, StreamSchema | None]:
        found = self.ids.get(stream)
        if found is None:
            topic = stream.decode("utf-8", "backslashreplace")
            schema = self.schemas.lookup(stream)
            data = orjson.dumps(channel_schema(topic, _payload_schema(schema, codec)), default=jsonable)
            schema_id = self.writer.register_schema(f"{SCHEMA_PREFIX}.{topic}", "jsonschema", data)
            metadata = {STREAM_KEY: base64.b64encode(stream).decode("ascii")}
            if codec is not None:
                metadata["xtape.codec"] = codec.name
            channel = self.writer.register_channel(topic, "json", schema_id, metadata)
            found = self.ids[stream] = (channel, schema)
        return found


def export_mcap(
    rec: Recording,
    output: str | Path,
    *,
    keep: Callable[[bytes], bool] | None = None,
    codecs: CodecResolver | None = None,
    catalog: Catalog | None = None,
) -> ExportStats:
    """Write the entries of ``rec`` to ``output`` (replaced whole) as MCAP."""
    resolver = codecs or CodecResolver()
    payloads = Payloads(resolver)
    stats = ExportStats()
    events: list[Event] = []
    dumps, option = orjson.dumps, orjson.OPT_NON_STR_KEYS
    with replacing_binary(output) as fh:
        writer = Writer(fh, compression=CompressionType.ZSTD)
        writer.start(profile="", library="xtape")
        channels = _Channels(writer, _Schemas(rec, catalog, resolver))
        sequence: dict[int, int] = {}
        for stream, record in batches(rec, keep, events):
            codec = payloads.codec(stream, record)
            channel, schema = channels.get(stream, codec)
            decoded = None if codec is None else payloads.values(codec, record.flats)
            n = sequence.get(channel, 0)
            for i, (entry_id, flat) in enumerate(zip(record.ids, record.flats, strict=True)):
                one = None if decoded is None else decoded[i]
                if one is not None:
                    stats.decoded += 1
                message = {
                    "id": entry_id.decode("ascii"),
                    "fields": fields_to_json(pair_fields(flat)),
                    "payload": _typed(schema, flat) if one is None else one[0],
                }
                writer.add_message(
                    channel,
                    log_time=record.capture_ns,
                    data=dumps(message, default=jsonable, option=option),
                    publish_time=int(entry_id.partition(b"-")[0]) * NS_PER_MS,
                    sequence=n + i,
                )
            sequence[channel] = n + len(record.ids)
            stats.entries += len(record.ids)
            stats.streams.add(stream)
        for event in events:
            writer.add_metadata(*event_metadata(event))
        writer.finish()  # type: ignore[no-untyped-call]
    stats.events = len(events)
    stats.codecs = payloads.chosen()
    return stats


def _typed(schema: StreamSchema | None, flat: Any) -> Any:
    """The fields as the catalog entry types them (else as text, bytes where not UTF-8)."""
    if schema is None:
        return fields_mapping(flat)
    return schema.decode(flat, [])


def event_metadata(event: Event) -> tuple[str, dict[str, str]]:
    """A gap or marker as an MCAP metadata record: its name and its text values."""
    if event.kind == "gap":
        assert event.stream is not None and event.after_id is not None and event.before_id is not None
        return GAP, {
            "capture_ns": str(event.capture_ns),
            STREAM_KEY: base64.b64encode(event.stream).decode("ascii"),
            "after_id": event.after_id.decode("ascii"),
            "before_id": event.before_id.decode("ascii"),
            "lost": str(event.lost),
        }
    return MARKER, {"capture_ns": str(event.capture_ns), "kind": event.kind, "text": event.text or ""}


__all__ = ["GAP", "MARKER", "SCHEMA_PREFIX", "STREAM_KEY", "channel_schema", "event_metadata", "export_mcap"]
