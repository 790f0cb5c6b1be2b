"""``xtape info``, ``cat``, ``plot`` and ``merge``: looking at recordings.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from xtape.cli._base import (
    _clock,
    _shown,
    _warn,
    app,
    handled,
    stderr,
)
from xtape.cli._codecs import CodecOpt, codec_pairs, say_codec
from xtape.units import plural


@app.command(short_help="Summarize a recording.")
def info(
    file: Annotated[Path, typer.Argument(help="A recording (- reads standard input).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    sparkline: Annotated[bool, typer.Option("--sparkline/--no-sparkline", help="Draw each stream's rate over the span: from the chunk index of a v2 file's summary, else a second pass over the entries (not for standard input; --json: the counts, from the index only).")] = True,
) -> None:
    """Summarize a recording: time span, entries and rate per stream, gaps, a truncated tail."""
    from xtape.cli._info import show_info  # (also run before typer: xtape.cli.main)

    with handled():
        show_info(file, as_json=as_json, sparkline=sparkline)


@app.command(short_help="Print entries as JSON lines.")
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
    decode: Annotated[bool, typer.Option("--decode", help='Decoded payloads: {"stream", "id", "codec", "value", "time"} for entries a codec reads (docs/codecs.md).')] = False,
    codec: CodecOpt = None,
) -> None:
    """Print entries as JSON lines: {"stream", "id", "fields": [[name, value], ...], "time"}.

    Names and values are text where they are UTF-8, else {"base64": ...}. With --decode,
    entries a codec reads (detected, or --codec) show the decoded value instead.
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
        decoder = _decoder(codec) if decode or codec else None
        write_jsonl(  # (`xtape cat ... | head`: see _Command.invoke)
            rec,
            sys.stdout.buffer,
            keep=(lambda name: match_any(name, patterns)) if patterns else None,
            limit=limit,
            objects=objects,
            window=window,
            decoder=decoder,
        )
        if rec.truncated_bytes:
            stderr.print(
                f"xtape: warning: {_shown(rec.name)}: the last {rec.truncated_bytes} bytes are an "
                "incomplete record (skipped)",
                markup=False,
            )


def _decoder(codec: list[str] | None) -> Callable[[bytes, Sequence[bytes]], tuple[str, Any] | None]:
    """``cat --decode``: an entry -> (codec name, decoded value), through one resolver."""
    from xtape.codecs import CodecResolver, codec_spec
    from xtape.timeline import pair_fields

    resolver = CodecResolver(codec_pairs(codec), report=say_codec)

    def decoded(stream: bytes, flat: Sequence[bytes]) -> tuple[str, Any] | None:
        found = resolver.decode(stream, pair_fields(flat))
        return None if found is None else (codec_spec(found[0]), found[1].to_value())

    return decoded


@app.command(short_help="Draw entries per second per stream.")
def plot(
    file: Annotated[Path, typer.Argument(metavar="RECORDING", help="A recording (.xtape), a split recording's folder, or a quoted glob of its files ('split/*.xtape').")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The picture to write: FILE.html (self-contained, no network), FILE.svg or FILE.png.")],
    stream: Annotated[list[str] | None, typer.Option("--stream", "-s", metavar="GLOB", help="Only streams matching this glob (repeatable).")] = None,
    report: Annotated[Path | None, typer.Option("--report", metavar="REPORT.json", help="A replay's --json report: show its lateness (p50/p99/max) and figures.")] = None,
    bucket: Annotated[str | None, typer.Option("--bucket", metavar="D", help="Count entries per D (e.g. 1s, 5m); default: a round width giving about 120 buckets.")] = None,
    clock: Annotated[str | None, typer.Option("--clock", metavar="[id|capture]", help="Time from: id (the entry ids' ms, default) or capture (the recorder's clock; the default when the ids were set by producers).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No 'wrote' summary (warnings and errors still print).")] = False,
) -> None:
    """Draw entries per second per stream over time, with gaps and the recorder's markers
    (reconnect, restart, flush, recreated, deleted) marked.

    Needs the plot extra: pip install 'xtape[plot]'. Reads the recording's summary and
    then its entries once, in flat memory.
    """
    from xtape.outputs import check_output
    from xtape.plot import collect, load_report, output_format, write
    from xtape.plot.render import require_matplotlib
    from xtape.units import parse_duration

    with handled():
        check_output(output, force=force, inputs=[file, report], stdout_ok=False)
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
    if quiet:
        return
    stderr.print(
        f"wrote {output}: {data.series.entries:,} entr{'y' if data.series.entries == 1 else 'ies'}, "
        f"{plural(len(data.rows), 'row')}, {plural(len(data.markers), 'marker')}, "
        f"{plural(len(data.gaps), 'gap')}",
        markup=False,
    )


@app.command(short_help="Merge recordings into one.")
def merge(
    inputs: Annotated[list[Path], typer.Argument(metavar="RECORDING...", help="The recordings to merge (e.g. one per cluster shard).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The merged recording to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary (warnings and errors still print).")] = False,
) -> None:
    """Merge recordings into one, in entry-id time order.

    A stream may be in several inputs only as byte-identical duplicates (written once);
    anything else is refused before the output is written.
    """
    from xtape.merge import merge as run_merge
    from xtape.outputs import check_output

    with handled():
        check_output(output, force=force, inputs=inputs)
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
