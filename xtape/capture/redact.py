"""Redaction: values of chosen fields are replaced before they reach the file.

A value becomes ``b"redacted:" + HMAC-SHA256(key, value)[:16].hex()``. The key is random
per recording unless given, and never written anywhere, so:

* equal values stay equal within a recording (joins and repeats still show);
* a digest cannot be reversed by hashing guesses (a plain SHA-256 of a PIN or a short
  token could be brute-forced in seconds), and recordings made with different keys
  cannot be linked to each other.

A key kept in a file (``--redact-key-file``) is shared on purpose: recordings, and the
live side of ``diff --live``, redacted with it give equal digests for equal values, so a
diff compares redacted fields by value. The header names the key only by
:func:`key_id`, a keyed digest that tells whether two sides share it and reveals nothing.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import os
import re
from typing import Any

PREFIX = b"redacted:"
#: The least number of bytes a key file must hold.
MIN_KEY_BYTES = 16


def key_id(key: bytes) -> str:
    """What a recording's header says of its key: equal for equal keys, useless to guess it."""
    return hmac.new(key, b"xtape redaction key id", hashlib.sha256).hexdigest()[:16]


def redaction_header(globs: list[str], key: bytes | None, case_sensitive: bool) -> dict[str, Any]:
    """What a recording's header says of its redaction (``record --redact``, ``cut
    --redact``): the globs, where the key came from (a file's only by :func:`key_id`)
    and how names were matched."""
    out: dict[str, Any] = {"redact": list(globs)}
    if key is None:
        out["redaction"] = "hmac-sha256, random per-recording key"
    else:
        out["redaction"] = "hmac-sha256, key from a file"
        out["redact_key_id"] = key_id(key)
    out["redact_case"] = "sensitive" if case_sensitive else "insensitive"
    return out


def read_key_file(path: str | os.PathLike[str]) -> bytes:
    """The redaction key in ``path`` (its bytes, surrounding whitespace left out, so that
    ``openssl rand -hex 32 > key`` makes one); a :class:`~xtape.errors.UsageError` when it
    cannot be read or is shorter than :data:`MIN_KEY_BYTES`."""
    from xtape.errors import UsageError

    try:
        with open(path, "rb") as fh:
            key = fh.read(1 << 20).strip()
    except OSError as error:
        raise UsageError(f"cannot read the redaction key file {path}: {error.strerror or error}") from None
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(
            f"the redaction key file {path} holds {len(key)} bytes: give at least {MIN_KEY_BYTES} "
            "(e.g. openssl rand -hex 32 > FILE)"
        )
    return key


def glob_regex(glob: str, *, case_sensitive: bool = True) -> re.Pattern[bytes]:
    """A ``fnmatch`` glob as a regex over raw bytes (``fullmatch`` it)."""
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.compile(fnmatch.translate(glob).encode("utf-8", "surrogateescape"), flags)


class Redactor:
    """Replaces the values of fields whose name matches any glob (``fnmatch`` on the
    name; letters match in any case unless ``case_sensitive``: a secret must
    not leak because ``*token*`` was typed for ``apiToken``)."""

    def __init__(
        self, globs: list[str], key: bytes | None = None, *, case_sensitive: bool = False
    ) -> None:
        self.globs = list(globs)
        self._key = key if key is not None else os.urandom(32)
        # Names are matched as UTF-8 text (undecodable bytes kept as surrogates), so
        # case folding covers every alphabet, not only ASCII.
        flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
        self._each = [re.compile(fnmatch.translate(g), flags) for g in self.globs]
        self._pattern = re.compile("|".join(p.pattern for p in self._each), flags)
        self._names: dict[bytes, bool] = {}
        self._digests: dict[bytes, bytes] = {}
        self._matched: set[int] = set()

    def unmatched(self) -> list[str]:
        """The globs that matched no field name so far (worth a warning: a typo?)."""
        return [g for i, g in enumerate(self.globs) if i not in self._matched]

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
            text = name.decode("utf-8", "surrogateescape")
            hit = self._pattern.fullmatch(text) is not None
            if hit and len(self._matched) < len(self.globs):
                self._matched.update(i for i, p in enumerate(self._each) if p.fullmatch(text))
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
