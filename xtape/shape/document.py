"""An entry as the document ``--where`` and ``--sample-by`` are evaluated on.

    {"stream": "orders", "id": "1700000000000-0",
     "fields": {"status": "rejected", "amount": "12.50"},
     "payload": <the entry decoded by its stream's codec, or null>}

``stream``, ``id`` and field names and values are text where they are UTF-8, else
``{"base64": ...}`` (as ``xtape cat`` writes them); a field name given more than once
maps to the array of its values. ``payload`` is what ``xtape cat --decode`` shows as
``value``: the entry decoded by the codec one :class:`~xtape.codecs.CodecResolver`
chose for its stream (``--codec``, else detected: FastStream's and taskiq's envelopes,
JSON in a field), ``null`` where no codec reads the entry. Only the parts an expression
names are built (decoding costs more than testing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xtape.codecs import CodecResolver
from xtape.recording.jsonl import object_fields
from xtape.timeline import bytes_to_json, pair_fields

#: The keys of an entry's document.
KEYS = ("stream", "id", "fields", "payload")


class Documents:
    """Makes entry documents; one codec resolver for all of them (a stream's codec is
    chosen on its first entry, as everywhere else)."""

    def __init__(self, codecs: Sequence[tuple[str, str]] = (), *, needs: frozenset[str] = frozenset(KEYS)) -> None:
        self.needs = needs
        self._codecs = list(codecs)
        self._resolver: CodecResolver | None = None
        self._names: dict[bytes, Any] = {}

    def payload(self, stream: bytes, flat: Sequence[bytes]) -> Any:
        """The entry decoded by its stream's codec (None: no codec reads it)."""
        if self._resolver is None:
            self._resolver = CodecResolver(self._codecs)
        found = self._resolver.decode(stream, pair_fields(flat))
        return None if found is None else found[1].to_value()

    def build(self, stream: bytes, entry_id: bytes | None, flat: Sequence[bytes]) -> dict[str, Any]:
        """The document of one entry (``entry_id`` None: a scenario's event, ``id`` null)."""
        needs = self.needs
        doc: dict[str, Any] = {}
        if "stream" in needs:
            name = self._names.get(stream)
            if name is None:
                name = bytes_to_json(stream)
                if len(self._names) < 100_000:
                    self._names[stream] = name
            doc["stream"] = name
        if "id" in needs:
            doc["id"] = None if entry_id is None else entry_id.decode("ascii", "replace")
        if "fields" in needs:
            doc["fields"] = object_fields(flat)
        if "payload" in needs:
            doc["payload"] = self.payload(stream, flat)
        return doc
