"""Parsing of the small values users type: durations, ``k=v`` pairs, globs on bytes."""

from __future__ import annotations

import fnmatch
import re

from xtape.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(text: str, *, option: str = "duration") -> float:
    """``"250ms"``, ``"30s"``, ``"5m"``, ``"1h"``, ``"1.5"`` (seconds) -> seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(
            f"invalid {option} {text!r}: use a number with a unit: ms, s, m, h or d (e.g. 30s, 5m)"
        )
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def parse_pair(text: str, *, option: str) -> tuple[str, str]:
    """``"key=value"`` -> ``("key", "value")``; the value may contain ``=``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"invalid {option} {text!r}: expected NAME=VALUE")
    return key.strip(), value


def match_any(name: bytes, globs: list[str] | tuple[str, ...]) -> bool:
    """Whether a (bytes) stream or field name matches any of the shell-style globs."""
    text = name.decode("utf-8", errors="surrogateescape")
    return any(fnmatch.fnmatchcase(text, glob) for glob in globs)
