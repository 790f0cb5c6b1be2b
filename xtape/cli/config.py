"""``--config FILE`` and ``--print-config``: a command's options from a YAML file.

The keys of the file are the command's own parameters, read from the command itself:
each option's long name without its dashes (``split-size``, ``keep-last``, ``from``,
``redact``), and an argument's name (``streams``). An option added to the command is
a key of its file with nothing to change here. Values are what the command line takes,
as YAML: text or numbers (``keep-last: 24h``, ``count: 1000``), ``true``/``false`` for
flags, a list (or one value) for a repeatable option or the arguments.

The file is checked like every file xtape reads (``path:line: key: what``; an unknown
key is named, with the key it most likely meant), values by the same checks as the
command line's. The command line wins: a value given there replaces the file's (a
repeatable option's whole list). Click's ``default_map`` carries the file's values, so
they are parsed exactly as the command line's. A URL in the file must not hold a
password (``$XTAPE_REDIS_PASSWORD`` or ``$REDISCLI_AUTH`` give it). An error about an
option the file gave names the file's line (:func:`xtape.cli.logs.placed`).

``--print-config`` prints the effective configuration, as a config file, each value
with where it came from, and exits without running the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from xtape.cli import logs
from xtape.cli.common import fail, stdout
from xtape.cli.decl import Opt
from xtape.cli.typer_app import Command
from xtape.errors import ConfigError, XtapeError

ConfigOpt = Annotated[
    Path | None,
    Opt(
        "--config",
        metavar="FILE",
        help="Take the options from a YAML file (keys: the long option names, e.g. split-size: 1GiB; streams: [...]); options given here win over it (docs/operate.md).",
        show_default=False,
    ),
]
PrintConfigOpt = Annotated[
    bool,
    Opt("--print-config", help="Print the effective configuration (the config file's, the command line's and the default values, URL without its password) as YAML and exit."),
]
#: The parameters of the mechanism itself: never keys of the file.
_OWN = ("config", "print_config")
_META = "xtape.config"


class ConfigCommand(Command):
    """A command whose options may come from ``--config FILE`` (see the module)."""

    @classmethod
    def extra_options(cls) -> dict[str, tuple[Any, Any]]:
        return {**super().extra_options(), "config": (ConfigOpt, None), "print_config": (PrintConfigOpt, False)}

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        path = logs.option_value(args, "--config")
        if path is not None:
            logs.set_format(logs.chosen_format(args))
            try:
                ctx.default_map, lines = read_config(path, self, ctx)
            except XtapeError as exc:
                fail(str(exc), exc.exit_code)
            ctx.meta[_META] = (path, lines)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        path, lines = ctx.meta.get(_META, ("", {}))
        places = {}
        for key, param in config_params(self).items():
            if _source(ctx, param) == "DEFAULT_MAP":
                for option in (*param.opts, *param.secondary_opts):
                    places[option] = f"{path}:{lines.get(key, 1)}: {key}"
        logs.set_places(places)
        if ctx.params.get("print_config"):
            stdout.print(effective_config(self, ctx, path, lines), markup=False)
            raise SystemExit(0)
        return super().invoke(ctx)


def key_of(param: Any) -> str:
    """A parameter's key in a config file: its long option name without the dashes
    (``--keep-last`` -> ``keep-last``), an argument's name."""
    if param.param_type_name == "argument":
        return str(param.name)
    longs = [o for o in param.opts if o.startswith("--")] or list(param.opts)
    return str(max(longs, key=len).lstrip("-"))


def config_params(command: Any) -> dict[str, Any]:
    """The parameters a config file may give, by key, in the command's order."""
    return {key_of(p): p for p in command.params if p.name not in _OWN and p.expose_value}


def read_config(path: str, command: Any, ctx: Any) -> tuple[dict[str, Any], dict[str, int]]:
    """The file's values by parameter name (as the command line would give them), and
    each key's line. Raises :class:`ConfigError` naming the first problem (and how many
    more there are)."""
    from xtape.yamlfile.check import Checker, MappedLines, dotted
    from xtape.yamlfile.load import load_yaml_file

    data, lines = load_yaml_file(path, "config file", ConfigError)
    check: Checker[ConfigError] = Checker(path, MappedLines(lines, 1), ConfigError, name=dotted)
    values: dict[str, Any] = {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise check.problem((), f"expected a mapping of option names to values, got {_kind(data)}")
    params = config_params(command)
    check.unknown_keys(data, (), params)
    for key, raw in data.items():
        param = params.get(key)
        if param is None or raw is None:
            continue
        problem, value = _value(param, raw, ctx)
        if problem is None and key == "url" and _holds_password(str(value)):
            problem = "holds a password: a config file names the server only; give the password in $XTAPE_REDIS_PASSWORD (or $REDISCLI_AUTH)"
        if problem is not None:
            check.add((key,), problem)
        else:
            values[param.name] = value
    errors = check.errors()
    if errors:
        first = errors[0]
        if len(errors) > 1:
            raise ConfigError(path, first.line, f"{first.reason} (and {len(errors) - 1} more problem{'s' * (len(errors) > 2)})")
        raise first
    return values, {str(k[0]): v for k, v in lines.items() if len(k) == 1}


def _kind(value: Any) -> str:
    from xtape.yamlfile.check import kind

    return kind(value)


def _text(value: Any) -> str | None:
    """A scalar as the command line would have it (None: not a scalar)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value)


def _value(param: Any, raw: Any, ctx: Any) -> tuple[str | None, Any]:
    """``(problem, value)`` of one key: the value as the command line gives it, checked
    by the parameter's own conversion."""
    if param.multiple or param.nargs == -1:
        items = raw if isinstance(raw, list) else [raw]
        texts = [_text(item) for item in items]
        if any(text is None for text in texts):
            return f"expected a value or a list of values, got {_kind(raw)}", None
        value: Any = texts
    elif getattr(param, "is_flag", False):
        if not isinstance(raw, bool):
            return f"expected true or false, got {_kind(raw)}", None
        value = raw
    else:
        value = _text(raw)
        if value is None:
            return f"expected a value, got {_kind(raw)}", None
    try:
        param.process_value(ctx, value)
    except Exception as exc:  # (click's BadParameter, duck-typed: typer may vendor click)
        if not hasattr(exc, "format_message"):
            raise
        return " ".join(str(exc.format_message()).split()), None
    return None, value


def _holds_password(url: str) -> bool:
    from xtape.connection import SplitUrl

    parts = SplitUrl.of(url)
    return (parts.userinfo is not None and ":" in parts.userinfo) or "password=" in (parts.query or "")


def _source(ctx: Any, param: Any) -> str:
    source = ctx.get_parameter_source(param.name)
    return str(getattr(source, "name", "DEFAULT"))


def effective_config(command: Any, ctx: Any, path: str, lines: dict[str, int]) -> str:
    """The configuration a run would use, as a config file: each value with where it
    came from (the command line, an environment variable, the file's line, a default)."""
    from xtape.connection import redact_url, resolve_url
    from xtape.yamlfile.dump import dump_flow

    rows = []
    for key, param in config_params(command).items():
        value = ctx.params.get(param.name)
        source = _source(ctx, param)
        where = {
            "COMMANDLINE": "command line",
            "ENVIRONMENT": f"${param.envvar}",
            "DEFAULT_MAP": f"{path}:{lines.get(key, 1)}",
        }.get(source, "default")
        if key == "url":  # (the one that is used, and never its password)
            if value is None:
                where = "$REDIS_URL" if _env("REDIS_URL") else "default"
            value = redact_url(resolve_url(value))
        rows.append((f"{key}: {dump_flow(_plain(value))}", where))
    width = max(len(text) for text, _ in rows)
    head = f"# xtape {ctx.info_name}: the effective configuration (the command line wins over --config, which wins over the defaults)"
    return "\n".join([head, *(f"{text.ljust(width)}  # {where}" for text, where in rows)])


def _env(name: str) -> bool:
    import os

    return bool(os.environ.get(name))


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
