"""A recording checked against a catalog: has production traffic drifted from the schemas?

:func:`validate_recording` reads every entry once (constant memory) and counts, per
stream, the entries checked and the invalid ones, keeping the first few with their id
and reason. A stream the catalog does not know counts all its entries as invalid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xtape.catalog.catalog import Catalog
from xtape.catalog.schema import StreamSchema, format_problem
from xtape.codecs import CodecResolver
from xtape.recording import Recording
from xtape.timeline import display_name, pair_fields

#: ``progress(entries_checked)`` now and then.
CheckProgress = Callable[[int], None]


@dataclass
class StreamCheck:
    """One stream's result."""

    stream: bytes
    entries: int = 0
    invalid: int = 0
    #: ``(entry id, reason)`` of the first invalid entries.
    first: list[tuple[str, str]] = field(default_factory=list)
    #: Why the whole stream is invalid (not in the catalog), else "".
    unknown: str = ""

    @property
    def name(self) -> str:
        return display_name(self.stream)

    def to_dict(self) -> dict[str, object]:
        return {
            "stream": self.name,
            "entries": self.entries,
            "invalid": self.invalid,
            "unknown": self.unknown or None,
            "first_invalid": [{"id": i, "reason": r} for i, r in self.first],
        }


@dataclass
class RecordingCheck:
    """Every stream of a recording checked against a catalog."""

    path: str
    catalog: str | None
    streams: list[StreamCheck]
    truncated_bytes: int = 0

    @property
    def entries(self) -> int:
        return sum(s.entries for s in self.streams)

    @property
    def invalid(self) -> int:
        return sum(s.invalid for s in self.streams)

    @property
    def ok(self) -> bool:
        return self.invalid == 0

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "catalog": self.catalog,
            "entries": self.entries,
            "invalid": self.invalid,
            "streams": [s.to_dict() for s in self.streams],
        }


def _start_check(stream: bytes, catalog: Catalog) -> tuple[StreamCheck, StreamSchema | None]:
    """The check of a stream met for the first time, with its schema (None: not in the
    catalog)."""
    result = StreamCheck(stream)
    spec = catalog.lookup(stream)
    if spec is None:
        result.unknown = catalog.unknown_stream(stream)
    return result, spec


def validate_recording(
    path: str | Path,
    catalog: Catalog,
    *,
    examples: int = 3,
    progress: CheckProgress | None = None,
    codecs: CodecResolver | None = None,
) -> RecordingCheck:
    """Check every entry of the recording at ``path`` against ``catalog``.

    A stream with a codec (``codecs``: the resolver; by default the catalog's ``codec:``
    and envelopes detected) is checked on each entry's decoded body."""
    if codecs is None:
        codecs = CodecResolver(catalog=catalog.codec, detect_json=False)
    recording = Recording(path, interleave=False)
    results: dict[bytes, StreamCheck] = {}
    checks: dict[bytes, tuple[StreamCheck, StreamSchema | None]] = {}
    done = 0
    for stream, _, raw in recording.batches():
        found = checks.get(stream)
        if found is None:
            found = checks[stream] = _start_check(stream, catalog)
            results[stream] = found[0]
        result, spec = found
        result.entries += len(raw)
        done += len(raw)
        if spec is None:
            result.invalid += len(raw)
            for entry_id, _flat in raw[: max(0, examples - len(result.first))]:
                result.first.append((_id(entry_id), "stream not in the catalog"))
        elif spec.kind != "none" and raw and codecs.codec(stream, pair_fields(raw[0][1])) is not None:
            for entry_id, flat in raw:
                decoded = codecs.decode(stream, pair_fields(flat))
                problems = spec.check(flat) if decoded is None else spec.check_value(decoded[1].body)
                if not problems:
                    continue
                result.invalid += 1
                if len(result.first) < examples:
                    result.first.append((_id(entry_id), "; ".join(format_problem(p, m) for p, m in problems)))
        elif spec.kind != "none":
            is_valid = spec.is_valid
            for entry_id, flat in raw:
                if is_valid(flat):
                    continue
                result.invalid += 1
                if len(result.first) < examples:  # only these are explained (the slow path)
                    problems = spec.check(flat)
                    result.first.append((_id(entry_id), "; ".join(format_problem(p, m) for p, m in problems)))
        if progress is not None and done & ~0xFFFF != (done - len(raw)) & ~0xFFFF:
            progress(done)
    ordered = sorted(results.values(), key=lambda s: s.stream)
    return RecordingCheck(str(path), catalog.path, ordered, recording.truncated_bytes)


def _id(entry_id: bytes | str) -> str:
    return entry_id.decode("ascii", "replace") if isinstance(entry_id, bytes) else str(entry_id)
