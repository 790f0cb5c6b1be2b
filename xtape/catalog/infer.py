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

from xtape.catalog.shown import shown
from xtape.codecs import CodecResolver, codec_spec
from xtape.ids import id_ms
from xtape.recording import Recording
from xtape.scenario.encoding import EncodingFailed, encode_value
from xtape.timeline import display_name, pair_fields
from xtape.units import match_any
from xtape.version import __version__
from xtape.yamlfile.dump import dump_flow

#: A field with at most this many distinct values (each seen at least twice on average)
#: is an enum.
ENUM_MAX = 10
#: Examples kept per field.
EXAMPLES = 3
#: A value longer than this (bytes) is never an enum member: the field is no enum.
ENUM_VALUE_MAX = 100
#: A value longer than this (bytes) is never kept as an example.
EXAMPLE_MAX = 1_000
#: Distinct field names described per stream; the values of further names are counted only.
MAX_FIELDS = 1_000
#: How long one pass of a generated scenario is at least, in ms.
MIN_WINDOW_MS = 1000
#: Ticks per pass of a generated scenario: each stream's entries are spread over them.
TICKS = 10

_INT = re.compile(rb"-?(?:0|[1-9][0-9]*)")
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE][-+]?[0-9]+)?")
_REDACTED = re.compile(rb"redacted:[0-9a-f]{32}")
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_HEX = re.compile(rb"[0-9a-f]*")
_DIGITS = re.compile(rb"[0-9]+")
_SAFE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]*")
_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})
#: Field names whose values are secrets (password, token, secret, *key; any case).
_SECRET = re.compile(rb"pass(?:word|wd)|token|secret|key$", re.IGNORECASE)

#: ``progress(entries_read)`` now and then.
InferProgress = Callable[[int], None]


class FieldStats:
    """What was seen of one field of one stream."""

    __slots__ = (
        "count",
        "counts",
        "examples",
        "hex",
        "high",
        "kind",
        "low",
        "max_decimals",
        "max_len",
        "min_len",
        "name",
        "prefix",
        "redacted",
        "secret",
        "tail_digits",
        "uuid",
    )  # fmt: skip

    def __init__(self, name: bytes) -> None:
        self.name = name
        self.count = 0
        #: "integer", "number", "boolean", "object", "array", "string" or "binary".
        self.kind = ""
        #: value -> how many times, while there are at most ENUM_MAX distinct values.
        self.counts: dict[bytes, int] | None = {}
        self.examples: list[bytes] = []
        self.low: float = 0
        self.high: float = 0
        self.max_decimals = 0
        self.min_len = 1 << 62
        self.max_len = 0
        self.redacted = True
        self.uuid = True
        self.hex = True
        #: The text every value starts with, and whether what follows is always digits.
        self.prefix: bytes | None = None
        self.tail_digits = True
        #: The name looks like a secret's: its values are never written (unless redacted).
        self.secret = _SECRET.search(name) is not None

    def add(self, value: bytes) -> None:
        """One more value of the field (the hot path of infer: one call per field)."""
        self.count += 1
        counts = self.counts
        if counts is not None:
            seen = counts.get(value)
            if seen is not None:  # a value seen before: nothing new to learn but its count
                counts[value] = seen + 1
                return
            if len(counts) < ENUM_MAX and len(value) <= ENUM_VALUE_MAX:
                counts[value] = 1
            else:
                self.counts = None
        size = len(value)
        if size < self.min_len:
            self.min_len = size
        if size > self.max_len:
            self.max_len = size
        if len(self.examples) < EXAMPLES and size <= EXAMPLE_MAX and value not in self.examples:
            self.examples.append(value)
        kind = self.kind
        if kind == "number" or kind == "integer":
            if kind == "integer" and _INT.fullmatch(value):
                number: float = int(value)
            else:
                match = _NUMBER.fullmatch(value)
                if match is None:
                    self._first(value)
                    return
                self.kind = "number"
                number = float(value)
                decimals = match.group(1)
                if decimals is not None and len(decimals) > self.max_decimals:
                    self.max_decimals = len(decimals)
            if number < self.low:
                self.low = number
            elif number > self.high:
                self.high = number
            return
        if kind == "string" or kind == "binary":
            self._text(value)
            return
        self._first(value)

    def _number(self, number: float, match: re.Match[bytes]) -> None:
        if number < self.low:
            self.low = number
        if number > self.high:
            self.high = number
        decimals = match.group(1)
        if decimals is not None and len(decimals) > self.max_decimals:
            self.max_decimals = len(decimals)

    def _first(self, value: bytes) -> None:
        """Classify a value when the field's kind so far does not cover it."""
        kind = self.kind
        if kind == "":
            if _INT.fullmatch(value):
                self.kind = "integer"
                self.low = self.high = int(value)
                return
            match = _NUMBER.fullmatch(value)
            if match is not None:
                self.kind = "number"
                self.low = self.high = float(value)
                self._number(self.low, match)
                return
            if value in (b"true", b"false"):
                self.kind = "boolean"
                return
            if value[:1] in (b"{", b"["):
                try:
                    parsed = json.loads(value)
                except (ValueError, RecursionError):
                    parsed = None
                if isinstance(parsed, (dict, list)):
                    self.kind = "object" if isinstance(parsed, dict) else "array"
                    return
        elif kind == "boolean" and value in (b"true", b"false"):
            return
        elif kind in ("object", "array") and value[:1] in (b"{", b"["):
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict if kind == "object" else list):
                return
        if kind not in ("", "string"):  # what it was so far is text too
            for example in self.examples:
                self._text(example)
        self.kind = "string"
        self._text(value)

    def _text(self, value: bytes) -> None:
        if self.kind == "string" and not value.isascii():
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                self.kind = "binary"
        if self.redacted and not _REDACTED.fullmatch(value):
            self.redacted = False
        if self.uuid and not _UUID.fullmatch(value):
            self.uuid = False
        if self.hex and not _HEX.fullmatch(value):
            self.hex = False
        prefix = self.prefix
        if prefix is None:
            head = value.rstrip(b"0123456789")
            self.prefix = head
            self.tail_digits = len(head) < len(value)
        else:
            if not value.startswith(prefix):
                short = prefix
                while short and not value.startswith(short):
                    short = short[:-1]
                if not _DIGITS.fullmatch(prefix, len(short)) and len(short) < len(prefix):
                    self.tail_digits = False  # earlier values go on with more than digits
                self.prefix = prefix = short
            if self.tail_digits and not _DIGITS.fullmatch(value, len(prefix)):
                self.tail_digits = False

    # -- conclusions -------------------------------------------------------------------

    @property
    def hidden(self) -> bool:
        """Whether the values must stay out of the catalog: a secret's, not redacted."""
        return self.secret and not (self.redacted and self.kind == "string")

    @property
    def text_name(self) -> str | None:
        try:
            return self.name.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def enum(self) -> list[bytes] | None:
        """The values, most frequent first, when the field is an enum."""
        counts = self.counts
        if counts is None or self.kind in ("boolean", "binary", "object", "array") or (self.redacted and self.kind == "string"):
            return None
        if self.hidden:
            return None
        if not counts or self.count < 2 * len(counts) or (len(counts) < 2 and self.count < 3):
            return None
        return sorted(counts, key=lambda v: (-counts[v], v))

    def is_timestamp(self) -> bool:
        """Whole numbers that read as ms since the epoch (years 2000 to 2100)."""
        return self.kind == "integer" and 946_684_800_000 <= self.low <= self.high <= 4_102_444_800_000

    def is_sequence(self) -> bool:
        return self.kind == "string" and bool(self.prefix) and self.tail_digits and not self.redacted and not self.hidden

    def schema(self) -> dict[str, Any]:
        """The field's catalog entry (a JSON Schema of its decoded value, in short form)."""
        kind = self.kind or "string"
        if kind == "binary":
            return {"type": "binary"}
        if kind == "string" and self.redacted:
            return {"type": "string", "pattern": "^redacted:[0-9a-f]{32}$"}
        out: dict[str, Any] = {"type": kind}
        values = self.enum()
        if values is not None:
            members: list[Any] = []
            for value in values:  # "1.5" and "1.50" are one member
                decoded = _decoded(value, kind)
                if not any(decoded == m and type(decoded) is type(m) for m in members):
                    members.append(decoded)
            out["enum"] = members
            return out
        if kind == "string":
            if self.uuid and not self.hidden:
                out["format"] = "uuid"
            elif self.is_sequence():
                out["pattern"] = f"^{re.escape((self.prefix or b'').decode('utf-8'))}[0-9]+$"
            else:
                out["minLength"] = self.min_len
                out["maxLength"] = self.max_len
        if kind != "boolean" and self.examples and not self.hidden:
            out["examples"] = [_decoded(v, kind) for v in self.examples]
        return out

    def comment(self, entries: int) -> str:
        """What the entry was inferred from, for a person reading the catalog."""
        seen = "every entry" if self.count == entries else f"{self.count:,} of {entries:,} entries"
        parts = [seen]
        kind = self.kind
        values = self.enum()
        if kind == "string" and self.redacted:
            parts.append("redacted by the recorder: values are digests")
        elif self.hidden:
            parts.append(
                "values left out: the name looks like a secret's and the recording was not redacted "
                "(record --redact)"
            )
        elif kind == "binary":
            parts.append(f"binary (not UTF-8), {self.min_len}-{self.max_len} bytes")
        elif values is not None and self.counts is not None:
            counts = self.counts
            parts.append(f"{_count(len(values), 'value')}: " + ", ".join(f"{_label(v)} x{counts[v]:,}" for v in values))
        elif kind in ("integer", "number"):
            span = f"{_num(self.low)} .. {_num(self.high)}"
            if kind == "number":
                span += f", up to {self.max_decimals} decimals"
            parts.append(span)
        elif kind == "string" and not self.uuid:
            parts.append(f"{self.min_len}-{self.max_len} characters" if self.min_len != self.max_len else f"{self.min_len} characters")
        return "; ".join(parts)

    def generator(self) -> Any:
        """A generator field spec that makes values like the ones seen (never a private
        value verbatim, except the values of an enum)."""
        kind = self.kind or "string"
        values = self.enum()
        if values is not None and self.counts is not None:
            counts = self.counts
            return {"choice": [_option(v, kind) for v in values], "weights": [counts[v] for v in values]}
        if self.hidden and kind in ("integer", "number"):  # the observed range is not shown
            top = 10 ** min(self.max_len, 15) - 1
            return {"int": [0, top]} if kind == "integer" else {"float": [0, top], "decimals": self.max_decimals}
        if kind == "integer":
            if self.is_timestamp():
                return {"timestamp": True}
            return {"int": [int(self.low), int(self.high)]}
        if kind == "number":
            return {"float": [float(self.low), float(self.high)], "decimals": self.max_decimals}
        if kind == "boolean":
            trues = (self.counts or {}).get(b"true", 0)
            share = trues / self.count if self.count else 0.5
            return {"bool": round(share, 3)}
        if kind in ("object", "array"):
            try:
                example = json.loads(self.examples[0]) if self.examples else ({} if kind == "object" else [])
            except (ValueError, RecursionError):
                example = {} if kind == "object" else []
            return {"literal": _skeleton(example)}
        if kind == "string" and self.redacted:
            return {"text": [32, 32], "chars": "0123456789abcdef", "prefix": "redacted:"}
        if kind == "string" and self.uuid and not self.hidden:
            return {"uuid": True}
        if self.is_sequence():
            return {"sequence": 1, "prefix": (self.prefix or b"").decode("utf-8")}
        spec: dict[str, Any] = {"text": [self.min_len, self.max_len]}
        if self.hex and kind == "string":
            spec["chars"] = "0123456789abcdef"
        return spec


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1 << 53 else repr(value)


def _label(value: bytes) -> str:
    return shown(value.decode("utf-8", "replace"), 30)


def _decoded(value: bytes, kind: str) -> Any:
    """An observed value as it appears in the catalog (decoded per the field's kind)."""
    text = value.decode("utf-8", "replace")
    if kind in ("integer", "number", "object", "array"):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return text
    return text


def _option(value: bytes, kind: str) -> Any:
    """An enum value as a ``choice:`` option that publishes the same bytes."""
    if kind == "integer":
        return int(value)
    text = value.decode("utf-8", "replace")
    return {"literal": text} if "{{" in text else text


def _skeleton(value: Any) -> Any:
    """The shape of a JSON value with its contents blanked (no private data)."""
    if isinstance(value, dict):
        return {str(k): _skeleton(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_skeleton(v) for v in value[:1]]
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return 0
    if isinstance(value, str):
        return ""
    return value


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
            lines.append(f"  # {_count(stream.entries, 'entry', 'entries')}{rate}")
            if stream.repeated_names:
                lines.append(f"  # {stream.repeated_names:,} entries repeat a field name: such a field is checked by its last value")
            if stream.left_out:
                lines.append(
                    f"  # more than {MAX_FIELDS:,} distinct field names: only the first {MAX_FIELDS:,} are described "
                    f"({stream.left_out:,} values of the others left out; strict: false lets them through)"
                )
            lines.append(f"  {_key(name)}:")
            seen = _count(stream.entries, "recorded entry", "recorded entries")
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
