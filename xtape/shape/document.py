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
    chosen on its first entry, as everywhere else). The last entry's document is kept,
    so the tests that share these documents (``--where`` and ``--sample-by``) build and
    decode each entry once."""

    def __init__(self, codecs: Sequence[tuple[str, str]] = ()) -> None:
        self._codecs = list(codecs)
        self._resolver: CodecResolver | None = None
        self._names: dict[bytes, Any] = {}
        #: The entry whose document :attr:`_doc` is (compared by identity: the same objects).
        self._entry: tuple[bytes, bytes | None, Sequence[bytes]] | None = None
        self._doc: dict[str, Any] = {}

    def payload(self, stream: bytes, flat: Sequence[bytes]) -> Any:
        """The entry decoded by its stream's codec (None: no codec reads it)."""
        if self._resolver is None:
            self._resolver = CodecResolver(self._codecs)
        found = self._resolver.decode(stream, pair_fields(flat))
        return None if found is None else found[1].to_value()

    def build(
        self, stream: bytes, entry_id: bytes | None, flat: Sequence[bytes], needs: frozenset[str]
    ) -> dict[str, Any]:
        """The document of one entry (``entry_id`` None: a scenario's event, ``id``
        null), with at least the keys in ``needs``."""
        entry = self._entry
        if entry is None or entry[0] is not stream or entry[1] is not entry_id or entry[2] is not flat:
            self._entry = (stream, entry_id, flat)
            self._doc = {}
        doc = self._doc
        if "stream" in needs and "stream" not in doc:
            name = self._names.get(stream)
            if name is None:
                name = bytes_to_json(stream)
                if len(self._names) < 100_000:
                    self._names[stream] = name
            doc["stream"] = name
        if "id" in needs and "id" not in doc:
            doc["id"] = None if entry_id is None else entry_id.decode("ascii", "replace")
        if "fields" in needs and "fields" not in doc:
            doc["fields"] = object_fields(flat)
        if "payload" in needs and "payload" not in doc:
            doc["payload"] = self.payload(stream, flat)
        return doc
