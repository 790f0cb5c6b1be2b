"""The ``xtape`` command line: parse, call the library, render output and errors.

Nothing here holds logic of its own. Every expected failure is an ``XtapeError``,
printed as one line on stderr with exit code 1 (runtime) or 2 (input/usage).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import typer.core
from rich.console import Console
from typer.models import CommandFunctionType

from xtape import __version__
from xtape.errors import UsageError, XtapeError
from xtape.units import plural

if TYPE_CHECKING:
    from xtape.recording import TimeBase
    from xtape.replay import ReplayProgress, ReplayReport

class _Command(typer.core.TyperCommand):
    """A command whose ``--help`` reads like a tool's: ``FILE``, ``N``, ``[id|capture]``
    where typer would print Python types (``<path>``, ``<list[str]>``, ``[x>=1]``)."""

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
                sections["Arguments"].append((_argument_name(param), _tidy_extras(help_text)))
            else:
                sections["Options"].append((_option_name(param, name), _tidy_extras(help_text)))
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


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


def _tidy_extras(help_text: str) -> str:
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
    """Every command gets :class:`_Command`'s help formatting."""

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)


app = _Typer(
    name="xtape",
    help=(
        "Record Redis Streams traffic, turn recordings into editable scenarios, and replay "
        "either into Redis with original, scaled or fixed-rate timing.\n\n"
        "Redis URL: --url, else $REDIS_URL, else redis://localhost:6379/0; its password may "
        "come from $XTAPE_REDIS_PASSWORD or $REDISCLI_AUTH instead. "
        "Exit codes: 0 done, 1 runtime failure, 2 invalid input or usage."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line on stderr and exit."""
    stderr.print(f"xtape: error: {message}", markup=False)
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
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="xtape: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("xtape").setLevel(logging.DEBUG if verbose else logging.WARNING)


def _version(value: bool) -> None:
    if value:
        stdout.print(f"xtape {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    _setup_logging(False)


# --------------------------------------------------------------------------- info / cat


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _shown(value: Any) -> str:
    """Text from a recording (names, marker texts, header values) for a terminal:
    control characters and bytes that are not UTF-8 escaped, so a stream name cannot
    move the cursor or fake a line."""
    from xtape.timeline import display_name

    if isinstance(value, bytes):
        return display_name(value)
    if isinstance(value, str):
        return display_name(value.encode("utf-8", "surrogateescape"))
    return display_name(json.dumps(value, ensure_ascii=False).encode())


@app.command()
def info(
    file: Annotated[Path, typer.Argument(help="A recording (- reads standard input).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    sparkline: Annotated[bool, typer.Option("--sparkline/--no-sparkline", help="Draw each stream's rate over the span (a second pass over the entries; not for standard input).")] = True,
) -> None:
    """Summarize a recording: time span, entries and rate per stream, gaps, a truncated tail."""
    from xtape.recording import summarize

    with handled():
        summary = summarize(file)
        data = summary.to_dict()
        if as_json:
            stdout.print(json.dumps(data, indent=2, ensure_ascii=False), markup=False)
            return
        sparks = None
        if sparkline and (file.is_file() or file.is_dir()):  # not a pipe: read a second time
            from xtape.plot.rates import can_draw_blocks, sparklines

            sparks = sparklines(file, summary, unicode=can_draw_blocks(stdout.encoding))
    src = data["source"]
    lines = [
        f"file:      {_shown(data['path'])} ({_human_bytes(data['file_size'])}, format v{data['version']}, {_shown(data['tool'])})",
        (
            f"source:    merged from {len(src['merged'])} recordings"
            if isinstance(src.get("merged"), list)
            else f"source:    {_shown(src.get('url', '?'))} (redis {_shown(src.get('server_version', '?'))})"
            + (
                f", a cluster of {_shown(src['cluster'].get('shards', '?'))} shards"
                if isinstance(src.get("cluster"), dict)
                else ""
            )
        ),
        f"recorded:  {data['created']}",
        (
            f"span:      {data['start']} .. {data['end']} ({data['duration_s']:.3f} s)"
            if data["start"]
            else "span:      - (no entries)"
        ),
        f"entries:   {data['entries']}"
        + (f" ({data['rate']:.1f}/s)" if data["rate"] else ""),
    ]
    if sparks is not None:
        lines.append(
            f"rate:      |{sparks.total}| peak {sparks.peak_rate:,.1f}/s, "
            f"{len(sparks.total)} buckets of {sparks.bucket_ns / 1e9:.3g} s"
        )
    lines.append(f"streams:   {len(data['streams'])}")
    for s, name in zip(data["streams"], summary.streams, strict=True):
        rate = f"{s['rate']:.1f}/s" if s["rate"] else "-"
        noun = "entry  " if s["entries"] == 1 else "entries"
        spark = f"  |{sparks.streams.get(name, '')}|" if sparks is not None else ""
        lines.append(f"  {_shown(s['name']):<32} {s['entries']:>10} {noun}  {rate:>10}{spark}  {s['first_id']} .. {s['last_id']}")
    if data["gaps"]:
        lines.append(f"gaps:      {len(data['gaps'])} (entries trimmed before they were recorded)")
        for g in data["gaps"]:
            lost = "unknown" if g["lost"] is None else g["lost"]
            lines.append(f"  {_shown(g['stream'])}: after {g['after_id']} before {g['before_id']}: {lost} lost")
    for m in data["markers"]:
        lines.append(f"marker:    {m['time']} {_shown(m['kind'])}: {_shown(m['text'])}")
    if data["truncated_bytes"]:
        lines.append(
            f"truncated: the last {data['truncated_bytes']} bytes are an incomplete record (skipped)"
        )
    if data["summary"] == "rebuilt":
        lines.append("summary:   rebuilt by scanning (no intact summary at the end of the file)")
    if data["files"] > 1:
        lines.append(f"files:     {data['files']} (a split recording, read as one)")
    if data["complete"]:
        lines.append("complete:  yes")
    elif data["writing"]:
        lines.append("complete:  no (still being written: a recorder holds the file)")
    else:
        lines.append("complete:  no (the recorder did not stop cleanly)")
    for line in lines:
        stdout.print(line, markup=False)


@app.command()
def cat(
    file: Annotated[Path, typer.Argument(help="A recording (- reads standard input).")],
    stream: Annotated[
        list[str] | None,
        typer.Option("--stream", "-s", metavar="GLOB", help="Only streams matching this glob (repeatable)."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=0, help="At most N entries.")] = None,
    objects: Annotated[
        bool,
        typer.Option(
            "--object",
            help='Fields as an object for jq: {"name": value}, a repeated name\'s values as an array (loses the order across names).',
        ),
    ] = False,
    since: Annotated[str | None, typer.Option("--since", metavar="D", help="Only entries from D after the recording's start (e.g. 2m), as replay --since.")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="D", help="Only entries before D after the recording's start, as replay --until.")] = None,
) -> None:
    """Print entries as JSON lines: {"stream", "id", "fields": [[name, value], ...], "time"}.

    Names and values are text where they are UTF-8, else {"base64": ...}.
    """
    from xtape.recording import Recording
    from xtape.recording.jsonl import write_jsonl
    from xtape.units import match_any, parse_duration

    with handled():
        window = (
            None
            if since is None and until is None
            else (
                None if since is None else parse_duration(since, option="--since"),
                None if until is None else parse_duration(until, option="--until", positive=True),
            )
        )
        rec = Recording(file)
        if limit == 0:
            return
        patterns = list(stream or ())
        try:
            write_jsonl(
                rec,
                sys.stdout.buffer,
                keep=(lambda name: match_any(name, patterns)) if patterns else None,
                limit=limit,
                objects=objects,
                window=window,
            )
        except BrokenPipeError:
            # `xtape cat ... | head`: stop quietly (and let nothing flush to the closed pipe)
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        if rec.truncated_bytes:
            stderr.print(
                f"xtape: warning: {_shown(rec.name)}: the last {rec.truncated_bytes} bytes are an "
                "incomplete record (skipped)",
                markup=False,
            )


# --------------------------------------------------------------------------- progress


class ProgressLine:
    """A live status line on stderr, drawn only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._width = 0

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        pad = max(self._width - len(text), 0)
        sys.stderr.write("\r" + text + " " * pad)
        sys.stderr.flush()
        self._width = len(text)

    def warn(self, message: str) -> None:
        """A warning on its own line, the live line redrawn after it."""
        self.done()
        stderr.print(f"xtape: warning: {message}", markup=False)

    def done(self) -> None:
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
            self._width = 0


def _variables(values: list[str] | None) -> dict[str, str]:
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


# --------------------------------------------------------------------------- validate


#: Files at least this big show a progress line while they are validated (on a terminal).
_BIG_SCENARIO_BYTES = 5_000_000


CatalogOpt = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        metavar="FILE",
        help="The stream catalog (default: $XTAPE_CATALOG, else streams.yaml beside the scenario or in the current directory).",
        show_default=False,
    ),
]
NoCatalogOpt = Annotated[bool, typer.Option("--no-catalog", help="Check no stream catalog, even if one is found.")]


def _catalog_for(explicit: Path | None, near: Path | None, no_catalog: bool) -> Any:
    """The catalog that applies to ``near`` (None: none found, or --no-catalog)."""
    from xtape.catalog.discover import find_catalog_path

    if explicit is not None and no_catalog:
        raise UsageError("give --catalog or --no-catalog, not both")
    path = find_catalog_path(explicit, near, enabled=not no_catalog)
    if path is None:
        return None  # (the schema libraries are not even imported)
    from xtape.catalog.catalog import find_catalog

    return find_catalog(path)


def _print_errors(error: XtapeError) -> None:
    for each in getattr(error, "errors", None) or [error]:
        stderr.print(f"xtape: error: {each}", markup=False)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files (.yaml, .yml, .json), or recordings (.xtape) to check against a catalog.")],
    variable: VariableOpt = None,
    catalog: CatalogOpt = None,
    no_catalog: NoCatalogOpt = False,
    examples: Annotated[int, typer.Option("--examples", metavar="N", min=0, help="Recordings: show the first N invalid entries per stream.")] = 3,
) -> None:
    """Check scenarios: syntax, keys, types, variables, generators and, with a stream
    catalog, stream names and every payload. Exit 2 if any is invalid.

    Every problem of a file is reported, one line each (file:line: where: what). Nothing
    the scenario names is imported or run: python generators are only located.
    A recording is checked entry by entry against the catalog, with a summary per
    stream; exit 1 if any entry is invalid (production has drifted from the schemas).
    """
    from xtape.scenario.check import unknown_variables, validate_scenario

    variables = _variables_or_fail(variable)
    bad = 0
    drifted = 0
    known: set[str] = set()  # what the files use or define, for --variable
    for file in files:
        if file.name == _CATALOG_NAME:  # `xtape validate scenarios/*.yaml` checks the catalog too
            bad += not _validate_catalog(file)
            continue
        try:
            schemas = _catalog_for(catalog, file, no_catalog)
        except XtapeError as refused:
            _print_errors(refused)
            if isinstance(refused, UsageError):
                raise typer.Exit(2) from None
            bad += 1
            continue
        if _is_recording_file(file):
            with handled():
                if variable:
                    raise UsageError("--variable applies to scenarios, not to recordings")
                drifted += not _validate_recording(file, schemas, examples)
            continue
        progress = ProgressLine(_file_size(file) >= _BIG_SCENARIO_BYTES)

        def show(done: int, total: int, name: Path = file, line: ProgressLine = progress) -> None:
            percent = 100 * done // max(total, 1)
            line.show(f"validating {name}: {done / 1e6:.1f}/{total / 1e6:.1f} MB read ({percent}%)")

        try:
            with _collector_paused():
                checked = validate_scenario(
                    file,
                    variables,
                    progress=show if progress.enabled else None,
                    check_variables=len(files) == 1,
                    catalog=schemas,
                )
        finally:
            progress.done()
        known |= checked.names
        if checked.errors:
            bad += 1
            for problem in checked.errors:
                stderr.print(f"xtape: error: {problem}", markup=False)
            continue
        stdout.print(
            f"ok  {file}: {plural(checked.events, 'event')}, {plural(checked.entries, 'entry', 'entries')}, "
            f"{checked.duration_ms / 1000:.3f} s"
            + (f" (catalog {schemas.path})" if schemas is not None else ""),
            markup=False,
        )
    if len(files) > 1 and not bad:  # a --variable may be meant for any one of them
        for error in unknown_variables(variables, known, None):
            bad += 1
            stderr.print(f"xtape: error: {error}", markup=False)
    if bad:
        raise typer.Exit(2)
    if drifted:
        raise typer.Exit(1)


_CATALOG_NAME = "streams.yaml"  # xtape.catalog.CATALOG_NAME (not imported for this)


def _validate_catalog(file: Path) -> bool:
    from xtape.catalog import load_catalog

    try:
        loaded = load_catalog(file)
    except XtapeError as error:
        _print_errors(error)
        return False
    stdout.print(f"ok  {file}: stream catalog, {plural(len(loaded.streams), 'stream')}", markup=False)
    return True


def _is_recording_file(path: Path) -> bool:
    """A recording by its name or first byte (a msgpack map; YAML and JSON are text). Cheap:
    validating a scenario imports nothing of the recording or replay packages."""
    if path.suffix.lower() == ".xtape":
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(1)
    except OSError:
        return False  # unreadable: the scenario loader says so
    return bool(head) and (0x80 <= head[0] <= 0x8F or head[0] in (0xDE, 0xDF))


def _validate_recording(file: Path, schemas: Any, examples: int) -> bool:
    """Check a recording against the catalog and print the summary; whether all was valid."""
    from xtape.catalog import validate_recording

    if schemas is None:
        raise UsageError(
            f"{file}: checking a recording needs a stream catalog: pass --catalog FILE "
            "(or write one with xtape infer)"
        )
    line = ProgressLine(_file_size(file) >= _BIG_SCENARIO_BYTES)
    try:
        result = validate_recording(
            file, schemas, examples=examples, progress=lambda n: line.show(f"validating {file}: {n:,} entries")
        )
    finally:
        line.done()
    verdict = "ok " if result.ok else "BAD"
    stdout.print(
        f"{verdict} {file}: {plural(result.entries, 'entry', 'entries')} on "
        f"{plural(len(result.streams), 'stream')} checked against {schemas.path}, {result.invalid:,} invalid",
        markup=False,
    )
    width = max((len(s.name) for s in result.streams), default=0)
    for stream in result.streams:
        status = f"{stream.invalid:,} invalid" if stream.invalid else "ok"
        count = f"{stream.entries:,}"
        stdout.print(f"  {stream.name:<{width}}  {count:>10} {'entry  ' if stream.entries == 1 else 'entries'}  {status}", markup=False)
        if stream.unknown:
            stdout.print(f"    {stream.unknown}", markup=False)
            continue
        for entry_id, reason in stream.first:
            stdout.print(f"    {entry_id}: {reason}", markup=False)
    if result.truncated_bytes:
        _warn(f"{file}: the last {result.truncated_bytes} bytes are an incomplete record (skipped)")
    return result.ok


@app.command()
def infer(
    file: Annotated[Path, typer.Argument(help="A recording (.xtape).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The catalog to write (streams.yaml; - for stdout).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
) -> None:
    """Write a stream catalog from a recording: per stream its fields, which are always
    present, their types, enums, length ranges and examples.

    Meant to be edited and committed: stable order, comments say what was inferred from
    how many entries. Binary fields are marked; redacted fields stay redacted.
    """
    from xtape.catalog import infer_catalog

    with handled():
        to_stdout = str(output) == "-"
        if not to_stdout and output.exists() and not force:
            raise UsageError(f"{output} exists; pass --force to overwrite it")
        line = ProgressLine(_file_size(file) >= _BIG_SCENARIO_BYTES)
        try:
            inferred = infer_catalog(file, progress=lambda n: line.show(f"infer: {n:,} entries read"))
        finally:
            line.done()
        text = inferred.catalog_yaml()
        if to_stdout:
            sys.stdout.write(text)
        else:
            _write_text(output, text)
    if not to_stdout:
        stderr.print(
            f"wrote {output}: {plural(len(inferred.streams), 'stream')} from "
            f"{plural(inferred.entries, 'entry', 'entries')}",
            markup=False,
        )


def _write_text(path: Path, text: str) -> None:
    from xtape.errors import RuntimeFailure

    try:
        path.write_text(text, "utf-8")
    except OSError as error:
        raise RuntimeFailure(f"cannot write {path}: {error.strerror or error}") from None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a big file is loaded: its millions of new
    containers would make the collector walk the heap again and again (~20% of the time);
    loading creates no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _variables_or_fail(values: list[str] | None) -> dict[str, str]:
    with handled():
        return _variables(values)
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- Redis options

_URL_HELP = (
    "Redis URL (default: $REDIS_URL, else redis://localhost:6379/0); rediss:// for TLS. "
    "The password may come from $XTAPE_REDIS_PASSWORD or $REDISCLI_AUTH instead of the "
    "URL, which keeps it out of ps."
)
TlsCaOpt = Annotated[Path | None, typer.Option("--tls-ca-cert", metavar="FILE", help="TLS: trust the server certificates this CA file signed (rediss:// only).", show_default=False)]
TlsCertOpt = Annotated[Path | None, typer.Option("--tls-cert", metavar="FILE", help="TLS: the client certificate, for servers that check clients.", show_default=False)]
TlsKeyOpt = Annotated[Path | None, typer.Option("--tls-key", metavar="FILE", help="TLS: the client certificate's private key.", show_default=False)]
ClusterOpt = Annotated[bool | None, typer.Option("--cluster/--no-cluster", help="Treat the URL as a node of a Redis Cluster (default: detected), or as one server.", show_default=False)]
TlsInsecureOpt = Annotated[bool, typer.Option("--tls-insecure", help="TLS: do not check the server's certificate (encrypts, but trusts anyone).")]


def _redis_url(
    url: str | None, ca_cert: Path | None, cert: Path | None, key: Path | None, insecure: bool
) -> str | None:
    """``--url`` with the ``--tls-*`` options mapped onto its connection options."""
    from xtape.connection import TlsOptions, resolve_url, with_tls

    tls = TlsOptions(ca_cert=ca_cert, cert=cert, key=key, insecure=insecure)
    return with_tls(resolve_url(url), tls) if tls else url


# --------------------------------------------------------------------------- replay


@app.command()
def replay(
    source: Annotated[
        Path | None,
        typer.Argument(help="A scenario (YAML or JSON) or a recording, told apart by content.", show_default=False),
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="The source, as an option.")] = None,
    url: Annotated[str | None, typer.Option("--url", metavar="URL", help="Target " + _URL_HELP)] = None,
    tls_ca_cert: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    tls_insecure: TlsInsecureOpt = False,
    speed: Annotated[float | None, typer.Option("--speed", help="Time scale: 2 plays twice as fast, 0.5 half as fast. [default: 1]")] = None,
    max_speed: Annotated[bool, typer.Option("--max-speed", help="Publish as fast as Redis takes them.")] = False,
    rate: Annotated[float | None, typer.Option("--rate", metavar="N", help="A fixed N events per second, ignoring the original spacing.")] = None,
    loop: Annotated[bool, typer.Option("--loop", help="Start again after the end, until Ctrl-C.")] = False,
    loop_interval: Annotated[int | None, typer.Option("--loop-interval", metavar="MS", help="Pause between loop passes, in ms (with --loop). [default: 0]")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the events with their offsets in the timeline instead of publishing (no Redis needed, no waiting).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show each event's fields as it is published.")] = False,
    variable: VariableOpt = None,
    stream: Annotated[list[str] | None, typer.Option("--stream", "-s", metavar="GLOB", help="Only streams matching this glob (repeatable).")] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", metavar="SRC=DST", help="Publish streams matching SRC (a name or glob) as DST; a '*' in DST takes what '*' matched in SRC (repeatable).")] = None,
    prefix: Annotated[str, typer.Option("--prefix", metavar="P", help="Prepend P to every target stream name.")] = "",
    since: Annotated[str | None, typer.Option("--since", metavar="D", help="Skip the first D of the timeline (e.g. 2m).")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="D", help="Stop at D into the timeline (e.g. 3m).")] = None,
    keep_ids: Annotated[bool, typer.Option("--keep-ids", help="Publish the original entry ids (targets must be missing or empty).")] = False,
    maxlen: Annotated[int | None, typer.Option("--maxlen", metavar="N", help="Trim target streams to about N entries (MAXLEN ~ N, N >= 1).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for scenario generators (same seed, same events).")] = None,
    clock: Annotated[str, typer.Option("--clock", metavar="[id|capture]", help="Recording timing: id (the entry ids' ms, default) or capture (the recorder's clock).")] = "id",
    no_reconnect: Annotated[bool, typer.Option("--no-reconnect", help="Fail at once if the connection is lost (default: reconnect with backoff and resend what Redis did not confirm).")] = False,
    keep_going: Annotated[bool, typer.Option("--keep-going", help="Go on however many entries Redis refuses (default: stop after 100 refusals in a row).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Hide the progress line (the report, warnings and errors still print).")] = False,
    catalog: CatalogOpt = None,
    no_catalog: NoCatalogOpt = False,
    cluster: ClusterOpt = None,
    capture: Annotated[list[str] | None, typer.Option("--capture", metavar="GLOB", help="Also record these output streams (names or globs, repeatable) from the start of the replay into -o FILE.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="With --capture: the recording to write.")] = None,
    settle: Annotated[str | None, typer.Option("--settle", metavar="D", help="With --capture: stop once the replay is done and the outputs were quiet for D. [default: 1s without --expect]")] = None,
    expect: Annotated[int | None, typer.Option("--expect", metavar="N", help="With --capture: stop once N entries were captured (exit 1 if fewer arrive).")] = None,
    timeout: Annotated[str | None, typer.Option("--timeout", metavar="D", help="With --capture: stop replay and capture after D at the latest.")] = None,
    force: Annotated[bool, typer.Option("--force", help="With --capture: overwrite an existing -o FILE.")] = False,
) -> None:
    """Publish a scenario or a recording into Redis with original, scaled or fixed-rate timing.

    Deadlines are absolute (no drift); events already due go out together in one
    pipelined round trip. At the end a report gives events, duration, rate and
    lateness (p50/p99/max) against the schedule. Exit 130 (143) when stopped by
    Ctrl-C (SIGTERM), 1 when Redis refused entries or the replay failed. A scenario is
    first checked against its stream catalog (--catalog, else $XTAPE_CATALOG, else
    streams.yaml beside it or here): nothing is published if an event does not match.
    """
    from xtape.errors import ReplayAborted
    from xtape.process import process_state
    from xtape.replay import Pacing, ReplayOptions, open_source, replay_into
    from xtape.transform import Transform

    state = None
    with handled():
        path = _one_source(source, file)
        target = _redis_url(url, tls_ca_cert, tls_cert, tls_key, tls_insecure)
        options = ReplayOptions(
            pacing=Pacing.choose(speed=speed, max_speed=max_speed, rate=rate),
            loop=loop,
            loop_interval_ms=loop_interval,
            transform=Transform.parse(
                streams=stream or (), maps=map_ or (), prefix=prefix, since=since, until=until
            ),
            keep_ids=keep_ids,
            maxlen=maxlen,
            dry_run=dry_run,
            reconnect=not no_reconnect,
            keep_going=keep_going,
        )
        from xtape.replay.source import is_recording

        schemas = None if is_recording(path) else _catalog_for(catalog, path, no_catalog)
        capture_args = _capture_args(capture, output, settle, expect, timeout, force)
        src = open_source(
            path,
            options,
            variables=_variables(variable),
            seed=seed,
            clock=_clock(clock),
            catalog=schemas,
        )
        for warning in src.warnings:
            _warn(warning)
        line = ProgressLine(not (quiet or as_json or dry_run or verbose))
        if capture_args is not None:
            _replay_capture(src, options, target, {**capture_args, "cluster": cluster}, line, as_json)
            return
        with process_state() as state:
            try:
                report = replay_into(
                    src,
                    options,
                    url=target,
                    out=sys.stderr if as_json else sys.stdout,  # with --json, stdout is the report's
                    verbose=verbose,
                    progress=lambda p: line.show(_replay_progress(p)),
                    warn=line.warn,
                    stop_event=state.stop_event,
                    cluster=cluster,
                )
            except ReplayAborted as exc:
                line.done()
                _print_report(exc.report, as_json, dry_run=dry_run, seed=src.seed)
                raise
            finally:
                line.done()
    for warning in report.warnings:
        _warn(warning)
    _print_report(report, as_json, dry_run=dry_run, seed=src.seed)
    if report.interrupted:
        raise typer.Exit(state.exit_code or 130)
    if report.errors and not dry_run:
        raise typer.Exit(1)


def _capture_args(
    capture: list[str] | None,
    output: Path | None,
    settle: str | None,
    expect: int | None,
    timeout: str | None,
    force: bool,
) -> dict[str, Any] | None:
    """The --capture options, checked; ``None`` without --capture."""
    from xtape.regress import check_capture_options
    from xtape.units import parse_duration

    if not capture:
        given = [n for n, v in (("-o", output), ("--settle", settle), ("--expect", expect), ("--timeout", timeout)) if v is not None]
        if given:
            raise UsageError(f"{', '.join(given)} only apply with --capture GLOB")
        return None
    if output is None:
        raise UsageError("--capture needs -o FILE: the recording to write the outputs into")
    if str(output) == "-":
        raise UsageError("--capture writes a file (the replay's report goes to standard output): give -o FILE")
    if output.exists() and not force:
        raise UsageError(f"{output} exists; pass --force to overwrite it")
    settle_s = None if settle is None else parse_duration(settle, option="--settle", positive=True) / 1e9
    timeout_s = None if timeout is None else parse_duration(timeout, option="--timeout", positive=True) / 1e9
    check_capture_options(settle_s, expect, timeout_s)
    return {"outputs": list(capture), "output": output, "settle_s": settle_s, "expect": expect, "timeout_s": timeout_s}


def _replay_capture(
    src: Any, options: Any, target: str | None, args: dict[str, Any], line: ProgressLine, as_json: bool
) -> None:
    """``replay --capture``: the replay and a recording of its outputs, then both reports."""
    from xtape.errors import ReplayAborted
    from xtape.process import process_state
    from xtape.regress import replay_and_capture

    with process_state() as state:
        try:
            result = replay_and_capture(
                src,
                url=target,
                options=options,
                progress=lambda p: line.show(_replay_progress(p)),
                warn=line.warn,
                stop_event=state.stop_event,
                **args,
            )
        except ReplayAborted as exc:
            line.done()
            _print_report(exc.report, as_json, dry_run=False, seed=src.seed)
            raise
        finally:
            line.done()
    report, stats = result.replay, result.record
    for warning in report.warnings:
        _warn(warning)
    _print_report(report, as_json, dry_run=False, seed=src.seed)
    streams = sum(1 for n in stats.streams.values() if n)
    stderr.print(
        f"captured {plural(stats.entries, 'entry', 'entries')} from {plural(streams, 'stream')} into {args['output']} "
        f"(stopped: {result.stop_reason}, {result.waited_s:.1f} s after the replay)",
        markup=False,
    )
    if state.exit_code is not None or report.interrupted:
        raise typer.Exit(state.exit_code or 130)
    if args["expect"] is not None and stats.entries < args["expect"]:
        fail(f"expected {args['expect']} entries on the outputs, captured {stats.entries}", 1)
    if report.errors:
        raise typer.Exit(1)


def _warn(message: str) -> None:
    stderr.print(f"xtape: warning: {message}", markup=False)


def _replay_progress(p: ReplayProgress) -> str:
    """``replay: 1,200/5,000 (24%), 3,100/s, ETA 1 m 12 s, pass 2, 3 errors``."""
    done = f"{p.pass_sent:,}" + (f"/{p.pass_total:,}" if p.pass_total is not None else "")
    parts = [f"replay: {done}" + (f" ({p.percent:.0f}%)" if p.percent is not None else "")]
    parts.append(f"{p.rate:,.0f}/s")
    if p.eta_s is not None:
        parts.append(f"ETA {_seconds(p.eta_s)}")
    if p.iteration:
        parts.append(f"pass {p.iteration + 1}")
    if p.errors:
        parts.append(f"{p.errors:,} error{'s' * (p.errors != 1)}")
    return ", ".join(parts)


def _one_source(source: Path | None, file: Path | None) -> Path:
    if source is not None and file is not None:
        raise UsageError("give the source once: as an argument or with -f, not both")
    path = source or file
    if path is None:
        raise UsageError("give a scenario or recording to replay (xtape replay FILE, or -f FILE)")
    return path


def _clock(text: str) -> TimeBase:
    """``--clock``: which clock times a recording."""
    if text == "id":
        return "id"
    if text == "capture":
        return "capture"
    raise UsageError(f"invalid --clock {text!r}: choose id or capture")


def _print_report(report: ReplayReport, as_json: bool, *, dry_run: bool, seed: int | None) -> None:
    data = report.to_dict()
    if seed is not None:
        data["seed"] = seed
    if as_json:
        stdout.print(json.dumps(data, ensure_ascii=False), markup=False)
        return
    out = stderr if dry_run else stdout
    verb = "scheduled" if dry_run else "published"
    text = (
        f"{verb} {plural(report.published, 'event')} to {plural(len(report.streams), 'stream')} in "
        f"{report.duration_s:.3f} s ({report.rate:,.0f}/s, {report.pacing}"
        + (f", {report.iterations} passes" if report.iterations > 1 else "")
        + ")"
    )
    out.print(text, markup=False)
    if report.lateness is not None and not dry_run:
        lat = report.lateness
        out.print(
            f"lateness vs schedule: p50 {lat.p50_ms:.2f} ms, p99 {lat.p99_ms:.2f} ms, "
            f"max {lat.max_ms:.2f} ms",
            markup=False,
        )
    if seed is not None:
        out.print(f"seed: {seed} (pass --seed {seed} to repeat these events)", markup=False)
    if report.errors:
        out.print(f"errors: {plural(report.errors, 'entry', 'entries')} refused by Redis", markup=False)
        for message in report.error_messages:
            out.print(f"  {message}", markup=False)
    if report.reconnects:
        out.print(
            f"reconnects: {report.reconnects} (entries Redis had not confirmed were sent again)",
            markup=False,
        )
    if report.interrupted:
        out.print("interrupted: stopped early by Ctrl-C or SIGTERM", markup=False)


# --------------------------------------------------------------------------- convert


@app.command()
def convert(
    file: Annotated[Path, typer.Argument(help="A recording (.xtape).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The scenario file to write (.yaml; - for stdout).")],
    stream: Annotated[list[str] | None, typer.Option("--stream", "-s", metavar="GLOB", help="Only streams matching this glob (repeatable).")] = None,
    since: Annotated[str | None, typer.Option("--since", metavar="D", help="Start D after the recording's start (e.g. 2m), as replay --since.")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="D", help="End D after the recording's start (e.g. 3m), as replay --until.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most N entries.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="The scenario's name (default: the file's).")] = None,
    description: Annotated[str | None, typer.Option("--description", help="The scenario's description.")] = None,
    collapse_repeats: Annotated[bool, typer.Option("--collapse-repeats", help="Fold runs of equal payloads at a steady interval into repeat/interval.")] = False,
    jitter: Annotated[float, typer.Option("--jitter", metavar="MS", min=0, help="With --collapse-repeats: also fold runs whose intervals vary by up to +/-MS ms (interval: their mean, in whole ms).")] = 0,
    max_delay: Annotated[float | None, typer.Option("--max-delay", metavar="MS", min=0, help="Cap idle gaps between events at MS milliseconds.")] = None,
    clock: Annotated[str, typer.Option("--clock", metavar="[id|capture]", help="Delays from: id (the entry ids' ms, default) or capture (the recorder's clock).")] = "id",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress line and no summary (warnings and errors still show).")] = False,
    generators: Annotated[bool, typer.Option("--generators", help="Write a compact load scenario instead: generators that make each stream's observed shape (enums with their weights, number ranges) at its observed rate, no recorded value verbatim but an enum's.")] = False,
) -> None:
    """Turn a recording (or part of it) into a scenario YAML to edit, commit and replay.

    Replaying the scenario publishes the same fields, byte for byte, as replaying the
    recording: values stay text, bytes that are not UTF-8 become !!binary, repeated
    field names use the list form, and the original ids are kept for --keep-ids.
    Streams: memory stays flat however large the recording.
    """
    from xtape.convert import ConvertOptions, ConvertProgress
    from xtape.convert import convert as run_convert
    from xtape.units import parse_duration

    line = ProgressLine(not quiet)

    def show(p: ConvertProgress) -> None:
        eta = "" if p.eta_s is None else f", ETA {_seconds(p.eta_s)}"
        line.show(
            f"convert: {p.read:,}/{p.total:,} entries ({p.fraction:.0%}), "
            f"{p.rate:,.0f}/s{eta}"
        )

    with handled():
        timing = _clock(clock)
        to_stdout = str(output) == "-"
        if not to_stdout and output.exists() and not force:
            raise UsageError(f"{output} exists; pass --force to overwrite it")
        if generators:
            given = [
                option
                for option, value in (
                    ("--since", since), ("--until", until), ("--limit", limit),
                    ("--collapse-repeats", collapse_repeats or None), ("--jitter", jitter or None),
                    ("--max-delay", max_delay), ("--clock", None if timing == "id" else timing),
                )
                if value is not None
            ]  # fmt: skip
            if given:
                raise UsageError(f"--generators cannot be combined with {', '.join(given)}")
            _convert_generators(file, output, stream or [], name, description, quiet=quiet)
            return
        options = ConvertOptions(
            streams=list(stream or []),
            since_ns=None if since is None else parse_duration(since, option="--since"),
            until_ns=None if until is None else parse_duration(until, option="--until"),
            limit=limit,
            max_delay_ns=None if max_delay is None else round(max_delay * 1_000_000),
            collapse_repeats=collapse_repeats,
            jitter_ns=round(jitter * 1_000_000),
            name=name,
            description=description,
            clock=timing,
        )
        try:
            report = run_convert(
                file,
                sys.stdout if to_stdout else output,
                options,
                progress=show if line.enabled else None,
                warn=line.warn,
            )
        except BrokenPipeError:
            sys.stderr.close()  # `xtape convert ... -o - | head`: stop quietly
            raise typer.Exit(0) from None
        finally:
            line.done()
    if not quiet:
        stderr.print(
            f"wrote {'stdout' if to_stdout else output}: {plural(report.events, 'event')} from "
            f"{plural(report.entries, 'entry', 'entries')} on {plural(len(report.streams), 'stream')} "
            f"({report.elapsed_s:.1f} s)",
            markup=False,
        )


def _convert_generators(
    file: Path, output: Path, streams: list[str], name: str | None, description: str | None, *, quiet: bool
) -> None:
    """``convert --generators``: a compact scenario of generators from what the streams hold."""
    from xtape.catalog import infer_catalog
    from xtape.catalog.infer import scenario_yaml

    line = ProgressLine(not quiet)
    try:
        inferred = infer_catalog(file, streams=streams, progress=lambda n: line.show(f"convert: {n:,} entries read"))
    finally:
        line.done()
    if not inferred.streams:
        raise UsageError(f"{file}: no entries" + (" on streams matching --stream" if streams else ""))
    scenario = inferred.scenario(name=name, description=description)
    text = scenario_yaml(scenario)
    if str(output) == "-":
        sys.stdout.write(text)
    else:
        _write_text(output, text)
    if not quiet:
        stderr.print(
            f"wrote {'stdout' if str(output) == '-' else output}: {plural(len(scenario['events']), 'event')} "
            f"with generators for {plural(len(scenario['generators']), 'stream')}, from "
            f"{plural(inferred.entries, 'entry', 'entries')}",
            markup=False,
        )


def _seconds(s: float) -> str:
    """A duration for a progress line: 42 s, 3 m 05 s, 1 h 02 m."""
    s = round(s)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} m {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} m"


# --------------------------------------------------------------------------- plot


@app.command()
def plot(
    file: Annotated[Path, typer.Argument(help="A recording (.xtape).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The picture to write: FILE.html (self-contained, no network), FILE.svg or FILE.png. Replaced if it exists.")],
    stream: Annotated[list[str] | None, typer.Option("--stream", "-s", metavar="GLOB", help="Only streams matching this glob (repeatable).")] = None,
    report: Annotated[Path | None, typer.Option("--report", metavar="REPORT.json", help="A replay's --json report: show its lateness (p50/p99/max) and figures.")] = None,
    bucket: Annotated[str | None, typer.Option("--bucket", metavar="D", help="Count entries per D (e.g. 1s, 5m); default: a round width giving about 120 buckets.")] = None,
    clock: Annotated[str | None, typer.Option("--clock", metavar="[id|capture]", help="Time from: id (the entry ids' ms, default) or capture (the recorder's clock; the default when the ids were set by producers).")] = None,
) -> None:
    """Draw entries per second per stream over time, with gaps and the recorder's markers
    (reconnect, restart, flush, recreated, deleted) marked.

    Needs the plot extra: pip install 'xtape[plot]'. Reads the recording's summary and
    then its entries once, in flat memory.
    """
    from xtape.plot import collect, load_report, output_format, write
    from xtape.plot.render import require_matplotlib
    from xtape.units import parse_duration, plural

    with handled():
        output_format(output)
        require_matplotlib()
        note = None if report is None else load_report(report)
        data = collect(
            file,
            clock=None if clock is None else _clock(clock),
            streams=list(stream or []),
            bucket_ns=None if bucket is None else parse_duration(bucket, option="--bucket", positive=True),
            report=note,
        )
        if data.clock_note:
            _warn(f"{file}: {data.clock_note}")
        write(data, output)
    stderr.print(
        f"wrote {output}: {data.series.entries:,} entr{'y' if data.series.entries == 1 else 'ies'}, "
        f"{plural(len(data.rows), 'row')}, {plural(len(data.markers), 'marker')}, "
        f"{plural(len(data.gaps), 'gap')}",
        markup=False,
    )


# --------------------------------------------------------------------------- record


@app.command()
def record(
    streams: Annotated[list[str], typer.Argument(metavar="STREAM_OR_GLOB...", help="Stream names or globs ('orders:*'); globs are re-scanned so new streams are caught.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The recording file to write (.xtape; - for standard output, not a terminal).")],
    url: Annotated[str | None, typer.Option("--url", metavar="URL", help="Source " + _URL_HELP)] = None,
    tls_ca_cert: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    tls_insecure: TlsInsecureOpt = False,
    from_: Annotated[str, typer.Option("--from", metavar="WHEN", help="now (default: new entries only), start (all the server holds), an id (1700000000000-0), a time (2026-11-25T10:00:00Z) or -DURATION (-5m).")] = "now",
    duration: Annotated[str | None, typer.Option("--duration", metavar="D", help="Stop after D (e.g. 30s, 5m).")] = None,
    count: Annotated[int | None, typer.Option("--count", metavar="N", min=1, help="Stop after exactly N entries.")] = None,
    until_idle: Annotated[str | None, typer.Option("--until-idle", metavar="D", help="Stop when no entry arrived for D.")] = None,
    redact: Annotated[list[str] | None, typer.Option("--redact", metavar="FIELD_GLOB", help="Replace values of matching fields with a keyed digest (repeatable); equal values stay equal. Names match in any case.")] = None,
    redact_case_sensitive: Annotated[bool, typer.Option("--redact-case-sensitive", help="Match --redact globs case-sensitively.")] = False,
    fsync: Annotated[bool, typer.Option("--fsync", help="fsync the file on every flush (safer, slower).")] = False,
    scan_interval: Annotated[float, typer.Option("--scan-interval", metavar="S", help="Seconds between scans for new streams matching a glob.")] = 1.0,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Hide the progress line and the final summary (warnings and errors still print).")] = False,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", metavar="GLOB", help="Never record streams matching GLOB (repeatable).")] = None,
    cluster: ClusterOpt = None,
    compression: Annotated[str, typer.Option("--compression", metavar="KIND", help="Chunk compression: zstd (default) or none.")] = "zstd",
    split_size: Annotated[str | None, typer.Option("--split-size", metavar="SIZE", help="Write numbered files into the directory -o, a new one at SIZE (e.g. 256MiB).")] = None,
    split_duration: Annotated[str | None, typer.Option("--split-duration", metavar="D", help="Write numbered files into the directory -o, a new one every D (e.g. 1h).")] = None,
    keep_last: Annotated[str | None, typer.Option("--keep-last", metavar="D", help="With a split: delete the oldest files, keeping at least the last D (e.g. 6h).")] = None,
) -> None:
    """Record entries added to Redis streams into a recording file, byte for byte.

    Read-only on the source (no consumer groups, nothing written). Stops on --duration,
    --count, --until-idle, Ctrl-C or SIGTERM, always closing the file cleanly.
    Reconnects with backoff if the server goes away, and marks trimmed entries as gaps.
    """
    from xtape.capture import RecordOptions, parse_start
    from xtape.capture import record as run_record
    from xtape.process import process_state
    from xtape.recording.split import parse_size
    from xtape.timeline import NS_PER_S
    from xtape.units import parse_duration

    with handled():
        split = split_size is not None or split_duration is not None
        if compression not in ("zstd", "none"):
            raise UsageError(f"--compression must be zstd or none, not {compression!r}")
        if keep_last is not None and not split:
            raise UsageError("--keep-last needs --split-size or --split-duration")
        if split and (str(output) == "-" or (output.exists() and not output.is_dir())):
            raise UsageError(f"--split-size/--split-duration write into a directory; {output} is not one")
        if not split and str(output) != "-" and output.exists() and not force:
            raise UsageError(f"{output} exists; pass --force to overwrite it")
        target = _redis_url(url, tls_ca_cert, tls_cert, tls_key, tls_insecure)
        options = RecordOptions(
            patterns=list(streams),
            start=parse_start(from_),
            duration_s=None
            if duration is None
            else parse_duration(duration, option="--duration", positive=True) / NS_PER_S,
            count=count,
            until_idle_s=None
            if until_idle is None
            else parse_duration(until_idle, option="--until-idle", positive=True) / NS_PER_S,
            redact=list(redact or []),
            redact_case_sensitive=redact_case_sensitive,
            fsync=fsync,
            scan_interval_s=scan_interval,
            exclude=list(exclude or []),
            cluster=cluster,
            compression=compression,
            split_size=None if split_size is None else parse_size(split_size, option="--split-size"),
            split_duration_s=None
            if split_duration is None
            else parse_duration(split_duration, option="--split-duration", positive=True) / NS_PER_S,
            keep_last_s=None
            if keep_last is None
            else parse_duration(keep_last, option="--keep-last", positive=True) / NS_PER_S,
        )
        line = ProgressLine(not quiet)
        with process_state() as state:
            try:
                stats = run_record(
                    target,
                    output,
                    options,
                    progress=lambda p: line.show(
                        f"record: {p.entries} entries ({p.rate:,.0f}/s) from {p.streams} streams, "
                        f"{_human_bytes(p.bytes)}, {p.elapsed_s:.0f} s"
                        + (
                            f"; backfill {p.backlog_done:,}/{p.backlog_total:,} "
                            f"({100 * p.backlog_done / max(p.backlog_total, 1):.0f}%)"
                            + (f", ETA {p.eta_s:.0f} s" if p.eta_s is not None else "")
                            if p.backlog_total is not None and p.backlog_done is not None
                            else ""
                        )
                    ),
                    warn=line.warn,
                    stop_event=state.stop_event,
                )
            finally:
                line.done()
    if not quiet:
        stderr.print(
            f"recorded {plural(stats.entries, 'entry', 'entries')} from "
            f"{plural(sum(1 for n in stats.streams.values() if n), 'stream')} into {output} "
            f"({_human_bytes(stats.bytes)}, {stats.duration_s:.1f} s, stopped: {stats.stop_reason})"
            + (f"; {plural(stats.gaps, 'gap')} ({plural(stats.lost, 'entry', 'entries')} lost" if stats.gaps else "")
            + (f", {stats.unknown_gaps} of unknown size" if stats.unknown_gaps else "")
            + (")" if stats.gaps else "")
            + (f"; {plural(stats.reconnects, 'reconnect')}" if stats.reconnects else "")
            + (f"; {plural(stats.restarts, 'server restart')}" if stats.restarts else ""),
            markup=False,
        )


# --------------------------------------------------------------------------- test


class _DashDashCommand(_Command):
    """Keeps what follows ``--`` apart (``xtape test CASE... -- COMMAND...``)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [*super().collect_usage_pieces(ctx), "[-- COMMAND...]"]

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            ctx.meta["xtape_command"] = args[at + 1 :]
            args = args[:at]
        return list(super().parse_args(ctx, args))


@app.command(cls=_DashDashCommand)
def test(
    ctx: typer.Context,
    cases: Annotated[list[Path], typer.Argument(metavar="CASE...", help="Regression case files (YAML). After them, -- COMMAND... gives the service command (it replaces each case's service.command).", show_default=False)],
    url: Annotated[str | None, typer.Option("--url", metavar="URL", help="Use this Redis (default: a throwaway redis-server per case). " + _URL_HELP)] = None,
    update: Annotated[bool, typer.Option("--update", help="Write each capture over its golden recording (accept the new output).")] = False,
    junit: Annotated[Path | None, typer.Option("--junit", metavar="FILE", help="Also write a JUnit XML report.")] = None,
) -> None:
    """Run regression cases: start the service, replay its inputs, capture its outputs, diff
    them against the golden recordings (docs/regression.md).

    Prints one line per case and, for a case that differs, the differences and the
    service's output. Exit 0 when every case matches (or was updated), 1 when one
    differs or fails, 2 for invalid input (a case file, a missing golden).
    """
    from xtape.process import process_state
    from xtape.regress import run_cases, write_junit

    command = ctx.meta.get("xtape_command") or None
    if ctx.meta.get("xtape_command") == []:
        fail("nothing after --: give the service command (or leave out the --)")
    color = sys.stdout.isatty()
    with handled(), process_state(pause_gc=False) as state:
        results = run_cases(
            cases,
            command=command,
            url=url,
            update=update,
            say=lambda line: stdout.print(line, markup=False),
            stop_event=state.stop_event,
        )
        for result in results:
            if result.status in ("differs", "error") and result.details(color):
                stdout.print(f"\n=== {result.name} ({result.path})", markup=False)
                stdout.print(result.details(color), markup=False, highlight=False)
        if junit is not None:
            write_junit(junit, results)
    if state.exit_code is not None:
        raise typer.Exit(state.exit_code)
    raise typer.Exit(max((r.exit_code for r in results), default=0))


# --------------------------------------------------------------------------- merge


@app.command()
def merge(
    inputs: Annotated[list[Path], typer.Argument(metavar="RECORDING...", help="The recordings to merge (e.g. one per cluster shard).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The merged recording to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
) -> None:
    """Merge recordings into one, in entry-id time order.

    A stream may be in several inputs only as byte-identical duplicates (written once);
    anything else is refused before the output is written.
    """
    from xtape.merge import merge as run_merge

    with handled():
        if str(output) != "-" and output.exists() and not force:
            raise UsageError(f"{output} exists; pass --force to overwrite it")
        if any(str(p) != "-" and output.exists() and p.resolve() == output.resolve() for p in inputs):
            raise UsageError(f"{output} is also an input")
        stats = run_merge(inputs, output)
    for warning in stats.warnings:
        _warn(warning)
    if not quiet:
        stderr.print(
            f"merged {stats.inputs} recordings into {output}: {stats.entries} entries from "
            f"{stats.streams} streams"
            + (f" ({stats.duplicates} duplicates dropped)" if stats.duplicates else "")
            + (f", {stats.gaps} gaps" if stats.gaps else ""),
            markup=False,
        )


# --------------------------------------------------------------------------- diff


@app.command()
def diff(
    expected: Annotated[str, typer.Argument(help="The expected (golden) recording (- for standard input).", show_default=False)],
    actual: Annotated[str | None, typer.Argument(help="The actual recording; without it (and with --url or $REDIS_URL), the live streams.", show_default=False)] = None,
    rules_file: Annotated[Path | None, typer.Option("--rules", metavar="FILE", help="A rules file (YAML); options add to it (lists) or override it.")] = None,
    stream: Annotated[list[str] | None, typer.Option("--stream", "-s", metavar="GLOB", help="Only streams matching this glob (repeatable).")] = None,
    ignore_field: Annotated[list[str] | None, typer.Option("--ignore-field", metavar="GLOB", help="Do not compare fields matching this glob (repeatable).")] = None,
    tolerance: Annotated[list[str] | None, typer.Option("--tolerance", metavar="FIELD=AMOUNT", help="Numbers of FIELD (a glob, or JSONFIELD.path) may differ by AMOUNT (0.01) or by a share of the expected value (1%) (repeatable).")] = None,
    json_field: Annotated[list[str] | None, typer.Option("--json-field", metavar="FIELD", help="Compare this field's values as parsed JSON (repeatable).")] = None,
    ignore_path: Annotated[list[str] | None, typer.Option("--ignore-path", metavar="FIELD.PATH", help="Ignore this path inside a JSON field: payload.meta.ts, payload.items[*].id (repeatable).")] = None,
    match_by: Annotated[str | None, typer.Option("--match-by", metavar="FIELD", help="Pair entries by this field's value instead of by position (FIELD or JSONFIELD.path).")] = None,
    unordered: Annotated[bool, typer.Option("--unordered", help="Pair entries by content, in any order (a multiset).")] = False,
    compare_ids: Annotated[bool, typer.Option("--compare-ids", help="Entry ids must be equal too (default: only fields are compared).")] = False,
    compare_times: Annotated[bool, typer.Option("--compare-times", help="Entry times (from each recording's start, by id) must be equal too.")] = False,
    time_tolerance: Annotated[float | None, typer.Option("--time-tolerance", metavar="MS", min=0, help="With --compare-times: how far an entry's time may move, in ms.")] = None,
    ignore_field_order: Annotated[bool, typer.Option("--ignore-field-order", help="Fields in another order are not a difference.")] = False,
    window: Annotated[int | None, typer.Option("--window", metavar="N", min=1, help="Entries per stream searched for a counterpart (bounds memory; see docs/diff.md). [default: 10000]")] = None,
    max_reported: Annotated[int | None, typer.Option("--max-reported", metavar="N", min=0, help="Differences shown in detail per stream (all are counted). [default: 1000]")] = None,
    url: Annotated[str | None, typer.Option("--url", metavar="URL", help="Compare with the live streams at this " + _URL_HELP)] = None,
    tls_ca_cert: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    tls_insecure: TlsInsecureOpt = False,
    idle: Annotated[str, typer.Option("--idle", metavar="D", help="Live: read the streams until they were quiet for D.")] = "1s",
    save_actual: Annotated[Path | None, typer.Option("--save-actual", metavar="FILE", help="Live: keep what was read as a recording.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", metavar="FILE", help="Also write a self-contained HTML report.")] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour even on a terminal (also: $NO_COLOR).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing; the exit code tells.")] = False,
) -> None:
    """Compare two recordings (or a recording and live streams) stream by stream.

    Exit codes as diff(1): 0 same, 1 differs, 2 invalid input or trouble (unreadable
    file, bad rules, Redis unreachable). By default only fields are compared, entries in
    order per stream; see docs/diff.md for the rules file and the memory bounds.
    """
    import os

    from xtape.diff import DiffRules, diff_live, diff_recordings
    from xtape.timeline import NS_PER_S
    from xtape.units import parse_duration, parse_pair

    try:
        with handled():
            base = DiffRules.load(rules_file) if rules_file is not None else DiffRules()
            changes: dict[str, object] = {}
            if stream:
                changes["streams"] = (*base.streams, *stream)
            if ignore_field:
                changes["ignore_fields"] = (*base.ignore_fields, *ignore_field)
            if json_field:
                changes["json_fields"] = (*base.json_fields, *json_field)
            if tolerance:
                tols = dict(base.tolerances)
                for text in tolerance:
                    name, amount = parse_pair(text, option="--tolerance")
                    tols[name] = amount
                changes["tolerances"] = tols
            if ignore_path:
                json_fields = (*base.json_fields, *(json_field or ()))
                splitter = DiffRules(json_fields=json_fields)
                paths = {k: list(v) for k, v in base.paths.items()}
                for full in ignore_path:
                    name, inner = splitter.split_path(full)
                    paths.setdefault(name, []).append(inner)
                changes["ignore_paths"] = {k: tuple(v) for k, v in paths.items()}
            if match_by is not None:
                changes["match_by"] = match_by
            if unordered:
                if match_by is not None:
                    raise UsageError("--match-by and --unordered exclude each other: pick one way to pair entries")
                changes["order"] = "multiset"
                changes["match_by"] = None
            for key, flag in (("compare_ids", compare_ids), ("compare_times", compare_times), ("ignore_field_order", ignore_field_order)):
                if flag:
                    changes[key] = True
            for key, value in (("time_tolerance_ms", time_tolerance), ("window", window), ("max_reported", max_reported)):
                if value is not None:
                    changes[key] = value
            rules = base.replace(**changes) if changes else base
            if actual is None:
                if url is None and not os.environ.get("REDIS_URL"):
                    raise UsageError(
                        "give ACTUAL (a recording), or --url (or $REDIS_URL) to compare with the live streams"
                    )
                target = _redis_url(url, tls_ca_cert, tls_cert, tls_key, tls_insecure)
                idle_s = parse_duration(idle, option="--idle", positive=True) / NS_PER_S
                result = diff_live(expected, target, rules, idle_s=idle_s, save=save_actual)
            else:
                if url is not None:
                    raise UsageError("--url compares with live streams: give EXPECTED only, or drop --url")
                result = diff_recordings(expected, actual, rules)
            if html is not None:
                try:
                    result.write_html(html)
                except OSError as exc:
                    raise UsageError(f"cannot write {html}: {exc.strerror or exc}") from None
    except typer.Exit as exc:
        # diff(1): trouble is 2, whatever its kind (1 means "differs").
        raise typer.Exit(2 if exc.exit_code not in (0, 130) else exc.exit_code) from None
    if not quiet:
        if as_json:
            sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
        else:
            color = sys.stdout.isatty() and not no_color and not os.environ.get("NO_COLOR")
            sys.stdout.write(result.render_text(color=color))
        sys.stdout.flush()
    raise typer.Exit(0 if result.same else 1)


# --------------------------------------------------------------------------- demo


@app.command()
def demo(
    speed: Annotated[float, typer.Option("--speed", help="Speed of the final replay.")] = 4.0,
    scenarios: Annotated[Path | None, typer.Option("--scenarios", help="Folder with trade-and-liquidate.yaml and high-frequency-trading.yaml to play (default: the examples shipped with xtape).")] = None,
) -> None:
    """Show the whole loop on a throwaway redis-server: record -> convert -> replay.

    Plays the example scenarios as production traffic while recording them, converts
    the recording into a scenario YAML, replays it faster into a second namespace and
    checks that everything arrived byte-identical. Ends with a regression check (xtape
    test) of the matcher example, and of a copy with a seeded bug that it must catch.
    Needs redis-server on PATH.
    """
    from xtape.demo import run_demo

    with handled():
        if speed <= 0:
            raise UsageError("--speed must be above zero")
        if scenarios is not None and not scenarios.is_dir():
            raise UsageError(f"--scenarios {scenarios}: no such folder")
        result = run_demo(lambda text: stdout.print(text, markup=False), scenarios_dir=scenarios, speed=speed)
    if not result.replay_ok:
        fail("the demo's replay did not match its source", 1)
    if not result.ok:
        fail("the demo's regression check did not pass the service or did not catch the seeded bug", 1)
    stdout.print("demo done: the redis-server is stopped and its files removed.", markup=False)


def main() -> None:
    """Console-script entry point: usage errors as one line, exit codes as documented."""
    try:
        code = app(standalone_mode=False)
    except XtapeError as exc:  # pragma: no cover - commands handle their own
        stderr.print(f"xtape: error: {exc}", markup=False)
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
            stderr.print(f"xtape: error: {message} (see '{where} --help')", markup=False)
        code = exc.exit_code
    sys.exit(code if isinstance(code, int) else 0)
