"""``--sample 10%``: keep a deterministic share of the entries.

An entry is kept when a keyed hash (BLAKE2b, keyed by ``--seed``) of its stream name and
entry id falls below the share: the same entries come back on every run, whatever else
the command selects (``--stream``, ``--where``, other streams in the file), and each
stream keeps about the share of its own entries. ``--seed`` draws another sample.

``--sample-by FIELD_PATH`` keeps whole groups: the hash is of the value at
``FIELD_PATH`` instead (``fields.user_id``: a field's bytes; any other path, such as
``payload.customer.id``, a JMESPath on the document of :mod:`.document`), not of the
stream, so every entry of a sampled user is kept, on every stream. An entry where the
path is null is sampled by its own stream and id.

Events without an id (a scenario's) are keyed by their place in their stream within
a pass, so every ``--loop`` pass keeps the same ones.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson

from xtape.errors import UsageError
from xtape.shape.document import Documents
from xtape.shape.where import compile_expression, parts_named

_SHARE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(%?)\s*$")
#: ``fields.NAME``: a field's raw bytes, without building the document.
_FIELD = re.compile(r'^fields\.(?:([A-Za-z_][A-Za-z0-9_]*)|"((?:[^"\\]|\\.)*)")$')


def parse_share(text: str, option: str = "--sample") -> float:
    """``10%``, ``0.1`` or ``.25`` as a share above 0 and at most 1."""
    match = _SHARE.match(text)
    if not match:
        raise UsageError(f"{option} {text!r}: give a share, as a percentage (10%) or a fraction (0.1)")
    value = float(match.group(1)) / (100 if match.group(2) else 1)
    if not 0 < value <= 1:
        raise UsageError(f"{option} {text!r}: the share must be above 0 and at most 100% (1)")
    return value


def _field_name(path: str) -> bytes | None:
    match = _FIELD.match(path)
    if match is None:
        return None
    name = match.group(1) if match.group(1) is not None else re.sub(r"\\(.)", r"\1", match.group(2))
    return name.encode("utf-8", "surrogateescape")


class Sample:
    """A share of the entries, chosen by a keyed hash; calling it on an entry says
    whether it is in the sample."""

    def __init__(
        self,
        share: float,
        *,
        seed: int = 0,
        by: str | None = None,
        codecs: Sequence[tuple[str, str]] = (),
        docs: Documents | None = None,
    ) -> None:
        if not 0 < share <= 1:
            raise UsageError(f"--sample must be above 0 and at most 1, not {share}")
        self.share = share
        self.seed = seed
        self.by = by
        self._below = min(round(share * (1 << 64)), 1 << 64)
        self._key = seed.to_bytes(16, "big", signed=True)
        self._field = None if by is None else _field_name(by)
        self._compiled: Any = None
        self._docs: Documents | None = None
        self._needs: frozenset[str] = frozenset()
        if by is not None and self._field is None:
            self._compiled = compile_expression(by, "--sample-by")
            self._needs = parts_named(self._compiled)
            self._docs = Documents(codecs) if docs is None else docs
        self._places: Counter[bytes] = Counter()

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        seed: int | None = None,
        by: str | None = None,
        codecs: Sequence[tuple[str, str]] = (),
        docs: Documents | None = None,
    ) -> Sample:
        """A sample from ``--sample``'s text (``10%``, ``0.1``)."""
        return cls(parse_share(text), seed=seed or 0, by=by, codecs=codecs, docs=docs)

    def __repr__(self) -> str:
        return f"Sample({self.share:g}, seed={self.seed}, by={self.by!r})"

    def keeps(self, data: bytes) -> bool:
        """Whether the key ``data`` is in the sample."""
        digest = hashlib.blake2b(data, digest_size=8, key=self._key).digest()
        return int.from_bytes(digest, "big") < self._below

    def group(self, stream: bytes, entry_id: bytes | None, flat: Sequence[bytes]) -> bytes | None:
        """The ``--sample-by`` value of an entry, as bytes (None: it has none)."""
        if self._field is not None:
            name = self._field
            for i in range(0, len(flat) - 1, 2):
                if flat[i] == name:
                    return flat[i + 1]
            return None
        assert self._docs is not None
        value = self._compiled.search(self._docs.build(stream, entry_id, flat, self._needs))
        if value is None:
            return None
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=_text)

    def new_pass(self) -> None:
        """A new pass: events without ids are counted from their stream's start again,
        so every pass of a scenario keeps the same events."""
        self._places.clear()

    def __call__(self, stream: bytes, entry_id: bytes | None, flat: Sequence[bytes]) -> bool:
        if self.by is not None:
            value = self.group(stream, entry_id, flat)
            if value is not None:
                return self.keeps(b"\x01" + value)
        if entry_id is None:
            place = self._places[stream]
            self._places[stream] = place + 1
            entry_id = b"#%d" % place
        return self.keeps(b"\x00" + stream + b"\x00" + entry_id)


def _text(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return str(value)
