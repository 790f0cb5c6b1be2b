"""Options every command (or every command of a kind) has without declaring them.

A command function's signature is what typer turns into its options. :func:`with_options`
gives typer a wrapper whose signature is the function's with more (typer-annotated)
parameters, which act while the command line is parsed (their command class reads
them); the command itself is called with its own parameters only. So ``--log-format``
is on every command, and ``--config``/``--print-config`` on ``record``, without a line
in each command. The signature is made when typer first asks for it: only for the
command a run builds (a quicker start, ``bench/startup.py``).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

#: name -> (annotation, default) of each parameter added.
Extra = dict[str, tuple[Any, Any]]


class _Command:
    """``f`` as typer sees it: its signature and annotations with the extra parameters
    (made on first use); called, it passes ``f`` its own parameters only."""

    def __init__(self, f: Callable[..., Any], extra: Extra) -> None:
        self.__wrapped__ = f
        self.__module__ = f.__module__
        self.__name__ = getattr(f, "__name__", "command")
        self.__qualname__ = getattr(f, "__qualname__", self.__name__)
        self.__doc__ = f.__doc__
        self._extra = extra
        self._made: tuple[inspect.Signature, dict[str, Any]] | None = None

    def _make(self) -> tuple[inspect.Signature, dict[str, Any]]:
        if self._made is None:
            f = self.__wrapped__
            hints = typing.get_type_hints(f, include_extras=True)
            signature = inspect.signature(f)
            params = [p.replace(annotation=as_typer(hints.get(p.name, p.annotation))) for p in signature.parameters.values()]
            params += [
                inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=as_typer(annotation), default=default)
                for name, (annotation, default) in self._extra.items()
                if name not in signature.parameters
            ]
            annotations = {p.name: p.annotation for p in params}
            if "return" in hints:
                annotations["return"] = hints["return"]
            self._made = signature.replace(parameters=params), annotations
        return self._made

    @property
    def __signature__(self) -> inspect.Signature:
        return self._make()[0]

    @property
    def __annotations__(self) -> dict[str, Any]:  # type: ignore[override]
        return self._make()[1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for name in self._extra:
            kwargs.pop(name, None)
        return self.__wrapped__(*args, **kwargs)


def as_typer(annotation: Any) -> Any:
    """An annotation with xtape's declarations (:mod:`xtape.cli.decl`) as typer's own:
    ``Annotated[T, Opt(...)]`` -> ``Annotated[T, typer.Option(...)]``, ``Context`` ->
    ``typer.Context``."""
    import typer

    from xtape.cli.decl import Arg, Context, Opt

    if annotation is Context:
        return typer.Context
    if typing.get_origin(annotation) is not typing.Annotated:
        return annotation
    kinds = {Opt: typer.Option, Arg: typer.Argument}
    meta = [kinds[type(m)](*m.decls, **m.settings) if type(m) in kinds else m for m in annotation.__metadata__]
    return typing.Annotated.__class_getitem__((annotation.__origin__, *meta))


def with_options(f: Callable[..., Any], extra: Extra) -> Callable[..., Any]:
    """``f`` with the parameters of ``extra`` added to its signature (and left out of
    its call)."""
    return _Command(f, extra)
