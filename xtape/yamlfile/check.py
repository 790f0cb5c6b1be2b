"""One collect-all-errors checker for the readers of YAML files (scenario, catalog, case
file, diff rules): each problem is ``path:line: key: what``, the line found from the key
path (the nearest key that has one), and the helpers that show a value in a message.

A *location* (:data:`Loc`) is the key path of a value: ``("events", 2, "delay")``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from xtape.errors import LocatedError

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


def dotted(loc: Loc) -> str:
    """``("service", "env")`` -> ``service.env`` (every part as text, joined by dots)."""
    return ".".join(str(part) for part in loc)


def show(value: object, limit: int = 60, *, sizes: bool = True) -> str:
    """A value as a user wrote it in YAML, shortened: ``-5``, ``'soon'``, ``true``, ``null``,
    ``a mapping``, ``a list of 3`` (``a list`` without ``sizes``)."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, Mapping):
        text = "a mapping"
    elif isinstance(value, list):
        text = f"a list of {len(value)}" if sizes else "a list"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_KINDS: dict[type, str] = {
    dict: "a mapping", list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number",
}  # fmt: skip


def kind(value: object) -> str:
    """What sort of value a user wrote: ``a mapping``, ``text``, ``a number``, ``nothing``..."""
    if value is None:
        return "nothing"
    return _KINDS.get(type(value), type(value).__name__)


def line_of(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of ``loc``, or of its nearest ancestor that has one (None if none has)."""
    for end in range(len(loc), -1, -1):
        found = lines.get(loc[:end])
        if found is not None:
            return found
    return None


class Lines(Protocol):
    """Where the key paths of a file are: ``line(loc)`` (as :class:`MappedLines`, or a
    scenario's ``SourceMap``, which finds lines on demand)."""

    def line(self, loc: Loc) -> int | None: ...


class MappedLines:
    """:class:`Lines` from a mapping of key path -> line (as ``load_yaml`` gives);
    ``default`` where no key of the path has a line."""

    def __init__(self, lines: Mapping[Loc, int] | None, default: int | None = None) -> None:
        self.lines: Mapping[Loc, int] = lines or {}
        self.default = default

    def line(self, loc: Loc) -> int | None:
        found = line_of(self.lines, loc)
        return self.default if found is None else found


E = TypeVar("E", bound=LocatedError)


class Checker(Generic[E]):
    """Collects every problem of a file's data as ``error(path, line, "key: what")``.

    ``name`` writes a key path in messages (:func:`format_loc` by default, or
    :func:`dotted`); ``base`` is the key path of the data checked within its file (a case
    file's ``diff:`` section). :meth:`problem` builds one error (for a reader that stops
    at the first), :meth:`add` keeps it; :attr:`errors` holds those kept.
    """

    def __init__(
        self,
        path: str,
        lines: Lines,
        error: Callable[[str, int | None, str], E],
        *,
        name: Callable[[Loc], str] = format_loc,
        base: Loc = (),
    ) -> None:
        self.path = path
        self.lines = lines
        self.error = error
        self.name = name
        self.base = base
        self.errors: list[E] = []

    def problem(self, loc: Loc, message: str, *, named: Loc | None = None) -> E:
        """The error for a problem at ``loc`` (its line), named by ``named`` (default ``loc``)."""
        at = (*self.base, *loc)
        where = self.name(at if named is None else (*self.base, *named))
        return self.error(self.path, self.lines.line(at), f"{where}: {message}" if where else message)

    def add(self, loc: Loc, message: str, *, named: Loc | None = None) -> None:
        """Keep the problem at ``loc`` (see :meth:`problem`)."""
        self.errors.append(self.problem(loc, message, named=named))

    def unknown_keys(self, data: Iterable[Any], loc: Loc, allowed: Iterable[str]) -> None:
        """Keep ``loc: unknown key 'x' (did you mean 'y'?)`` for each key not ``allowed``."""
        known = list(allowed)
        for key in data:
            if key not in known:
                self.add((*loc, key), unknown_key(key, known), named=loc)

    def in_order(self) -> list[E]:
        """The errors kept, in file order (stable for the same line)."""
        return sorted(self.errors, key=lambda error: error.line or 0)


def unknown_key(key: object, known: list[str]) -> str:
    """``unknown key 'paylod' (did you mean 'payload'?)``, else the valid keys."""
    close = difflib.get_close_matches(str(key), known, n=1)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return f"unknown key {key!r} (valid keys: {', '.join(known)})" if known else f"unknown key {key!r}"
