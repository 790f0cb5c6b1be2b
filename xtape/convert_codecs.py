"""Decoded payloads for the converter: what a stream's codec reads, written readable.

The converter keeps its promise (replaying the scenario publishes the recorded bytes):
an entry is written decoded only when its codec encodes the decoded value back to the
same bytes, in one of the codec's JSON layouts. The layout that does it for a stream's
first entry is recorded in the scenario's ``codecs:``; a later entry that needs another
gets its own ``codec:``, and one no layout reproduces is written as fields with
``codec: raw``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from xtape.codecs import Codec, CodecFailed, CodecResolver, codec_spec, get_codec, variants
from xtape.timeline import Fields, pair_fields


def round_trip(codec: Codec, fields: Fields) -> tuple[Codec, Any] | None:
    """``(variant, value)``: the layout of ``codec`` that decodes ``fields`` and encodes
    the value back to them byte for byte, and the value; None if none does."""
    for variant in variants(codec):
        try:
            message = variant.decode(fields)
            if tuple(variant.encode(message)) == tuple(fields):
                return variant, message.to_value()
        except (CodecFailed, RecursionError, TypeError, ValueError):
            continue
    return None


class ConvertCodecs:
    """The codec of each converted stream, and each entry's payload as written."""

    def __init__(self, resolver: CodecResolver) -> None:
        self.resolver = resolver
        #: stream -> the codec written under ``codecs:`` (None: its payloads are fields).
        self.streams: dict[bytes, str | None] = {}

    def payload(self, stream: bytes, flat: Sequence[bytes]) -> tuple[str | None, Any] | None:
        """``(event codec key, decoded value)`` for an entry written decoded (the key None
        when the stream's ``codecs:`` entry applies), ``("raw", None)`` for one written as
        fields in a decoded stream, None for a stream written as fields."""
        spec = self.streams.get(stream, "")
        if spec is None:
            return None  # the common case, first: a stream of plain fields
        fields = pair_fields(flat)
        if spec == "":
            codec = self.resolver.codec(stream, fields)
            found = round_trip(codec, fields) if codec is not None else None
            self.streams[stream] = None if found is None else codec_spec(found[0])
            return None if found is None else (None, found[1])
        found = round_trip(get_codec(spec), fields)
        if found is None:
            return ("raw", None)
        own = codec_spec(found[0])
        return (None if own == spec else own, found[1])

    def scenario_codecs(self, names: dict[bytes, str]) -> dict[str, str]:
        """The scenario's ``codecs:``: each decoded stream's exact name (as a glob) -> codec."""
        return {_glob_escape(names[s]): spec for s, spec in self.streams.items() if spec is not None and s in names}


def has_braces(value: Any) -> bool:
    """Whether ``{{`` appears anywhere in a decoded value (so it must not be templated)."""
    return "{{" in json.dumps(value, ensure_ascii=False, default=repr)


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
