"""How a command declares itself, without typer.

A command module writes ``@command(short_help=...)`` over a function whose parameters
are ``Annotated[T, Opt("--name", ...)]`` or ``Annotated[T, Arg(...)]``: the very
arguments ``typer.Option``/``typer.Argument`` take. Nothing here imports typer. The
typer app (:mod:`xtape.cli.typer_app`) turns each declaration into typer's own when it is
built, for ``--help``, errors and anything unusual; :mod:`xtape.cli.quick` parses a
plain command line from the same declarations and calls the function without typer
(a quicker start: ``bench/startup.py``). One declaration serves both, so they cannot
disagree on an option's name, type or default (``tests/cli/test_cli_quick.py`` holds
them to the same values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: typer's defaults for the settings of a parameter that the quick parser reads
#: (``typer.models.ParameterInfo``/``OptionInfo``): a declaration that leaves one out
#: has this value, as under typer.
_TYPER_DEFAULTS: dict[str, Any] = {
    "parser": None,
    "click_type": None,
    "callback": None,
    "min": None,
    "max": None,
    "clamp": False,
    "path_type": None,
    "exists": False,
    "file_okay": True,
    "dir_okay": True,
    "readable": True,
    "writable": False,
    "resolve_path": False,
    "allow_dash": False,
    "envvar": None,
    "is_eager": False,
    "count": False,
    "hidden": False,
    "is_flag": None,
    "flag_value": None,
    "metavar": None,
    "help": None,
    "show_default": True,
}


class _Param:
    """The arguments of one ``typer.Option``/``typer.Argument`` call, kept for later."""

    def __init__(self, *decls: str, **settings: Any) -> None:
        unknown = set(settings) - set(_TYPER_DEFAULTS)
        if unknown:  # (a setting the quick parser would not know of: say so at once)
            raise TypeError(f"{type(self).__name__}: unknown settings {sorted(unknown)}")
        self.decls = decls
        self.settings = settings

    def __getattr__(self, name: str) -> Any:
        if name in _TYPER_DEFAULTS:
            return self.settings.get(name, _TYPER_DEFAULTS[name])
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.decls!r}"


class Opt(_Param):
    """``typer.Option(*decls, **settings)``, declared."""


class Arg(_Param):
    """``typer.Argument(**settings)``, declared."""


@dataclass
class Declared:
    """A command as its module declared it (under its name in :data:`COMMANDS`): the
    function and the settings of ``typer.Typer.command`` (``cls`` a ``module:Class``
    name, imported with typer)."""

    function: Callable[..., Any]
    settings: dict[str, Any] = field(default_factory=dict)
    cls: str | None = None


#: Every declared command, in the order their modules were imported.
COMMANDS: dict[str, Declared] = {}


def command(*, name: str | None = None, cls: str | None = None, **settings: Any) -> Callable[[F], F]:
    """Declare the decorated function as the command ``name`` (typer's rule: given, else
    the function's name with ``-`` for ``_``)."""

    def declare(f: F) -> F:
        shown = name or f.__name__.replace("_", "-")
        COMMANDS[shown] = Declared(f, settings, cls)
        return f

    return declare


class Context:
    """The annotation of a command's ``ctx`` parameter: typer's ``Context`` when typer
    runs the command (the quick parser leaves such a command to typer)."""

    #: click's ``Context.meta``: what the command class's parsing left for the command.
    meta: dict[str, Any]
