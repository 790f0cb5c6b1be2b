"""Where things are in a scenario file: key paths, their lines, and error prefixes.

A *location* is the key path of a value, as pydantic reports it: ``("events", 2, "delay")``.
:class:`SourceMap` remembers the line of every path of a loaded file, so any error found
later (by the model, the static check or the renderer) can say ``path:line: events[2].delay``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from xtape.errors import RenderError, ScenarioError

Loc: TypeAlias = tuple[object, ...]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def format_loc(loc: Loc) -> str:
    """``("events", 2, "delay")`` -> ``events[2].delay``; odd keys as ``generators['a.b']``."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and _IDENT.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


@dataclass(frozen=True)
class SourceMap:
    """The file a scenario came from and the (1-based) line of each key path in it."""

    path: str
    lines: Mapping[Loc, int] = field(default_factory=dict, repr=False)

    def line(self, loc: Loc) -> int:
        """The line of ``loc``, or of its nearest ancestor that has one (1 at worst)."""
        for end in range(len(loc), 0, -1):
            found = self.lines.get(loc[:end])
            if found is not None:
                return found
        return self.lines.get((), 1)


def where(source: SourceMap | None, loc: Loc) -> str:
    """The ``path:line: `` prefix for an error at ``loc`` ("" when the source is unknown)."""
    if source is None:
        return ""
    return f"{source.path}:{source.line(loc)}: "


def _what(loc: Loc, message: str) -> str:
    name = format_loc(loc)
    return f"{name}: {message}" if name else message


def scenario_error(source: SourceMap | None, loc: Loc, message: str) -> ScenarioError:
    """A :class:`ScenarioError` ``path:line: key: message`` for a value at ``loc``."""
    if source is None:
        return ScenarioError(_what(loc, message))
    return ScenarioError(_what(loc, message), source.path, source.line(loc))


def render_error(source: SourceMap | None, loc: Loc, message: str) -> RenderError:
    """A :class:`RenderError` ``path:line: key: message`` for a value at ``loc``."""
    return RenderError(f"{where(source, loc)}{_what(loc, message)}")


def show(value: object, limit: int = 60) -> str:
    """A value as a user wrote it in YAML, shortened: ``-5``, ``'soon'``, ``true``, ``null``."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list):
        text = f"a list of {len(value)}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
