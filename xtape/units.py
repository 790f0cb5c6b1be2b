"""Parsing of the small values users type: durations, ``k=v`` pairs, globs on bytes."""

from __future__ import annotations

import fnmatch
import re
from decimal import Decimal

from xtape.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)\s*$")
_UNIT_NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*$")


def parse_duration(text: str, *, option: str, positive: bool = False) -> int:
    """A duration as users type it -> nanoseconds: ``250ms``, ``30s``, ``1.5m``, ``1h``,
    ``2d``. The unit is required: a bare ``1500`` is refused (milliseconds or seconds?).

    The one parser of every duration option (``--since``, ``--until``, ``--duration``,
    ``--until-idle``, ``--from -5m``). ``positive`` refuses zero.
    """
    match = _DURATION.match(text)
    if match is None:
        bare = _NUMBER.match(text)
        example = f"{bare.group(1)}ms or {bare.group(1)}s" if bare else "30s, 5m"
        raise UsageError(
            f"invalid {option} {text!r}: use a number with a unit: ms, s, m, h or d (e.g. {example})"
        )
    ns = int((Decimal(match.group(1)) * _UNIT_NS[match.group(2)]).to_integral_value())
    if positive and ns <= 0:
        raise UsageError(f"invalid {option} {text!r}: it must be more than zero")
    return ns


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


def plural(count: int, one: str, many: str | None = None) -> str:
    """``plural(1, "entry", "entries")`` -> ``"1 entry"``; ``(2, "stream")`` -> ``"2 streams"``."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
