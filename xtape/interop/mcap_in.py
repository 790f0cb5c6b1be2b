"""MCAP written by ``xtape export`` read back into a recording (``xtape import``).

Messages are read in file order (the order they were exported in), a batch per run of
one channel's messages with one ``log_time``; the ``xtape.gap`` and ``xtape.marker``
metadata records are written in capture-time order among them.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

import orjson
from mcap.exceptions import McapError
from mcap.reader import make_reader

from xtape.errors import UsageError
from xtape.interop.jsonl_in import Batcher, ImportInvalid, ImportStats, entry_of
from xtape.interop.mcap_out import GAP, MARKER, SCHEMA_PREFIX, STREAM_KEY


def _stream(metadata: dict[str, str], topic: str) -> bytes:
    raw = metadata.get(STREAM_KEY)
    if raw is None:
        return topic.encode("utf-8")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"channel {topic!r}: its {STREAM_KEY} is not base64") from None


def _events(reader: Any) -> list[tuple[int, str, dict[str, str]]]:
    """The gaps and markers, ``(capture_ns, name, values)`` in time order."""
    out = []
    for record in reader.iter_metadata():
        if record.name in (GAP, MARKER):
            try:
                out.append((int(record.metadata["capture_ns"]), record.name, dict(record.metadata)))
            except (KeyError, ValueError):
                raise ValueError(f"a {record.name} metadata record without its capture_ns") from None
    out.sort(key=lambda event: event[0])
    return out


def _write_event(batches: Batcher, name: str, values: dict[str, str]) -> None:
    batches.flush()
    writer = batches.writer
    ns = int(values["capture_ns"])
    if name == GAP:
        writer.write_gap(
            base64.b64decode(values[STREAM_KEY]),
            values["after_id"].encode("ascii"),
            values["before_id"].encode("ascii"),
            int(values["lost"]),
            ns,
        )
    else:
        writer.write_marker(values.get("kind", "note"), values.get("text", ""), ns)
    batches.stats.events += 1


def read_mcap(path: Path, batches: Batcher, stats: ImportStats) -> None:
    """Every entry, gap and marker of the MCAP file at ``path`` into ``batches``."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            reader = make_reader(fh)
            events = _events(reader)
            streams: dict[int, bytes] = {}
            at = 0
            for schema, channel, message in reader.iter_messages(log_time_order=False):
                if channel.message_encoding != "json" or schema is None or not schema.name.startswith(SCHEMA_PREFIX):
                    raise ImportInvalid(
                        name,
                        None,
                        f"channel {channel.topic!r} is not one xtape export wrote (JSON messages, "
                        f"schema {SCHEMA_PREFIX}.*): import reads MCAP that xtape export wrote",
                    )
                stream = streams.get(channel.id)
                if stream is None:
                    stream = streams[channel.id] = _stream(dict(channel.metadata), channel.topic)
                while at < len(events) and events[at][0] <= message.log_time:
                    _write_event(batches, events[at][1], events[at][2])
                    at += 1
                obj = orjson.loads(message.data)
                if isinstance(obj, dict):
                    obj["stream"] = {"base64": base64.b64encode(stream).decode("ascii")}
                _, entry_id, flat = entry_of(obj)
                batches.add(stream, entry_id, flat, message.log_time)
            for _, kind, values in events[at:]:
                _write_event(batches, kind, values)
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except (McapError, orjson.JSONDecodeError, ValueError, KeyError) as exc:
        raise ImportInvalid(name, None, f"not MCAP that xtape export wrote ({exc})") from None


__all__ = ["read_mcap"]
