"""Command-line values without pydantic, where typer's own coercion would give the same.

typer (0.2x) turns every parameter's text into its Python value through a pydantic
``TypeAdapter`` it builds on first use: importing pydantic and building the adapters
costs ~0.2 s of every command's start (``bench/startup.py``), for values that are
plain text, paths and small integers. :func:`quick_params` gives each parameter of a
command a coercion that handles those plain cases itself, exactly as typer's adapters
would (the values are compared in ``tests/cli/test_cli_startup.py``), and hands anything
else -- a parameter with options it does not know, a value it cannot vouch for -- to
typer's own coercion. A word that is no number at all (``--limit x``) is refused here
with the very message typer's adapter gives (:func:`quick_refusal`, compared in the same
test), so that a usage error does not import pydantic to say it. With a typer that has
no such adapters (no ``_runtime_param`` on its parameters), nothing changes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, get_args, get_origin

#: Plain decimal text only: anything else (signs, spaces, ``1_000``, ``0x10``, ``1e3``,
#: ``inf``) is left to typer, whose answer (a value or an error) stands.
_PLAIN_INT = re.compile(r"-?[0-9]{1,18}\Z")
_PLAIN_FLOAT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?\Z")

UNSET: Any = object()


def _plain_path_options(info: Any) -> bool:
    """Whether a ``Path`` parameter has typer's default path checks (none but
    "readable if it exists")."""
    return (
        info.path_type is None
        and not info.exists
        and info.file_okay
        and info.dir_okay
        and info.readable
        and not info.writable
        and not info.resolve_path
        and not info.allow_dash
    )


def _leaf(annotation: Any, info: Any, value: Any) -> Any:
    """The value of one command-line word (or a default value) for ``annotation``, or
    ``UNSET``."""
    if getattr(info, "parser", None) is not None:
        return UNSET
    text = type(value) is str
    if annotation is str:
        return value if text else UNSET
    if annotation is int:
        if text and _PLAIN_INT.match(value):
            number = int(value)
        elif type(value) is int:
            number = value
        else:
            return UNSET
        if info.max is None and not info.clamp and (info.min is None or number >= info.min):
            return number
        return UNSET
    if annotation is float:
        if info.min is not None or info.max is not None:
            return UNSET
        if text and _PLAIN_FLOAT.match(value):
            return float(value)
        return value if type(value) is float else UNSET
    if annotation is Path and _plain_path_options(info):
        if text and value:
            path = Path(value)
        elif isinstance(value, Path):
            path = value
        else:
            return UNSET
        try:
            os.stat(path)
        except OSError:
            return path
        except ValueError:  # (a NUL in the name: typer says what it says)
            return UNSET
        return path if os.access(path, os.R_OK) else UNSET
    return UNSET


def quick_value(annotation: Any, info: Any, value: Any) -> Any:
    """What typer's coercion would return for ``value`` (not None), or ``UNSET``
    when that is not certain without it."""
    if get_origin(annotation) is list:
        (inner,) = get_args(annotation)
        if not isinstance(value, (list, tuple)):
            return UNSET
        items = [_leaf(inner, info, item) for item in value]
        return UNSET if any(item is UNSET for item in items) else items
    return _leaf(annotation, info, value)


#: What typer's adapters say of a word that holds no digit (pydantic's first error).
_NOT_A_NUMBER = {
    int: "Input should be a valid integer, unable to parse string as an integer",
    float: "Input should be a valid number, unable to parse string as a number",
}
#: Words without a digit that are numbers all the same (of a float).
_FLOAT_WORDS = frozenset({"inf", "infinity", "nan"})


def quick_refusal(annotation: Any, info: Any, value: Any) -> str | None:
    """The message typer's coercion refuses ``value`` with, when it is certain without
    it (a word with no digit for a number), else None."""
    message = _NOT_A_NUMBER.get(annotation)
    if message is None or getattr(info, "parser", None) is not None or type(value) is not str:
        return None
    if not value.isascii() or any("0" <= char <= "9" for char in value):
        return None
    if annotation is float and value.strip().lstrip("+-").lower() in _FLOAT_WORDS:
        return None
    return message


class _QuickCoercion:
    """A parameter's coercion: the plain cases here, the rest by typer's own."""

    def __init__(self, annotation: Any, info: Any) -> None:
        self.annotation = annotation
        self.info = info

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:  # (as typer's RuntimeParam.coerce)
            return () if param.multiple or param.nargs == -1 else None
        quick = quick_value(self.annotation, self.info, value)
        if quick is not UNSET:
            return quick
        refused = quick_refusal(self.annotation, self.info, value)
        if refused is not None:
            import typer

            raise typer.BadParameter(refused, ctx=ctx, param=param)
        param._runtime_param = None  # typer's own, built now
        return param.get_runtime_param().coerce(value, param=param, ctx=ctx)


def quick_params(params: list[Any]) -> None:
    """Give each of typer's parameters in ``params`` the quick coercion (once)."""
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", UNSET) is not None:
            continue  # (not typer's, a typer without adapters, or set already)
        param._runtime_param = _QuickCoercion(descriptor.annotation, descriptor.parameter_info)
