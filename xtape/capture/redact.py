"""Redaction: values of chosen fields are replaced before they reach the file.

A value becomes ``b"redacted:" + HMAC-SHA256(key, value)[:16].hex()``. The key is random
per recording unless given, and never written anywhere, so:

* equal values stay equal within a recording (joins and repeats still show);
* a digest cannot be reversed by hashing guesses (a plain SHA-256 of a PIN or a short
  token could be brute-forced in seconds), and recordings made with different keys
  cannot be linked to each other.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import os
import re
from typing import Any

PREFIX = b"redacted:"


class Redactor:
    """Replaces the values of fields whose name matches any glob (``fnmatch``, case
    sensitive, on the raw bytes of the name)."""

    def __init__(self, globs: list[str], key: bytes | None = None) -> None:
        self.globs = list(globs)
        self._key = key if key is not None else os.urandom(32)
        self._pattern = re.compile(
            b"|".join(fnmatch.translate(g).encode("utf-8", "surrogateescape") for g in self.globs),
            re.DOTALL,
        )
        self._names: dict[bytes, bool] = {}
        self._digests: dict[bytes, bytes] = {}

    def digest(self, value: bytes) -> bytes:
        """The stable replacement of ``value`` in this recording."""
        out = self._digests.get(value)
        if out is None:
            mac = hmac.new(self._key, value, hashlib.sha256).digest()[:16]
            out = PREFIX + mac.hex().encode()
            if len(self._digests) < 100_000:
                self._digests[value] = out
        return out

    def matches(self, name: bytes) -> bool:
        hit = self._names.get(name)
        if hit is None:
            hit = self._pattern.fullmatch(name) is not None
            if len(self._names) < 10_000:
                self._names[name] = hit
        return hit

    def apply(self, entries: list[Any]) -> None:
        """Redact raw entries (``[[id, [f, v, ...]], ...]``) in place."""
        for entry in entries:
            flat = entry[1]
            for i in range(0, len(flat) - 1, 2):
                if self.matches(flat[i]):
                    flat[i + 1] = self.digest(flat[i + 1])
