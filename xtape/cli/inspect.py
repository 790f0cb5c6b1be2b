"""``xtape info``, ``cat``, ``plot`` and ``merge``: looking at recordings.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from xtape.cli._base import (
    _clock,
    _shown,
    _warn,
    app,
    handled,
    stderr,
)
from xtape.errors import UsageError
from xtape.units import plural


@app.command()
def info(
    file: Annotated[Path, typer.Argument(help="A recording (- reads standard input).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    sparkline: Annotated[bool, typer.Option("--sparkline/--no-sparkline", help="Draw each stream's rate over the span: from the chunk index of a v2 file's summary, else a second pass over the entries (not for standard input; --json: the counts, from the index only).")] = True,
) -> None:
    """Summarize a recording: time span, entries and rate per stream, gaps, a truncated tail."""
    from xtape.cli._info import show_info  # (also run before typer: xtape.cli.main)

    with handled():
        show_info(file, as_json=as_json, sparkline=sparkline)


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
    from xtape.units import parse_duration

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


@app.command()
def merge(
    inputs: Annotated[list[Path], typer.Argument(metavar="RECORDING...", help="The recordings to merge (e.g. one per cluster shard).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The merged recording to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
) -> None:
    """Merge recordings into one, in entry-id time order, in flat memory.

    Each entry keeps its capture time, and each input its order (a stream created again
    keeps its lives in order, with the marker between them). Where a stream's entries in
    several inputs overlap, they must be byte-identical (written once); copies that
    differ are refused and no output is written. A stream that continues in a later
    input (no overlap) is joined, with a warning.
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
