"""Parsing of the small values users type: durations, ``k=v`` pairs, globs on bytes."""

from __future__ import annotations

import fnmatch
import re

from xtape.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)\s*$")
_UNIT_NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*$")


def parse_duration(
    text: str, *, option: str, positive: bool = False, bare: str | None = None
) -> int:
    """A duration as users type it -> nanoseconds: ``250ms``, ``30s``, ``1.5m``, ``1h``,
    ``2d``. The unit is required (a bare ``1500``: milliseconds or seconds?), except
    where ``bare`` names the unit a bare number has always meant (``--loop-interval``
    and ``--max-delay``: ``ms``, as the seed's command line had them).

    The one parser of every duration option (docs/cli.md). ``positive`` refuses zero.
    """
    match = _DURATION.match(text)
    number = _NUMBER.match(text)
    if match is not None:
        amount, unit = match.group(1), match.group(2)
    elif number is not None and bare is not None:
        amount, unit = number.group(1), bare
    else:
        example = f"{number.group(1)}ms or {number.group(1)}s" if number else "500ms, 30s, 5m"
        raise UsageError(
            f"invalid {option} {text!r}: use a number with a unit: ms, s, m, h or d (e.g. {example})"
        )
    from decimal import Decimal  # (exact, for a duration or size given: not at every start)

    ns = int((Decimal(amount) * _UNIT_NS[unit]).to_integral_value())
    if positive and ns <= 0:
        raise UsageError(f"invalid {option} {text!r}: it must be more than zero")
    return ns


def parse_seconds(
    text: str, *, option: str, positive: bool = False, bare: str | None = None
) -> float:
    """:func:`parse_duration` in seconds: what the Python API's options take (the one
    unit rule, docs/architecture.md)."""
    return parse_duration(text, option=option, positive=positive, bare=bare) / 10**9


def seconds_to_ns(seconds: float) -> int:
    """An option's seconds as the nanoseconds the hot loops count in (the one place a
    duration crosses from the API's unit to the loops')."""
    return round(seconds * 10**9)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*$", re.IGNORECASE)
#: Sizes: binary units (powers of 1024, what a disk quota says) and decimal ones (of
#: 1000, what a disk's label says); matched in any case.
_SIZE_UNITS = {
    "b": 1,
    "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
}  # fmt: skip


def parse_size(text: str, *, option: str) -> int:
    """A size as users type it -> bytes: ``256MiB``, ``1GiB``, ``500kB``, ``4096B``. The
    unit is required (a bare ``20`` is refused: 20 bytes is rarely what was meant)."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _SIZE_UNITS:
        number = _NUMBER.match(text)
        example = f"{number.group(1)}MiB" if number else "256MiB"
        raise UsageError(
            f"invalid {option} {text!r}: use a number with a unit: B, KiB, MiB, GiB, TiB "
            f"(or kB, MB, GB, TB) (e.g. {example})"
        )
    from decimal import Decimal

    size = int(Decimal(match.group(1)) * _SIZE_UNITS[unit])
    if size <= 0:
        raise UsageError(f"invalid {option} {text!r}: it must be more than zero")
    return size


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
