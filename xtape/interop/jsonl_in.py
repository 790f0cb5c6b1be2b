"""What ``xtape import`` reads JSON lines with, and writes every import's entries with.

JSON lines, one entry each, as ``xtape cat`` writes them: ``{"stream", "id", "fields":
[[name, value], ...]}``, names and values text (UTF-8) or ``{"base64": ...}``, so ``xtape
cat REC | jq ... | xtape import - -o EDITED.xtape`` edits a recording with jq, every entry
jq leaves alone byte for byte. A line of ``cat --decode`` (``{"codec": NAME, "value":
...}``) is encoded again by that codec. Other keys (``time``) are ignored. JSON lines
carry no capture time: a batch (consecutive lines of one stream, at most
:data:`BATCH` entries) is taken as read at its last entry id's time.
:class:`Batcher` gathers the entries of any import into the recording writer's batches.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from xtape.codecs import CodecFailed, get_codec, message_of
from xtape.errors import InvalidStreamId, LocatedError, UsageError
from xtape.ids import StreamId, id_ms
from xtape.recording import RecordingWriter
from xtape.timeline import NS_PER_MS

#: Consecutive entries of one stream written as one batch at most.
BATCH = 1000


class ImportInvalid(LocatedError):
    """A line (or message) of the input that is not an entry xtape can import."""


@dataclass
class ImportStats:
    """What an import wrote."""

    format: str
    entries: int = 0
    streams: set[bytes] = field(default_factory=set)
    events: int = 0


class Batcher:
    """Consecutive entries of one stream (read at one time) gathered into batches."""

    def __init__(self, writer: RecordingWriter, stats: ImportStats) -> None:
        self.writer = writer
        self.stats = stats
        self.stream: bytes | None = None
        self.capture_ns = 0
        self.entries: list[Sequence[Any]] = []

    def add(self, stream: bytes, entry_id: bytes, flat: list[bytes], capture_ns: int | None = None) -> None:
        """One entry; ``capture_ns`` None: the batch's is its last id's time."""
        if self.entries and (
            stream != self.stream or len(self.entries) >= BATCH or (capture_ns is not None and capture_ns != self.capture_ns)
        ):
            self.flush()
        self.stream = stream
        self.capture_ns = id_ms(entry_id) * NS_PER_MS if capture_ns is None else capture_ns
        self.entries.append([entry_id, flat])

    def flush(self) -> None:
        if self.entries and self.stream is not None:
            self.writer.write_entries(self.stream, self.entries, self.capture_ns)
            self.stats.entries += len(self.entries)
            self.stats.streams.add(self.stream)
            self.entries = []


def _text_or_base64(value: Any, what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, dict) and set(value) == {"base64"} and isinstance(value["base64"], str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{what}: invalid base64") from None
    raise ValueError(f"{what} must be text or {{\"base64\": ...}}")


def _flat(fields: Any) -> list[bytes]:
    if isinstance(fields, dict):
        raise ValueError(
            "fields is an object (xtape cat --object): import needs the lossless form, "
            "[[name, value], ...] (xtape cat without --object)"
        )
    if not isinstance(fields, list):
        raise ValueError('"fields" must be a list of [name, value] pairs')
    flat: list[bytes] = []
    for i, pair in enumerate(fields):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"fields[{i}] must be a [name, value] pair")
        flat.append(_text_or_base64(pair[0], f"fields[{i}][0]"))
        flat.append(_text_or_base64(pair[1], f"fields[{i}][1]"))
    return flat


def _decoded_fields(codec_name: Any, value: Any) -> list[bytes]:
    """A ``cat --decode`` line's value encoded again by its codec."""
    if not isinstance(codec_name, str):
        raise ValueError('"codec" must be a codec name')
    codec = get_codec(codec_name)
    try:
        pairs = codec.encode(message_of(codec, value))
    except CodecFailed as exc:
        raise ValueError(f"codec {codec_name}: {exc}") from None
    return [part for pair in pairs for part in pair]


def entry_of(obj: Any) -> tuple[bytes, bytes, list[bytes]]:
    """``(stream, id, flat fields)`` of one JSON entry (ValueError: what is wrong)."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    for key in ("stream", "id"):
        if key not in obj:
            raise ValueError(f'no "{key}"')
    stream = _text_or_base64(obj["stream"], "stream")
    ident = obj["id"]
    if not isinstance(ident, str):
        raise ValueError('"id" must be text (ms-seq)')
    try:
        entry_id = bytes(StreamId.parse(ident))
    except InvalidStreamId as exc:
        raise ValueError(str(exc)) from None
    if entry_id.decode("ascii") != ident:
        raise ValueError(f'"id" {ident!r} is not written as Redis writes it ({entry_id.decode("ascii")})')
    if obj.get("codec") is not None and "fields" not in obj:
        return stream, entry_id, _decoded_fields(obj["codec"], obj.get("value"))
    if "fields" not in obj:
        raise ValueError('no "fields"')
    return stream, entry_id, _flat(obj["fields"])


def jsonl_entries(fh: IO[bytes], name: str) -> Iterator[tuple[bytes, bytes, list[bytes]]]:
    for number, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ImportInvalid(name, number, f"not a JSON line ({exc})") from None
        try:
            yield entry_of(obj)
        except (ValueError, UsageError) as exc:
            raise ImportInvalid(name, number, str(exc)) from None


__all__ = ["BATCH", "Batcher", "ImportInvalid", "ImportStats", "entry_of", "jsonl_entries"]
