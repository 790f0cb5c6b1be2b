"""A recording compared with live streams: the streams are read back with the recorder
(``--from start`` until they are idle) into a temporary recording, then diffed.

There is no second reader of Redis here: :func:`xtape.capture.record` does the reading,
with its exact cursors, gap detection and byte-exact fields.

The expected recording's redaction (``record --redact``, in its header) is applied to
the live side as it is read, so no plaintext of a redacted field is shown, compared or
saved. Two sides redacted with different keys (each recording draws its own) have
different digests for equal values: their redacted fields are compared by presence,
unless both used one key file (``--redact-key-file``), whose digests compare by value.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from xtape.diff.engine import Differ
from xtape.diff.result import DiffResult
from xtape.diff.rules import DiffRules
from xtape.errors import UsageError

#: How long the live streams must be quiet before the read-back stops.
DEFAULT_IDLE_S = 1.0


def _literal(name: bytes) -> str:
    """A stream name as a pattern that matches only itself (glob characters bracketed)."""
    text = name.decode("utf-8", "surrogateescape")
    return "".join(f"[{ch}]" if ch in "*?[]\\" else ch for ch in text)


def diff_live(
    expected: str | Path,
    url: str | None,
    rules: DiffRules | None = None,
    *,
    streams: list[str] | None = None,
    idle_s: float = DEFAULT_IDLE_S,
    save: str | Path | None = None,
    redact_key: bytes | None = None,
) -> DiffResult:
    """Compare ``expected`` with the streams at ``url`` as they are now.

    The live side is every entry the server holds on ``streams`` (globs; default:
    the rules' stream globs, else the streams named in ``expected``), read until no new
    entry arrived for ``idle_s``. ``save`` keeps that read-back as a recording.
    ``redact_key``: the key ``expected`` was redacted with (``--redact-key-file``).
    """
    spooled = _spooled_stdin() if str(expected) == "-" else None
    try:
        return _diff_live(spooled or expected, url, rules, streams, idle_s, save, redact_key)
    finally:
        if spooled is not None:
            spooled.unlink(missing_ok=True)


def _diff_live(
    expected: str | Path,
    url: str | None,
    rules: DiffRules | None,
    streams: list[str] | None,
    idle_s: float,
    save: str | Path | None,
    redact_key: bytes | None,
) -> DiffResult:
    from xtape.capture import RecordOptions, parse_start, record
    from xtape.capture.redact import key_id
    from xtape.connection import redact_url, resolve_url
    from xtape.recording import Recording, StreamDef

    rules = rules or DiffRules()
    patterns = list(streams or rules.streams)
    differ_names: list[str] = []
    header = Recording(expected).header.options
    redact = [str(g) for g in header.get("redact") or () if isinstance(g, str)]
    case_sensitive = header.get("redact_case") == "sensitive"
    if redact and not (redact_key is not None and header.get("redact_key_id") == key_id(redact_key)):
        globs = redact if case_sensitive else [_any_case(g) for g in redact]
        rules = rules.replace(presence_fields=(*rules.presence_fields, *globs))
    if not patterns:
        rec = Recording(expected)
        differ_names = [_literal(r.name) for r in rec.records() if isinstance(r, StreamDef)]
        patterns = differ_names
    if not patterns:
        raise UsageError(
            f"{expected} names no streams: give the live streams to compare with --stream GLOB"
        )
    if not idle_s > 0:
        raise UsageError("the idle time of a live read-back must be more than zero")
    shown = redact_url(resolve_url(url))
    fd, tmp = tempfile.mkstemp(prefix="xtape-live-", suffix=".xtape")
    os.close(fd)
    target = Path(save) if save is not None else Path(tmp)
    try:
        options = RecordOptions(
            patterns,
            start=parse_start("start"),
            until_idle_s=idle_s,
            redact=redact,
            redact_case_sensitive=case_sensitive,
            redact_key=redact_key if redact else None,
        )
        record(url, target, options)
        result = Differ(expected, target, rules).run()
        result.actual = f"{shown} (live: {', '.join(patterns)})"
        return result
    finally:
        Path(tmp).unlink(missing_ok=True)


def _any_case(glob: str) -> str:
    """A glob that matches case-sensitively what ``glob`` matches in any case (as the
    recorder's ``--redact`` does): ``pass*`` -> ``[pP][aA][sS][sS]*``."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        end = glob.find("]", i + 2) if ch == "[" else -1
        if end != -1:  # a [set]: its letters in both cases
            inner = glob[i + 1 : end]
            neg = inner[:1] in ("!", "^")
            body = inner[1:] if neg else inner
            out.append("[" + inner[:1] * neg + body + body.swapcase() + "]")
            i = end + 1
            continue
        out.append(f"[{ch.lower()}{ch.upper()}]" if ch.lower() != ch.upper() else ch)
        i += 1
    return "".join(out)


def _spooled_stdin() -> Path:
    """Standard input kept in a private temporary file: its header is read before the diff
    reads it whole."""
    import shutil
    import sys

    fd, name = tempfile.mkstemp(prefix="xtape-expected-", suffix=".xtape")
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out)
    return Path(name)


__all__ = ["DEFAULT_IDLE_S", "diff_live"]
