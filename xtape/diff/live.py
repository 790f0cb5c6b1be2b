"""A recording compared with live streams: the streams are read back with the recorder
(``--from start`` until they are idle) into a temporary recording, then diffed.

There is no second reader of Redis here: :func:`xtape.capture.record` does the reading,
with its exact cursors, gap detection and byte-exact fields.
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
) -> DiffResult:
    """Compare ``expected`` with the streams at ``url`` as they are now.

    The live side is every entry the server holds on ``streams`` (globs; default:
    the rules' stream globs, else the streams named in ``expected``), read until no new
    entry arrived for ``idle_s``. ``save`` keeps that read-back as a recording.
    """
    from xtape.capture import RecordOptions, parse_start, record
    from xtape.connection import redact_url, resolve_url

    rules = rules or DiffRules()
    patterns = list(streams or rules.streams)
    differ_names: list[str] = []
    if not patterns:
        from xtape.recording import Recording, StreamDef

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
        options = RecordOptions(patterns, start=parse_start("start"), until_idle_s=idle_s)
        record(url, target, options)
        result = Differ(expected, target, rules).run()
        result.actual = f"{shown} (live: {', '.join(patterns)})"
        return result
    finally:
        Path(tmp).unlink(missing_ok=True)


__all__ = ["DEFAULT_IDLE_S", "diff_live"]
