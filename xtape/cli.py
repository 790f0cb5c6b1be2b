"""The ``xtape`` command line: parse, call the library, render output and errors.

Nothing here holds logic of its own. Every expected failure is an ``XtapeError``,
printed as one line on stderr with exit code 1 (runtime) or 2 (input/usage).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from xtape import __version__
from xtape.errors import UsageError, XtapeError

app = typer.Typer(
    name="xtape",
    help=(
        "Record Redis Streams traffic, turn recordings into editable scenarios, and replay "
        "either into Redis with original, scaled or fixed-rate timing.\n\n"
        "Redis URL: --url, else $REDIS_URL, else redis://localhost:6379/0. "
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


@app.command()
def info(
    file: Annotated[Path, typer.Argument(help="A recording (.xtape).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Summarize a recording: time span, entries and rate per stream, gaps, a truncated tail."""
    from xtape.recording import summarize

    with handled():
        summary = summarize(file)
    data = summary.to_dict()
    if as_json:
        stdout.print(json.dumps(data, indent=2, ensure_ascii=False), markup=False)
        return
    lines = [
        f"file:      {data['path']} ({_human_bytes(data['file_size'])}, format v{data['version']}, {data['tool']})",
        f"source:    {data['source'].get('url', '?')} (redis {data['source'].get('server_version', '?')})",
        f"recorded:  {data['created']}",
        f"span:      {data['start']} .. {data['end']} ({data['duration_s']:.3f} s)",
        f"entries:   {data['entries']}"
        + (f" ({data['rate']:.1f}/s)" if data["rate"] else ""),
        f"streams:   {len(data['streams'])}",
    ]
    for s in data["streams"]:
        name = s["name"] if isinstance(s["name"], str) else json.dumps(s["name"])
        rate = f"{s['rate']:.1f}/s" if s["rate"] else "-"
        lines.append(f"  {name:<32} {s['entries']:>10} entries  {rate:>10}  {s['first_id']} .. {s['last_id']}")
    if data["gaps"]:
        lines.append(f"gaps:      {len(data['gaps'])} (entries trimmed before they were recorded)")
        for g in data["gaps"]:
            lost = "unknown" if g["lost"] is None else g["lost"]
            lines.append(f"  {g['stream']}: after {g['after_id']} before {g['before_id']}: {lost} lost")
    for m in data["markers"]:
        lines.append(f"marker:    {m['time']} {m['kind']}: {m['text']}")
    if data["truncated_bytes"]:
        lines.append(
            f"truncated: the last {data['truncated_bytes']} bytes are an incomplete record (skipped)"
        )
    lines.append("complete:  " + ("yes" if data["complete"] else "no (the recorder did not stop cleanly)"))
    for line in lines:
        stdout.print(line, markup=False)


@app.command()
def cat(
    file: Annotated[Path, typer.Argument(help="A recording (.xtape).")],
    stream: Annotated[
        list[str] | None,
        typer.Option("--stream", "-s", help="Only streams matching this glob (repeatable)."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=0, help="At most N entries.")] = None,
) -> None:
    """Print entries as JSON lines: {"stream", "id", "fields": [[name, value], ...], "time"}.

    Names and values are text where they are UTF-8, else {"base64": ...}.
    """
    from xtape.recording import Recording, entry_to_json
    from xtape.units import match_any

    out = sys.stdout
    count = 0
    with handled():
        rec = Recording(file)
        if limit == 0:
            return
        try:
            for entry in rec.entries():
                if stream and not match_any(entry.stream, stream):
                    continue
                out.write(json.dumps(entry_to_json(entry), ensure_ascii=False))
                out.write("\n")
                count += 1
                if limit is not None and count >= limit:
                    break
            out.flush()
        except BrokenPipeError:
            sys.stderr.close()  # `xtape cat ... | head`: stop quietly
            raise typer.Exit(0) from None
        if rec.truncated_bytes:
            stderr.print(
                f"xtape: warning: {file}: the last {rec.truncated_bytes} bytes are an "
                "incomplete record (skipped)",
                markup=False,
            )


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except XtapeError as exc:  # pragma: no cover - commands handle their own
        stderr.print(f"xtape: error: {exc}", markup=False)
        sys.exit(exc.exit_code)


def _unused(*_: Any) -> UsageError:  # pragma: no cover
    raise NotImplementedError
