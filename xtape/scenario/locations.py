"""Where things are in a scenario file: key paths, their lines, and error prefixes.

A *location* (:data:`xtape.yamlfile.check.Loc`) is the key path of a value, as pydantic
reports it: ``("events", 2, "delay")``.
:class:`SourceMap` remembers the line of every path of a loaded file, so any error found
later (by the model, the static check or the renderer) can say ``path:line: events[2].delay``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeAlias

from xtape.errors import InputError, RenderError, ScenarioError, ScenarioInvalid
from xtape.yamlfile.check import Checker, Loc, format_loc, line_of

#: Finds the lines of some key paths in a file on demand (see :func:`xtape.yamlfile.locate.locate`).
Locator: TypeAlias = Callable[[Iterable[Loc]], Mapping[Loc, int]]


class SourceMap:
    """The file a scenario came from and the (1-based) line of each key path in it.

    Lines are either given (``lines``) or found on demand by ``locate`` (a second, light
    pass over the file), so a big file does not keep a line for every value it holds.
    """

    def __init__(
        self, path: str, lines: Mapping[Loc, int] | None = None, locate: Locator | None = None
    ) -> None:
        self.path = path
        self.lines: dict[Loc, int] = dict(lines or {})
        self._locate = locate
        self._tried: set[Loc] = set()

    def __repr__(self) -> str:
        return f"SourceMap({self.path!r})"

    def prefetch(self, locs: Iterable[Loc]) -> None:
        """Find the lines of all ``locs`` in one pass (before asking :meth:`line` for each)."""
        if self._locate is None:
            return
        todo = {loc for loc in locs if loc not in self.lines and loc not in self._tried}
        if not todo:
            return
        self._tried.update(todo)
        for loc, line in self._locate(todo).items():
            self.lines.setdefault(loc, line)

    def line(self, loc: Loc) -> int:
        """The line of ``loc``, or of its nearest ancestor that has one (1 at worst)."""
        self.prefetch((loc,))
        found = line_of(self.lines, loc)
        return 1 if found is None else found


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
        return ScenarioError(None, None, _what(loc, message))
    return ScenarioError(source.path, source.line(loc), _what(loc, message))


def located_errors(
    source: SourceMap | None, problems: Iterable[tuple[Loc, str, type[InputError]]]
) -> list[InputError]:
    """Problems ``(loc, "key: what", ScenarioError or RenderError)`` as errors, in file order.

    The lines of all of them are found in one pass.
    """
    if source is None:
        return [_error(kind)(None, None, text) for _, text, kind in problems]
    check: Checker[InputError] = Checker(source.path, source, _error(ScenarioError))
    for loc, text, kind in problems:
        check.keep(loc, text, _error(kind))
    return check.errors()


def _error(kind: type[InputError]) -> Callable[[str | None, int | None, str], InputError]:
    """What makes the error of a problem of ``kind`` from ``(path, line, text)``."""
    if issubclass(kind, ScenarioError):
        return ScenarioError
    return lambda path, line, text: kind(f"{path}:{line}: {text}" if path is not None else text)


def raise_errors(errors: list[InputError]) -> None:
    """Raise the one error, or :class:`ScenarioInvalid` holding them all."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ScenarioInvalid(errors)


def render_error(source: SourceMap | None, loc: Loc, message: str) -> RenderError:
    """A :class:`RenderError` ``path:line: key: message`` for a value at ``loc``."""
    return RenderError(f"{where(source, loc)}{_what(loc, message)}")
