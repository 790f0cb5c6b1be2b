"""What every exporter reads from a recording: its batches with stream names, its gaps
and markers, where its chunks end, and the decoded payload of each entry.

One pass over :meth:`~xtape.recording.Recording.records` in file order (not
interleaved: the rows of a chunk stay together), so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from xtape.codecs import Codec, CodecFailed, CodecResolver, codec_spec
from xtape.recording import Entries, Gap, Marker, Recording, StreamDef
from xtape.recording.jsonl import jsonable
from xtape.timeline import pair_fields


@dataclass(frozen=True, slots=True)
class Event:
    """A gap (``kind == "gap"``, with its stream and ids) or a recorder's marker."""

    kind: str
    capture_ns: int
    stream: bytes | None = None
    after_id: bytes | None = None
    before_id: bytes | None = None
    lost: int | None = None
    text: str | None = None


@dataclass
class ExportStats:
    """What an export wrote."""

    entries: int = 0
    streams: set[bytes] = field(default_factory=set)
    row_groups: int = 0
    #: Gaps and markers (in the markers file).
    events: int = 0
    #: Entries whose payload a codec decoded.
    decoded: int = 0
    #: The flattened columns and their kinds (``--flatten``).
    columns: dict[str, str] = field(default_factory=dict)
    #: The codec chosen per stream (by its spec).
    codecs: dict[bytes, str] = field(default_factory=dict)


def batches(
    rec: Recording,
    keep: Callable[[bytes], bool] | None,
    events: list[Event],
    seen: list[int] | None = None,
) -> Iterator[tuple[bytes, Entries]]:
    """The ENTRIES records of ``rec`` whose stream ``keep`` takes, with the stream's
    name, in file order; gaps and markers go into ``events`` as they are read (a gap of
    a stream ``keep`` refuses is left out). ``seen[0]`` counts every entry read, kept
    or not (where the chunks end, see :func:`chunk_ends`)."""
    names: dict[int, bytes] = {}
    kept: dict[int, bool] = {}
    for record in rec.records():
        if isinstance(record, Entries):
            if seen is not None:
                seen[0] += len(record.ids)
            sid = record.stream_id
            take = kept.get(sid)
            if take is None:
                take = kept[sid] = keep is None or keep(names[sid])
            if take:
                yield names[sid], record
        elif isinstance(record, StreamDef):
            names[record.stream_id] = record.name
            kept.pop(record.stream_id, None)
        elif isinstance(record, Gap):
            stream = names.get(record.stream_id, b"")
            if keep is None or keep(stream):
                events.append(
                    Event("gap", record.capture_ns, stream, record.after_id, record.before_id, record.lost)
                )
        elif isinstance(record, Marker):
            events.append(Event(record.kind, record.capture_ns, text=record.text))


def chunk_ends(rec: Recording) -> list[int] | None:
    """How many entries have been read at the end of each chunk (cumulative), from the
    summaries of a version-2 recording closed cleanly; None where they are not known
    (version 1, standard input, a file not closed cleanly)."""
    parts = rec.parts if rec.parts is not None else [rec]
    sizes: list[int] = []
    for part in parts:
        if part.one_pass:
            return None
        summary = part.stored_summary()
        if summary is None:
            return None
        sizes += [chunk.meta.entries for chunk in summary.chunks]
    return list(accumulate(sizes))


class Payloads:
    """The decoded payload of each entry, by the stream's codec (one resolver, as
    every command: ``--codec``, the catalog's ``codec:``, detection)."""

    def __init__(self, resolver: CodecResolver) -> None:
        self.resolver = resolver

    def codec(self, stream: bytes, record: Entries) -> Codec | None:
        """The codec of ``stream``, chosen on its first entry."""
        return self.resolver.codec(stream, pair_fields(record.flats[0]) if record.flats else None)

    def values(self, codec: Codec, flats: Sequence[Sequence[bytes]]) -> list[tuple[Any, Any] | None]:
        """Per entry, ``(its decoded value, its body)``, or None where the codec does
        not read it (the entry is then kept as fields only)."""
        out: list[tuple[Any, Any] | None] = []
        decode = codec.decode
        for flat in flats:
            try:
                message = decode(pair_fields(flat))
            except (CodecFailed, RecursionError):
                out.append(None)
                continue
            out.append((message.to_value(), message.body))
        return out

    def chosen(self) -> dict[bytes, str]:
        """The codec chosen for each stream that has one, by its spec (``json``)."""
        return {
            stream: codec_spec(choice.codec)
            for stream, choice in self.resolver.choices.items()
            if choice.codec is not None
        }


__all__ = ["Event", "ExportStats", "Payloads", "batches", "chunk_ends", "jsonable"]
