"""A plain command line, parsed and run without typer.

Importing typer and building a command's parser costs about 0.02 s of every start
(``bench/startup.py``), for command lines that are almost always plain: long or short
options with their values, flags, and arguments. :func:`run_quick` parses such a line
from the command's own declarations (:mod:`xtape.cli.decl`, which typer is given too)
and calls the command as typer would, with the very values typer would pass
(``tests/cli/test_cli_quick.py`` compares them over every option of every command).

Anything it is not sure of goes to typer, which parses it as always and has the last
word: ``--help``, an unknown option, a value it cannot vouch for (``_params``), a
missing or extra argument, ``--`` or bundled short options, an option given twice, a
command with a ``Context`` parameter (``test``), options that only typer's command
class knows (``record --config``). So an error message, and what ``--help`` prints,
are typer's alone.
"""

from __future__ import annotations

import inspect
import os
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xtape.cli import logs
from xtape.cli._params import UNSET, quick_value
from xtape.cli.decl import COMMANDS, Arg, Context, Declared, Opt

#: The parameter every command has without declaring it (``typer_app.Command``).
_LOG_FORMAT = "log_format"


@dataclass
class _Param:
    """One parameter of a command as the quick parser needs it."""

    name: str
    annotation: Any  # without ``| None``, and the item type of a list
    info: Opt | Arg
    many: bool  # a list: a repeatable option, or an argument of any number of words
    default: Any
    required: bool


@dataclass
class _Spec:
    """What a command line may hold: each option word, and the arguments in order."""

    options: dict[str, tuple[_Param, Any]]  # word -> (parameter, a flag's value, or UNSET)
    arguments: list[_Param]
    params: list[_Param]


def _plain(annotation: Any) -> tuple[Any, bool]:
    """``T | None`` -> T; ``list[T]`` -> (T, True)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0], True
    return annotation, False


def _spec(declared: Declared) -> _Spec | None:
    """The command's parameters, or None for a command left to typer."""
    from xtape.cli.common import LogFormatOpt

    f = declared.function
    hints = typing.get_type_hints(f, include_extras=True)
    signature = inspect.signature(f)
    found = [(p.name, hints.get(p.name), p.default) for p in signature.parameters.values()]
    found.append((_LOG_FORMAT, LogFormatOpt, "text"))
    spec = _Spec({}, [], [])
    for name, hint, default in found:
        if hint is None or hint is Context or typing.get_origin(hint) is not typing.Annotated:
            return None
        infos = [m for m in hint.__metadata__ if isinstance(m, (Opt, Arg))]
        if len(infos) != 1:
            return None
        info = infos[0]
        annotation, many = _plain(hint.__origin__)
        required = default is inspect.Parameter.empty
        param = _Param(name, annotation, info, many, None if required else default, required)
        spec.params.append(param)
        if isinstance(info, Arg):
            spec.arguments.append(param)
            continue
        if info.is_flag is not None or info.flag_value is not None or info.count or info.is_eager or info.callback:
            return None
        for decl in info.decls:
            on, _, off = decl.partition("/")
            if annotation is bool:
                spec.options[on] = (param, True)
                if off:
                    spec.options[off] = (param, False)
            elif off:
                return None
            else:
                spec.options[on] = (param, UNSET)
    if any(p.many for p in spec.arguments[:-1]):
        return None  # (a list argument before another: click's share-out is left to typer)
    return spec


def parse(declared: Declared, words: list[str]) -> dict[str, Any] | None:
    """The values typer would call the command with for ``words`` (the command line
    after the command's name), or None when that is for typer to say."""
    spec = _spec(declared)
    if spec is None:
        return None
    given: dict[str, Any] = {}
    positional: list[str] = []
    at = 0
    while at < len(words):
        word = words[at]
        at += 1
        if word == "--":
            return None
        if not word.startswith("-") or word == "-":
            positional.append(word)
            continue
        name, eq, attached = word.partition("=") if word.startswith("--") else (word, "", "")
        found = spec.options.get(name)
        if found is None:
            return None  # (--help, an unknown option, -qv, -n5: typer's)
        param, flag = found
        if flag is not UNSET:
            if eq or param.name in given:
                return None
            given[param.name] = flag
            continue
        if eq:
            text = attached
        elif at < len(words) and (not words[at].startswith("-") or words[at] == "-"):
            text = words[at]
            at += 1
        else:
            return None
        if param.many:
            given.setdefault(param.name, []).append(text)
        elif param.name in given:
            return None
        else:
            given[param.name] = text
    if not _share_out(spec.arguments, positional, given):
        return None
    return _values(spec, given)


def _share_out(arguments: list[_Param], words: list[str], given: dict[str, Any]) -> bool:
    """The argument words to the arguments, in order (a list takes the rest); False
    when words are left over (typer says so)."""
    words = list(words)
    for param in arguments:
        if param.many:
            if words:
                given[param.name], words = words, []
        elif words:
            given[param.name] = words.pop(0)
    return not words


def _values(spec: _Spec, given: dict[str, Any]) -> dict[str, Any] | None:
    """Each parameter's value as typer gives it: a word coerced, or the default."""
    values: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in given and param.info.envvar:
            from_env = os.environ.get(param.info.envvar)
            if from_env is not None:
                if not from_env or param.many:
                    return None  # (click's rules for an empty variable, or a list's: typer's)
                given[param.name] = from_env
        if param.name not in given:
            if param.required:
                return None
            values[param.name] = param.default
            continue
        raw = given[param.name]
        if type(raw) is bool:
            values[param.name] = raw
            continue
        words = raw if param.many else [raw]
        coerced = [quick_value(param.annotation, param.info, word) for word in words]
        if any(value is UNSET for value in coerced):
            return None
        values[param.name] = coerced if param.many else coerced[0]
    return values


def run_quick(argv: list[str]) -> int | None:
    """Run ``xtape ARGV`` (``argv[0]`` a declared command) without typer and return its
    exit code; None when typer is to run it."""
    declared = COMMANDS.get(argv[0]) if argv else None
    if declared is None:
        return None
    values = parse(declared, argv[1:])
    if values is None:
        return None
    return run(declared.function, values, logs.chosen_format(argv[1:]))


def run(function: Callable[..., Any], values: dict[str, Any], chosen: str = "text") -> int:
    """Call a command with its parsed ``values`` as typer does (its root callback, its
    command class), and return the exit code. ``chosen``: the log format an error of
    the command line itself is written in (:func:`xtape.cli.logs.chosen_format`: an
    invalid ``--log-format`` is said in ``$XTAPE_LOG_FORMAT``'s, as typer says it)."""
    from xtape.cli.common import outcome, run_command, setup_logging

    log_format = values.pop(_LOG_FORMAT)
    logs.set_format(chosen)
    logs.set_places({})
    setup_logging(False)
    try:
        return outcome(lambda: run_command(lambda: function(**values), log_format))
    except BrokenPipeError:  # (not standard output's, which is open: typer's rule, exit 1)
        return 1
