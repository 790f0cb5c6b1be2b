"""A catalog inferred from a recording, and generators that reproduce its traffic.

:func:`infer_catalog` reads a recording once, in constant memory, and keeps per stream
and field what a person would write in a catalog: how often the field is present, its
type (integer, number, boolean, JSON object or array, string with a length range,
binary when a value is not UTF-8), the distinct values while they are few (an enum, with
their counts), numeric ranges and decimals, a few examples. Values the recorder redacted
(``redacted:<digest>``) stay redacted: no examples, a pattern, generators that make fresh
digests.

:meth:`Inferred.catalog_yaml` writes ``streams.yaml`` (stable order, comments saying what
was inferred from how many entries); :meth:`Inferred.scenario` a compact scenario of
generators that publishes each stream at its observed rate (``convert --generators``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xtape.catalog.fields import FieldStats, counted
from xtape.codecs import CodecResolver, codec_spec
from xtape.ids import id_ms
from xtape.recording import Recording
from xtape.scenario.encoding import EncodingFailed, encode_value
from xtape.timeline import display_name, pair_fields
from xtape.units import match_any
from xtape.version import __version__
from xtape.yamlfile.dump import dump_flow

#: Distinct field names described per stream; the values of further names are counted only.
MAX_FIELDS = 1_000
#: How long one pass of a generated scenario is at least, in ms.
MIN_WINDOW_MS = 1000
#: Ticks per pass of a generated scenario: each stream's entries are spread over them.
TICKS = 10

_SAFE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]*")
_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})

#: ``progress(entries_read)`` now and then.
InferProgress = Callable[[int], None]


@dataclass
class StreamStats:
    """What was seen of one stream."""

    name: bytes
    entries: int = 0
    first_ms: int | None = None
    last_ms: int = 0
    repeated_names: int = 0
    #: Values of field names beyond :data:`MAX_FIELDS`, counted and not described.
    left_out: int = 0
    fields: dict[bytes, FieldStats] = field(default_factory=dict)
    #: ``FieldStats.add`` of each field, looked up once.
    adders: dict[bytes, Callable[[bytes], None]] = field(default_factory=dict, repr=False)
    #: The codec its payloads were decoded with (then ``fields`` are the body's keys).
    codec: str | None = None

    @property
    def span_ms(self) -> int:
        return 0 if self.first_ms is None else max(0, self.last_ms - self.first_ms)

    @property
    def rate(self) -> float:
        """Entries per second, from the ids' times (0 if they span no time)."""
        return (self.entries - 1) * 1000 / self.span_ms if self.span_ms and self.entries > 1 else 0.0


@dataclass
class Inferred:
    """What :func:`infer_catalog` found in a recording."""

    path: str
    streams: list[StreamStats]
    entries: int
    span_ms: int

    def catalog_yaml(self) -> str:
        """The catalog as YAML with comments: ``streams.yaml`` to edit and commit."""
        lines = [
            f"# Stream catalog inferred by xtape {__version__} from {Path(self.path).name}: "
            f"{self.entries:,} entries on {len(self.streams)} streams over {self.span_ms / 1000:.1f} s.",
            "# Types, enums and required fields are what those entries showed: check them, edit",
            "# them and commit the file. See docs/catalog.md for the format.",
            "version: 1",
            "strict: false",
            "streams:" if self.streams else "streams: {}",
        ]
        for stream in self.streams:
            name = _text_or_none(stream.name)
            rate = f", {stream.rate:,.1f}/s" if stream.rate else ""
            if name is None:
                lines.append(f"  # stream {display_name(stream.name)} left out: its name is not UTF-8 text")
                continue
            lines.append(f"  # {counted(stream.entries, 'entry', 'entries')}{rate}")
            if stream.repeated_names:
                lines.append(f"  # {stream.repeated_names:,} entries repeat a field name: such a field is checked by its last value")
            if stream.left_out:
                lines.append(
                    f"  # more than {MAX_FIELDS:,} distinct field names: only the first {MAX_FIELDS:,} are described "
                    f"({stream.left_out:,} values of the others left out; strict: false lets them through)"
                )
            lines.append(f"  {_key(name)}:")
            seen = counted(stream.entries, "recorded entry", "recorded entries")
            lines.append(f"    description: {dump_flow(f'Inferred from {seen}.')}")
            if stream.codec is not None:
                lines.append(f"    codec: {stream.codec}  # the fields below are its decoded body's")
            described = [(f, f.text_name) for f in stream.fields.values()]
            lines.append("    fields:" if any(n is not None for _, n in described) else "    fields: {}")
            for stats, field_name in described:
                if field_name is None:
                    lines.append(f"      # field {display_name(stats.name)} left out: its name is not UTF-8 text")
                    continue
                lines.append(f"      {_key(field_name)}: {dump_flow(stats.schema())}  # {stats.comment(stream.entries)}")
            required = [n for f, n in described if n is not None and f.count == stream.entries]
            if required:
                lines.append(f"    required: {dump_flow(required)}  # present in every entry")
        return "\n".join(lines) + "\n"

    def scenario(self, *, name: str | None = None, description: str | None = None) -> dict[str, Any]:
        """A compact scenario whose generators publish each stream's shape at its rate.

        One pass covers a window of at least :data:`MIN_WINDOW_MS` (long enough for the
        rarest stream to publish once), split into :data:`TICKS` ticks; each stream's
        entries for the window are spread over the ticks. Loop it for longer runs.
        """
        streams = [s for s in self.streams if _text_or_none(s.name) is not None and s.entries]
        window = MIN_WINDOW_MS
        for stream in streams:
            if stream.rate:
                window = max(window, round(1000 / stream.rate))
        window = min(window, max(self.span_ms, MIN_WINDOW_MS))
        counts = {s.name: max(1, round(s.rate * window / 1000)) if s.rate else 1 for s in streams}
        ticks = max(1, min(TICKS, max(counts.values(), default=1)))
        tick_ms = window / ticks
        generators: dict[str, Any] = {}
        for stream in streams:
            spec: dict[str, Any] = {}
            for stats in stream.fields.values():
                field_name = stats.text_name
                if field_name is not None and "{{" not in field_name:
                    spec[field_name] = stats.generator()
            generators[stream.name.decode("utf-8")] = spec or {"empty": ""}
        events: list[dict[str, Any]] = []
        if len(streams) == 1:  # one stream: its rate exactly, as repeat/interval
            count = counts[streams[0].name]
            spacing = _ms(window / count)
            events.append(
                {"stream": streams[0].name.decode("utf-8"), "generator": True, "delay": spacing}
                | ({"repeat": count, "interval": spacing} if count > 1 else {})
            )
            ticks = 0
        pending = 0.0  # each tick starts tick_ms after the one before (the first too, so
        for tick in range(ticks):  # that passes follow each other a window apart)
            pending += tick_ms
            for stream in streams:
                count = counts[stream.name]
                n = (tick + 1) * count // ticks - tick * count // ticks
                if not n:
                    continue
                event: dict[str, Any] = {"stream": stream.name.decode("utf-8"), "generator": True}
                if pending:
                    event["delay"] = _ms(pending)
                    pending = 0.0
                if n > 1:
                    event["repeat"] = n
                events.append(event)
        rates = ", ".join(
            f"{display_name(s.name)} {s.rate:,.1f}/s" if s.rate else f"{display_name(s.name)} once" for s in streams
        )
        return {
            "name": name or f"Load from {Path(self.path).name}",
            "description": description
            or (
                f"Generated by xtape convert --generators from {Path(self.path).name} "
                f"({self.entries:,} entries): random payloads of each stream's observed shape at "
                f"its observed rate ({rates}). One pass is {window / 1000:g} s of traffic; "
                "replay with --loop (and --speed) for longer or heavier load."
            ),
            "generators": generators,
            "events": events,
        }


def scenario_yaml(scenario: dict[str, Any]) -> str:
    """A scenario of :meth:`Inferred.scenario` as compact YAML: one line per generator
    field and per event."""
    lines = [
        "# Written by xtape convert --generators: random payloads of each stream's observed",
        "# shape at its observed rate (see docs/catalog.md). Edit the generators freely.",
        f"name: {dump_flow(scenario['name'])}",
        f"description: {dump_flow(scenario['description'])}",
        "generators:",
    ]
    for name, spec in scenario["generators"].items():
        lines.append(f"  {_key(name)}:")
        for field_name, field_spec in spec.items():
            lines.append(f"    {_key(field_name)}: {dump_flow(field_spec)}")
    lines.append("events:")
    for event in scenario["events"]:
        lines.append(f"  - {dump_flow(event)}")
    return "\n".join(lines) + "\n"


def _ms(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 3)


def _text_or_none(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _key(name: str) -> str:
    if _SAFE_KEY.fullmatch(name) and name.lower() not in _YAML_WORDS:
        return name
    return json.dumps(name, ensure_ascii=False)


def _body_fields(codecs: CodecResolver, stream: bytes, flat: Sequence[bytes]) -> Sequence[bytes]:
    """A decoded body's top-level keys and values as flat fields (values as the scenario
    encoding writes them), for the field statistics; the entry as it is if not decoded."""
    decoded = codecs.decode(stream, pair_fields(flat))
    if decoded is None or not isinstance(decoded[1].body, dict):
        return flat
    out: list[bytes] = []
    for key, value in decoded[1].body.items():
        try:
            out += (str(key).encode("utf-8"), encode_value(value))
        except EncodingFailed:
            continue
    return out


def _widen_span(stream: StreamStats, first: int, last: int) -> None:
    """Take the times (ms) of a batch's first and last entries into the stream's span."""
    if stream.first_ms is None or first < stream.first_ms:
        stream.first_ms = first
    if last > stream.last_ms:
        stream.last_ms = last


def infer_catalog(
    path: str | Path,
    *,
    streams: Sequence[str] = (),
    progress: InferProgress | None = None,
    codecs: CodecResolver | None = None,
) -> Inferred:
    """Read the recording at ``path`` once and infer what its streams hold (only those
    matching the ``streams`` globs, if any). A stream with a codec (``codecs``; by
    default envelopes are detected) is described by its decoded body's top-level keys."""
    if codecs is None:
        codecs = CodecResolver(detect_json=False)
    recording = Recording(path, interleave=False)
    found: dict[bytes, StreamStats] = {}
    skipped: set[bytes] = set()
    total = 0
    for stream_name, _, raw in recording.batches():
        stream = found.get(stream_name)
        if stream is None:
            if stream_name in skipped:
                continue
            if streams and not match_any(stream_name, list(streams)):
                skipped.add(stream_name)
                continue
            stream = found[stream_name] = StreamStats(stream_name)
        fields = stream.fields
        adders = stream.adders
        stream.entries += len(raw)
        total += len(raw)
        if raw and stream.entries == len(raw):
            codec = codecs.codec(stream_name, pair_fields(raw[0][1]))
            stream.codec = None if codec is None else codec_spec(codec)
        if stream.codec is not None:
            raw = [(entry_id, _body_fields(codecs, stream_name, flat)) for entry_id, flat in raw]
        for _entry_id, flat in raw:
            it = iter(flat)
            for name, value in zip(it, it, strict=False):
                add = adders.get(name)
                if add is None:
                    if len(fields) >= MAX_FIELDS:
                        stream.left_out += 1
                        continue
                    stats = fields[name] = FieldStats(name)
                    add = adders[name] = stats.add
                add(value)
            if len(flat) > 2 and len(set(flat[::2])) * 2 != len(flat):
                stream.repeated_names += 1
        if raw:
            _widen_span(stream, id_ms(raw[0][0]), id_ms(raw[-1][0]))
        if progress is not None and total & ~0xFFFF != (total - len(raw)) & ~0xFFFF:
            progress(total)
    ordered = sorted(found.values(), key=lambda s: s.name)
    starts = [s.first_ms for s in ordered if s.first_ms is not None]
    span = (max(s.last_ms for s in ordered) - min(starts)) if starts else 0
    return Inferred(str(path), ordered, total, span)
