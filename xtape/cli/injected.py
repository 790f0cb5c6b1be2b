"""Options every command (or every command of a kind) has without declaring them.

A command function's signature is what typer turns into its options. :func:`with_options`
gives typer a wrapper whose signature is the function's with more (typer-annotated)
parameters, which act while the command line is parsed (their command class reads
them); the command itself is called with its own parameters only. So ``--log-format`` is on every command, and
``--config``/``--print-config`` on ``record``, without a line in each command.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

#: name -> (annotation, default) of each parameter added.
Extra = dict[str, tuple[Any, Any]]


def with_options(f: Callable[..., Any], extra: Extra) -> Callable[..., Any]:
    """``f`` with the parameters of ``extra`` added to its signature (and left out of
    its call)."""
    hints = typing.get_type_hints(f, include_extras=True)
    signature = inspect.signature(f)
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
        for name, (annotation, default) in extra.items()
        if name not in signature.parameters
    ]
    names = {p.name for p in added}

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        for name in names:
            kwargs.pop(name, None)
        return f(*args, **kwargs)

    command.__signature__ = signature.replace(parameters=[*params, *added])  # type: ignore[attr-defined]
    command.__annotations__ = {
        **{p.name: p.annotation for p in params},
        **{p.name: p.annotation for p in added},
        **({"return": hints["return"]} if "return" in hints else {}),
    }
    return command
