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
    """Where the key paths of a file are: ``line(loc)``, after ``prefetch(locs)`` of those
    to come (as :class:`MappedLines`, or a scenario's ``SourceMap``, which finds lines on
    demand, all those asked for in one pass)."""

    def line(self, loc: Loc) -> int | None: ...

    def prefetch(self, locs: Iterable[Loc]) -> None: ...


class MappedLines:
    """:class:`Lines` from a mapping of key path -> line (as ``load_yaml`` gives);
    ``default`` where no key of the path has a line."""

    def __init__(self, lines: Mapping[Loc, int] | None, default: int | None = None) -> None:
        self.lines: Mapping[Loc, int] = lines or {}
        self.default = default

    def line(self, loc: Loc) -> int | None:
        found = line_of(self.lines, loc)
        return self.default if found is None else found

    def prefetch(self, locs: Iterable[Loc]) -> None:
        """Nothing to do: every line is known."""


E = TypeVar("E", bound=Exception)

#: Makes the error of one problem: ``(path, line, "key: what")``.
ErrorMaker: TypeAlias = Callable[[str, int | None, str], E]


class Checker(Generic[E]):
    """Collects every problem of a file's data, then gives them as errors
    ``error(path, line, "key: what")`` in file order.

    ``name`` writes a key path in messages (:func:`format_loc` by default, or
    :func:`dotted`); ``base`` is the key path of the data checked within its file (a case
    file's ``diff:`` section). :meth:`add` keeps a problem and :meth:`errors` gives them
    all (their lines found together: one pass over a big file); :meth:`problem` builds
    one at once, for a reader that stops at the first. Without ``lines``, no line is
    known (``error`` gets None).
    """

    def __init__(
        self,
        path: str,
        lines: Lines | None,
        error: ErrorMaker[E],
        *,
        name: Callable[[Loc], str] = format_loc,
        base: Loc = (),
    ) -> None:
        self.path = path
        self.lines = lines
        self.error = error
        self.name = name
        self.base = base
        self._kept: list[tuple[Loc, str, ErrorMaker[E]] | E] = []

    def __len__(self) -> int:
        """How many problems are kept."""
        return len(self._kept)

    def line(self, loc: Loc) -> int | None:
        """The line of ``loc`` (below ``base``), None when unknown."""
        return None if self.lines is None else self.lines.line((*self.base, *loc))

    def text(self, loc: Loc, message: str) -> str:
        """``key: message`` (``message`` alone at the top)."""
        where = self.name((*self.base, *loc))
        return f"{where}: {message}" if where else message

    def problem(self, loc: Loc, message: str, *, named: Loc | None = None) -> E:
        """The error for a problem at ``loc`` (its line), named by ``named`` (default ``loc``)."""
        return self.error(self.path, self.line(loc), self.text(loc if named is None else named, message))

    def add(self, loc: Loc, message: str, *, named: Loc | None = None) -> None:
        """Keep the problem at ``loc`` (see :meth:`problem`)."""
        self.keep((*self.base, *loc), self.text(loc if named is None else named, message))

    def keep(self, loc: Loc, text: str, error: ErrorMaker[E] | None = None) -> None:
        """Keep a problem whose ``text`` names its key already, at the line of ``loc``
        (a path from the top of the file), made by ``error`` (default: the checker's)."""
        self._kept.append((loc, text, error or self.error))

    def keep_error(self, error: E) -> None:
        """Keep an error made elsewhere (a problem of another file, at its own line)."""
        self._kept.append(error)

    def unknown_keys(self, data: Iterable[Any], loc: Loc, allowed: Iterable[str]) -> None:
        """Keep ``loc: unknown key 'x' (did you mean 'y'?)`` for each key not ``allowed``."""
        known = list(allowed)
        for key in data:
            if key not in known:
                self.add((*loc, key), unknown_key(key, known), named=loc)

    def errors(self) -> list[E]:
        """The problems kept, as errors in file order (in the order kept on one line)."""
        if self.lines is not None:
            self.lines.prefetch(entry[0] for entry in self._kept if isinstance(entry, tuple))
        placed: list[tuple[int, int, E]] = []
        for n, entry in enumerate(self._kept):
            if isinstance(entry, tuple):
                loc, text, make = entry
                line = None if self.lines is None else self.lines.line(loc)
                placed.append((line or 0, n, make(self.path, line, text)))
            else:
                placed.append((getattr(entry, "line", None) or 0, n, entry))
        placed.sort(key=lambda item: item[:2])
        return [error for _, _, error in placed]


def unknown_key(key: object, known: list[str]) -> str:
    """``unknown key 'paylod' (did you mean 'payload'?)``, else the valid keys."""
    close = difflib.get_close_matches(str(key), known, n=1)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return f"unknown key {key!r} (valid keys: {', '.join(known)})" if known else f"unknown key {key!r}"
