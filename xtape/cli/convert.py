"""``xtape convert``: a recording turned into a scenario.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

from xtape.cli._codecs import CodecOpt, codec_pairs, say_codec
from xtape.cli._shape import SampleByOpt, SampleOpt, SampleSeedOpt, WhereOpt, entry_selection
from xtape.cli.common import (
    ProgressLine,
    SeriesOpt,
    StreamOpt,
    format_seconds,
    handled,
    parse_time_base,
    series_read,
    stderr,
    write_file,
)
from xtape.cli.decl import Arg, Opt, command
from xtape.errors import UsageError
from xtape.units import plural


@command(short_help="Turn a recording into a scenario YAML.")
def convert(
    file: Annotated[Path, Arg(help="A recording (.xtape).")],
    output: Annotated[Path, Opt("--output", "-o", help="The scenario file to write (.yaml; - for stdout).")],
    stream: StreamOpt = None,
    since: Annotated[str | None, Opt("--since", metavar="D", help="Start D after the recording's start (e.g. 2m), as replay --since.")] = None,
    until: Annotated[str | None, Opt("--until", metavar="D", help="End D after the recording's start (e.g. 3m), as replay --until.")] = None,
    limit: Annotated[int | None, Opt("--limit", "-n", min=1, help="At most N entries.")] = None,
    name: Annotated[str | None, Opt("--name", help="The scenario's name (default: the file's).")] = None,
    description: Annotated[str | None, Opt("--description", help="The scenario's description.")] = None,
    collapse_repeats: Annotated[bool, Opt("--collapse-repeats", help="Fold runs of equal payloads at a steady interval into repeat/interval.")] = False,
    jitter: Annotated[str | None, Opt("--jitter", metavar="D", help="With --collapse-repeats: also fold runs whose intervals vary by up to +/-D (e.g. 5ms; interval: their mean, in whole ms).")] = None,
    max_delay: Annotated[str | None, Opt("--max-delay", metavar="D", help="Cap idle gaps between events at D (e.g. 2s; a bare number is milliseconds).")] = None,
    time_base: Annotated[str, Opt("--clock", metavar="[id|capture]", help="Delays from: id (the entry ids' ms, default) or capture (the recorder's clock).")] = "id",
    force: Annotated[bool, Opt("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No progress line and no summary (warnings and errors still show).")] = False,
    codec: CodecOpt = None,
    where: WhereOpt = None,
    sample: SampleOpt = None,
    sample_by: SampleByOpt = None,
    seed: SampleSeedOpt = None,
    generators: Annotated[bool, Opt("--generators", help="Write a compact load scenario instead: generators that make each stream's observed shape (enums with their weights, number ranges) at its observed rate, no recorded value verbatim but an enum's.")] = False,
    series: SeriesOpt = None,
) -> None:
    """Turn a recording (or part of it) into a scenario YAML to edit, commit and replay.

    Replaying the scenario publishes the same fields, byte for byte, as replaying the
    recording: values stay text, bytes that are not UTF-8 become !!binary, repeated
    field names use the list form, and the original ids are kept for --keep-ids.
    Payloads a codec reads (FastStream, taskiq, JSON: detected, or --codec) are written
    decoded, with the codec under codecs: so that replay encodes them again.
    Streams: memory stays flat however large the recording.
    """
    from xtape.convert import ConvertOptions, ConvertProgress
    from xtape.convert import convert as run_convert
    from xtape.outputs import check_output
    from xtape.units import parse_seconds

    line = ProgressLine(not quiet)

    def show(p: ConvertProgress) -> None:
        eta = "" if p.eta_s is None else f", ETA {format_seconds(p.eta_s)}"
        line.show(
            f"convert: {p.read:,}/{p.total:,} entries ({p.fraction:.0%}), "
            f"{p.rate:,.0f}/s{eta}"
        )

    with handled(), series_read(series):
        timing = parse_time_base(time_base)
        to_stdout = str(output) == "-"
        check_output(output, force=force, inputs=[file])
        if generators:
            given = [
                option
                for option, value in (
                    ("--since", since), ("--until", until), ("--limit", limit),
                    ("--collapse-repeats", collapse_repeats or None), ("--jitter", jitter),
                    ("--max-delay", max_delay), ("--clock", None if timing == "id" else timing),
                    ("--where", where), ("--sample", sample), ("--sample-by", sample_by), ("--seed", seed),
                )
                if value is not None
            ]  # fmt: skip
            if given:
                raise UsageError(f"--generators cannot be combined with {', '.join(given)}")
            _convert_generators(file, output, stream or [], name, description, quiet=quiet)
            return
        options = ConvertOptions(
            streams=list(stream or []),
            since=None if since is None else parse_seconds(since, option="--since"),
            until=None if until is None else parse_seconds(until, option="--until"),
            limit=limit,
            max_delay=None if max_delay is None else parse_seconds(max_delay, option="--max-delay", bare="ms"),
            collapse_repeats=collapse_repeats,
            jitter=0.0 if jitter is None else parse_seconds(jitter, option="--jitter"),
            name=name,
            description=description,
            time_base=timing,
            codecs=codec_pairs(codec),
            keep=entry_selection(where, sample, sample_by, seed, codec),
        )
        try:
            report = run_convert(
                file,
                sys.stdout if to_stdout else output,
                options,
                progress=show if line.enabled else None,
                warn=line.warn,
            )
        finally:
            line.done()
    for chosen in report.codecs:
        say_codec(chosen)
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
        write_file(output, text)
    if not quiet:
        stderr.print(
            f"wrote {'stdout' if str(output) == '-' else output}: {plural(len(scenario['events']), 'event')} "
            f"with generators for {plural(len(scenario['generators']), 'stream')}, from "
            f"{plural(inferred.entries, 'entry', 'entries')}",
            markup=False,
        )
