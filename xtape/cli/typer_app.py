"""The typer app: ``--help``, usage errors and every command line the quick parser
(:mod:`xtape.cli.quick`) leaves to it.

It is built on first use from the commands the modules declared (:mod:`xtape.cli.decl`):
:func:`build` registers each one with typer, its ``Opt``/``Arg`` declarations turned
into typer's own (:mod:`xtape.cli.injected`). Only this module, :mod:`.config` and
:mod:`._params` import typer.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Annotated, Any

import typer
import typer.core
from typer.models import CommandFunctionType

from xtape.cli import logs
from xtape.cli._text import version_line
from xtape.cli.common import LogFormatOpt, finish, outcome, run_command, setup_logging, stdout
from xtape.cli.decl import COMMANDS


class Command(typer.core.TyperCommand):
    """A command whose ``--help`` reads like a tool's: ``FILE``, ``N``, ``[id|capture]``
    where typer would print Python types (``<path>``, ``<list[str]>``, ``[x>=1]``), and
    which stops quietly with exit 0 when its reader goes away (``xtape ... | head``)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        logs.set_format(logs.chosen_format(args))
        logs.set_places({})
        return _parse_args_quickly(self, ctx, args, super().parse_args)

    @classmethod
    def extra_options(cls) -> dict[str, tuple[Any, Any]]:
        """Options this kind of command has without declaring them (:mod:`.injected`)."""
        return {"log_format": (LogFormatOpt, "text")}

    def invoke(self, ctx: Any) -> Any:
        return run_command(lambda: super(Command, self).invoke(ctx), ctx.params.get("log_format", "text"))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument" and not getattr(param, "hidden", False):
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, help_text = record
            if param.param_type_name == "argument":
                sections["Arguments"].append((_argument_name(param), tidy_extras(help_text)))
            else:
                sections["Options"].append((_option_name(param, name), tidy_extras(help_text)))
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class _Group(typer.core.TyperGroup):
    """The ``xtape`` group: its own options (``--version``) parsed as a command's."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return _parse_args_quickly(self, ctx, args, super().parse_args)


def _parse_args_quickly(command: Any, ctx: Any, args: list[str], parse: Callable[[Any, list[str]], list[str]]) -> list[str]:
    """Parse with plain values coerced without pydantic (a quicker start;
    :mod:`xtape.cli._params`)."""
    from xtape.cli._params import quick_params

    quick_params(command.get_params(ctx))
    return parse(ctx, args)


_METAVARS = {"Path": "FILE", "int": "N", "float": "NUMBER", "str": "TEXT"}


_TYPE_LABEL = re.compile(r"\s*<[^<>]*>(\.\.\.)?$")


_RANGE = re.compile(r"^-?[\d.]*(<=)?x[<>]=?-?[\d.]*$|^-?[\d.]+<=x<=-?[\d.]+$")


def _argument_name(param: Any) -> str:
    name = str(param.metavar or param.name.upper())
    if param.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name


def _option_name(param: Any, shown: str) -> str:
    """``-o, --output <path>`` -> ``-o, --output FILE``; flags and metavars stay."""
    if param.metavar is not None or getattr(param, "is_flag", False):
        return shown
    annotation = param.type_descriptor.annotation
    inner = getattr(annotation, "__args__", None)
    kind = getattr(inner[0] if inner else annotation, "__name__", "str")
    return _TYPE_LABEL.sub("", shown) + " " + _METAVARS.get(kind, "VALUE")


def tidy_extras(help_text: str) -> str:
    """Drop click's ``x>=1`` range notes from the ``[default: ...; ...]`` suffix."""
    head, sep, extras = help_text.rpartition("  [")
    if not sep or not extras.endswith("]"):
        if help_text.startswith("[") and help_text.endswith("]"):
            head, extras = "", help_text[1:]
        else:
            return help_text
    kept = [part for part in extras[:-1].split("; ") if not _RANGE.match(part.strip())]
    suffix = f"[{'; '.join(kept)}]" if kept else ""
    return f"{head}  {suffix}".strip() if head else suffix


class _Typer(typer.Typer):
    """Every command gets :class:`Command`'s help formatting."""

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", Command)
        register = super().command(*args, **kwargs)
        extra = kwargs["cls"].extra_options()

        def registered(f: CommandFunctionType) -> CommandFunctionType:
            from xtape.cli.injected import with_options

            register(with_options(f, extra))
            info = self.registered_commands[-1]
            if info.short_help is None and f.__doc__:
                # `xtape --help` lists the whole first sentence, never one cut with "..."
                info.short_help = " ".join(f.__doc__.strip().split("\n\n")[0].split()).partition(". ")[0]
            return f

        return registered


app = _Typer(
    name="xtape",
    cls=_Group,
    help=(
        "Record Redis Streams traffic, turn recordings into editable scenarios, and replay "
        "either into Redis with original, scaled or fixed-rate timing.\n\n"
        "Redis URL: --url, else $REDIS_URL, else redis://localhost:6379/0; its password may "
        "come from $XTAPE_REDIS_PASSWORD or $REDISCLI_AUTH instead. "
        "Exit codes: 0 done, 1 runtime failure, 2 invalid input or usage. Durations take a "
        "unit (500ms, 2s, 5m); an existing output file needs --force; -q hides progress "
        "and summaries, never errors (docs/cli.md)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        stdout.print(version_line(), markup=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    setup_logging(False)


def _glob_hint(message: str) -> str:
    """After "unexpected extra argument(s)" naming existing files: most likely a glob the
    shell expanded (``xtape info split/*.xtape``)."""
    if not message.startswith("Got unexpected extra argument"):
        return ""
    extra = message.partition("argument(s) (")[2].rpartition(")")[0].split()
    if not any(os.path.exists(word) for word in extra):
        return ""
    return "; a glob the shell expanded? quote it: 'split/*.xtape'"


def main() -> None:
    """Console-script entry point: usage errors as one line, exit codes as documented."""
    logs.set_format(logs.chosen_format(sys.argv[1:]))
    try:
        code = outcome(lambda: app(standalone_mode=False))
    except Exception as exc:
        # typer's (click's) usage errors: duck-typed, as typer may vendor click.
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # type: ignore[attr-defined]
        else:
            ctx = getattr(exc, "ctx", None)
            where = getattr(ctx, "command_path", None) or "xtape"
            message = " ".join(str(exc.format_message()).split())
            logs.error(f"{message}{_glob_hint(message)} (see '{where} --help')", exc.exit_code)
        code = exc.exit_code
    finish(code)


class DashDashCommand(Command):
    """Keeps what follows ``--`` apart (``xtape test CASE... -- COMMAND...``): the
    command's ``Context`` parameter finds it in ``ctx.meta["xtape_command"]``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [*super().collect_usage_pieces(ctx), "[-- COMMAND...]"]

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            ctx.meta["xtape_command"] = args[at + 1 :]
            args = args[:at]
        return list(super().parse_args(ctx, args))


def _command_class(name: str | None) -> type[Command]:
    """A declared ``cls`` (``module:Class``, or a class of this module) as a class."""
    if name is None:
        return Command
    module, _, attr = name.rpartition(":")
    found: type[Command] = getattr(import_module(module) if module else sys.modules[__name__], attr)
    return found


def build(names: list[str] | None = None, order: Sequence[str] = ()) -> typer.Typer:
    """The app with the declared commands ``names`` (None: every one) registered; by
    their modules' place in ``order`` (``xtape --help`` lists them so), then in the
    order their modules declared them."""
    registered = {_name(info) for info in app.registered_commands}
    for name, declared in COMMANDS.items():
        if (names is None or name in names) and name not in registered:
            app.command(name=name, cls=_command_class(declared.cls), **declared.settings)(declared.function)
    place = {module: i for i, module in enumerate(order)}
    declared_at = {name: i for i, name in enumerate(COMMANDS)}
    app.registered_commands.sort(
        key=lambda info: (place.get(getattr(info.callback, "__module__", ""), len(place)), declared_at.get(_name(info), 0))
    )
    return app


def _name(info: Any) -> str:
    """A registered command's name (:func:`build` gives each its declared one)."""
    return str(info.name)
