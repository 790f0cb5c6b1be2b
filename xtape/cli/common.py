"""The command line's shared parts: the typer app and its help formatting, output, errors,
progress lines, the Redis and catalog options, and the console-script entry point.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import typer.core
from typer.models import CommandFunctionType

from xtape.cli import logs
from xtape.cli._text import human_bytes as human_bytes
from xtape.cli._text import show_text as show_text
from xtape.cli._text import silence_stdout, version_line
from xtape.cli.consoles import stderr as stderr
from xtape.cli.consoles import stdout as stdout
from xtape.errors import UsageError, XtapeError
from xtape.notice import Notice

if TYPE_CHECKING:

    from xtape.recording import TimeBase


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
        if ctx.params.get("log_format", "text") not in logs.FORMATS:
            fail(f"invalid {logs.OPTION} {ctx.params['log_format']!r}: choose {' or '.join(logs.FORMATS)}")
        logs.set_format(ctx.params.get("log_format", "text"))
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            if not _stdout_closed():
                raise
            stdout_gone()

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


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (and not some other
    broken pipe, such as a socket)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.__stdout__.fileno() if sys.__stdout__ else 1, select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


def stdout_gone() -> NoReturn:
    """``xtape ... | head``: the reader left; stop quietly with exit 0, as cat(1) does
    (and let nothing flush to the closed pipe at exit). The one place that handles it."""
    silence_stdout()
    raise typer.Exit(0)


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


LogFormatOpt = Annotated[str, typer.Option(logs.OPTION, metavar="[text|json]", envvar=logs.ENV, help=logs.HELP, show_default=False)]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line on stderr and exit."""
    logs.error(message, code)
    raise typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Turn the library's errors into one line and an exit code (no traceback)."""
    try:
        yield
    except XtapeError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        stderr.print("xtape: interrupted", markup=False)
        raise typer.Exit(130) from None


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[logs.Handler()])
    logging.getLogger("xtape").setLevel(logging.DEBUG if verbose else logging.WARNING)


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
    _setup_logging(False)


class ProgressLine:
    """A live status line on stderr, drawn only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty() and not logs.json_mode()
        #: With --log-format json: a ``progress`` event now and then instead.
        self._every_s = logs.progress_every_s() if enabled and logs.json_mode() else None
        self._next_s = 0.0
        self._width = 0

    def show(self, text: str) -> None:
        if self._every_s is not None:
            self._milestone(text)
        if not self.enabled:
            return
        pad = max(self._width - len(text), 0)
        sys.stderr.write("\r" + text + " " * pad)
        sys.stderr.flush()
        self._width = len(text)

    def _milestone(self, text: str) -> None:
        import time

        now = time.monotonic()
        if now >= self._next_s:
            self._next_s = now + (self._every_s or 0.0)
            logs.say(text if isinstance(text, Notice) else Notice("progress", text))

    def warn(self, message: str) -> None:
        """A warning on its own line, the live line redrawn after it."""
        self.done()
        logs.warn(message)

    def done(self) -> None:
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
            self._width = 0


def parse_variables(values: list[str] | None) -> dict[str, str]:
    from xtape.units import parse_pair

    return dict(parse_pair(v, option="--variable") for v in values or [])


VariableOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--variable",
        "--var",
        metavar="NAME=VALUE",
        help="Set a scenario variable (repeatable); wins over the file's variables.",
    ),
]


CatalogOpt = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        metavar="FILE",
        help="The stream catalog (default: $XTAPE_CATALOG, else streams.yaml beside the scenario or in the current directory).",
        show_default=False,
    ),
]


SeriesOpt = Annotated[
    str | None,
    typer.Option(
        "--series",
        metavar="ID",
        help="A directory (or glob) of split files: read only this series, by its id or the first characters of it (xtape info DIR lists them).",
        show_default=False,
    ),
]


@contextmanager
def series_read(series: str | None) -> Iterator[None]:
    """``--series``: within the block, a directory or glob opened as a recording reads
    only that series."""
    if series is None:
        yield
        return
    from xtape.recording.series import reading_series

    with reading_series(series):
        yield


StreamOpt = Annotated[list[str] | None, typer.Option("--stream", "-s", metavar="GLOB", help="Only streams matching this glob (repeatable).")]


NoCatalogOpt = Annotated[bool, typer.Option("--no-catalog", help="Check no stream catalog, even if one is found.")]


def catalog_for(explicit: Path | None, near: Path | None, no_catalog: bool) -> Any:
    """The catalog that applies to ``near`` (None: none found, or --no-catalog)."""
    from xtape.catalog.discover import find_catalog_path

    if explicit is not None and no_catalog:
        raise UsageError("give --catalog or --no-catalog, not both")
    path = find_catalog_path(explicit, near, enabled=not no_catalog)
    if path is None:
        return None  # (the schema libraries are not even imported)
    from xtape.catalog.catalog import find_catalog

    found = find_catalog(explicit, near, enabled=not no_catalog)
    for note in found.unchecked if found is not None else ():
        if note not in _WARNED:  # once per run, not once per file
            _WARNED.add(note)
            warn(note)
    return found


_WARNED: set[str] = set()


CATALOG_NAME = "streams.yaml"  # xtape.catalog.CATALOG_NAME (not imported for this)


def check_recording_output(output: str, *, force: bool, inputs: Sequence[Path] = ()) -> None:
    """``-o`` of a command that writes one recording file (``record``, ``cut``): checked
    as every output, and ``-`` refused on a terminal before any work is done."""
    from xtape.outputs import check_output

    check_output(output, force=force, inputs=inputs)
    if output == "-" and sys.stdout.isatty():
        raise UsageError("-o -: will not write a recording to a terminal; redirect it to a file or a pipe")


def write_file(path: Path, text: str) -> None:
    from xtape.outputs import write_text

    write_text(path, text)


URL_HELP = (
    "Redis URL (default: $REDIS_URL, else redis://localhost:6379/0); rediss:// for TLS. "
    "The password may come from $XTAPE_REDIS_PASSWORD or $REDISCLI_AUTH instead of the "
    "URL, which keeps it out of ps."
)


TlsCaOpt = Annotated[Path | None, typer.Option("--tls-ca-cert", metavar="FILE", help="TLS: trust the server certificates this CA file signed (rediss:// only).", show_default=False)]


TlsCertOpt = Annotated[Path | None, typer.Option("--tls-cert", metavar="FILE", help="TLS: the client certificate, for servers that check clients.", show_default=False)]


TlsKeyOpt = Annotated[Path | None, typer.Option("--tls-key", metavar="FILE", help="TLS: the client certificate's private key.", show_default=False)]


ClusterOpt = Annotated[bool | None, typer.Option("--cluster/--no-cluster", help="Treat the URL as a node of a Redis Cluster (default: detected), or as one server.", show_default=False)]


TlsInsecureOpt = Annotated[bool, typer.Option("--tls-insecure", help="TLS: do not check the server's certificate (encrypts, but trusts anyone).")]


def tls_url(
    url: str | None, ca_cert: Path | None, cert: Path | None, key: Path | None, insecure: bool
) -> str | None:
    """``--url`` with the ``--tls-*`` options mapped onto its connection options."""
    if not (ca_cert or cert or key or insecure):
        return url  # (as with_tls does; without importing redis-py for nothing)
    from xtape.connection import TlsOptions, resolve_url, with_tls

    tls = TlsOptions(ca_cert=ca_cert, cert=cert, key=key, insecure=insecure)
    return with_tls(resolve_url(url), tls) if tls else url


def warn(message: str) -> None:
    logs.warn(message)


def parse_time_base(text: str) -> TimeBase:
    """``--clock``: the time base of a recording (the entry ids' or the recorder's clock)."""
    if text == "id":
        return "id"
    if text == "capture":
        return "capture"
    raise UsageError(f"invalid --clock {text!r}: choose id or capture")


def format_seconds(s: float) -> str:
    """A duration for a progress line: 42 s, 3 m 05 s, 1 h 02 m."""
    s = round(s)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} m {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} m"


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
        code = app(standalone_mode=False)
    except XtapeError as exc:  # pragma: no cover - commands handle their own
        logs.error(str(exc), exc.exit_code)
        code = exc.exit_code
    except KeyboardInterrupt:
        code = 130
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
    # The process ends here and the OS frees its memory: frozen, the objects it made are
    # not traversed by the interpreter's final collections (40 ms of the 0.28 s an
    # `xtape record` costs besides its work; bench/record.py, docs/recording.md).
    gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)
