"""Latency of the service under test, measured from the server's own clock: each output
paired with the input that caused it, latency = output id time - input id time.

    figures = measure(inputs, outputs, correlate_by="orderId")   # {stream: Latency}
    breaches = check(figures, {"p99": LatencyLimit(latency=0.150)}, golden_figures)

Pairing is by ``correlate_by`` (a field, or ``FIELD.path`` inside a JSON value; the same
on both sides) or, without it, by order: the k-th output (all output streams in id
order) answers the k-th input (all input streams in id order), one answer per input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xtape.codecs import CodecResolver
from xtape.diff.compare import json_text, key_reader
from xtape.ids import id_key, id_ms
from xtape.regress.case import LatencyLimit
from xtape.timeline import pair_fields

#: The figures kept per output stream.
FIGURES = ("p50", "p99", "max")

Entry = tuple[bytes, list[bytes]]


@dataclass(frozen=True)
class Latency:
    """One output stream's latencies (ms) over ``count`` paired entries."""

    count: int
    p50: float
    p99: float
    max: float

    def to_dict(self) -> dict[str, float]:
        return {"count": self.count, "p50": self.p50, "p99": self.p99, "max": self.max}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Latency:
        return cls(int(data.get("count", 0)), float(data["p50"]), float(data["p99"]), float(data["max"]))

    def __str__(self) -> str:
        return f"p50 {self.p50:g} ms, p99 {self.p99:g} ms, max {self.max:g} ms ({self.count} paired)"


def _percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest rank (a figure that was measured, never interpolated)."""
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summarise(values: Sequence[float]) -> Latency | None:
    if not values:
        return None
    ordered = sorted(values)
    return Latency(len(ordered), _percentile(ordered, 0.5), _percentile(ordered, 0.99), ordered[-1])


class _Key:
    """The ``correlate_by`` value of an entry, as text: a field, a path in the payload
    its stream's codec decodes, else ``FIELD.path`` in a JSON field."""

    def __init__(self, spec: str, codecs: Sequence[tuple[str, str]] = ()) -> None:
        self.spec = spec
        self.resolver = CodecResolver(codecs, detect_json=False)
        self.readers: dict[bytes, Callable[[Sequence[bytes]], Any]] = {}

    def __call__(self, stream: bytes, flat: Sequence[bytes]) -> str | None:
        read = self.readers.get(stream)
        if read is None:
            codec = self.resolver.codec(stream, pair_fields(flat))
            read = self.readers[stream] = key_reader(self.spec, codec)
        found = read(flat)
        return _text(found)


def _text(key: Any) -> str | None:
    """A key as text, whatever held it (a field's bytes, a decoded or JSON value)."""
    if key is None:
        return None
    if isinstance(key, bytes):
        return key.decode("utf-8", "backslashreplace")
    value = key[1] if isinstance(key, tuple) and len(key) == 2 and key[0] == "json" else key
    return value if isinstance(value, str) else json_text(value)


def measure(
    inputs: Mapping[bytes, Sequence[Entry]],
    outputs: Mapping[bytes, Sequence[Entry]],
    correlate_by: str | None = None,
    codecs: Sequence[tuple[str, str]] = (),
) -> dict[bytes, Latency]:
    """Latency per output stream (streams with nothing paired are left out). ``codecs``
    (the diff rules') and detection decode payloads for ``correlate_by``."""
    merged = sorted(((s, i, f) for s, entries in inputs.items() for i, f in entries), key=lambda e: id_key(e[1]))
    out: dict[bytes, Latency] = {}
    if correlate_by is not None:
        key = _Key(correlate_by, codecs)
        first: dict[Any, int] = {}
        for stream, entry_id, flat in merged:
            k = key(stream, flat)
            if k is not None and k not in first:
                first[k] = id_ms(entry_id)
    values: dict[bytes, list[float]] = {}
    answers = sorted(
        ((stream, entry_id, flat) for stream, entries in outputs.items() for entry_id, flat in entries),
        key=lambda e: id_key(e[1]),
    )
    for k_th, (stream, entry_id, flat) in enumerate(answers):
        if correlate_by is not None:
            at = first.get(key(stream, flat))
        else:
            at = id_ms(merged[k_th][1]) if k_th < len(merged) else None
        if at is not None:
            values.setdefault(stream, []).append(float(id_ms(entry_id) - at))
    for stream, found in values.items():
        figures = summarise(found)
        if figures is not None:
            out[stream] = figures
    return out


def check(
    figures: Mapping[bytes, Latency],
    limits: Mapping[str, LatencyLimit],
    golden: Mapping[bytes, Latency],
) -> list[str]:
    """Per figure above its limit, a headline and an indented line with the figures
    (empty: within every guard)."""
    from xtape.timeline import display_name

    out = []
    for stream, lat in sorted(figures.items()):
        for name, limit in limits.items():
            base = golden.get(stream)
            bound = limit.limit_ms(getattr(base, name) if base is not None else None)
            if bound is None:
                continue
            value = getattr(lat, name)
            if value > bound:
                against = f" ({limit}: {getattr(base, name):g} ms)" if limit.factor is not None and base else ""
                out.append(f"latency of {display_name(stream)}: {name} {value:g} ms is above the limit of {bound:g} ms{against}")
                out.append(f"  measured: {lat}")
    return out


__all__ = ["FIGURES", "Latency", "check", "measure", "summarise"]
