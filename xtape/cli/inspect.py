"""``xtape info``, ``cat``, ``plot``, ``merge``, ``cut`` and ``check``: looking at recordings
(and making new ones of them).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

from xtape.cli._codecs import CodecOpt, codec_pairs, say_codec
from xtape.cli._shape import (
    SampleByOpt,
    SampleOpt,
    SampleSeedOpt,
    WhereOpt,
    entry_selection,
    where_test,
)
from xtape.cli.common import (
    SeriesOpt,
    StreamOpt,
    check_recording_output,
    handled,
    parse_time_base,
    series_read,
    show_text,
    stderr,
    stdout,
    warn,
)
from xtape.cli.decl import Arg, Opt, command
from xtape.errors import UsageError
from xtape.units import plural

#: ``cat`` and ``cut``: where in the timeline, as ``replay --since/--until``.
SinceOpt = Annotated[str | None, Opt("--since", metavar="D", help="Only entries from D after the recording's start (e.g. 2m), as replay --since.")]
UntilOpt = Annotated[str | None, Opt("--until", metavar="D", help="Only entries before D after the recording's start, as replay --until.")]


@command(short_help="Summarize a recording.")
def info(
    file: Annotated[Path, Arg(help="A recording (- reads standard input).")],
    as_json: Annotated[bool, Opt("--json", help="Print JSON instead of text.")] = False,
    sparkline: Annotated[bool, Opt("--sparkline/--no-sparkline", help="Draw each stream's rate over the span: from the chunk index of a v2 file's summary (coarser where its chunks are long against the span), else a second pass over the entries (not for standard input; --json: the counts, from the index only).")] = True,
    scan: Annotated[bool, Opt("--scan", help="Read every chunk: verify its checksum and the summary against the chunks, and count the sparklines from the entries (a file or a directory; slower).")] = False,
    series: SeriesOpt = None,
) -> None:
    """Summarize a recording: time span, entries and rate per stream, gaps, a truncated tail.

    A v2 recording's summary is read, held against its chunks' index, and says what
    was checked; xtape check (or --scan) reads every chunk. A folder that is not one
    recording (unrelated files, several series) is listed, one line per recording or
    series in it.
    """
    from xtape.cli._info import show_info  # (also run before typer: xtape.cli.main)

    with handled(), series_read(series):
        show_info(file, as_json=as_json, sparkline=sparkline, scan=scan)


@command(short_help="Print entries as JSON lines.")
def cat(
    file: Annotated[Path, Arg(help="A recording (- reads standard input).")],
    stream: StreamOpt = None,
    limit: Annotated[int | None, Opt("--limit", "-n", min=0, help="At most N entries.")] = None,
    objects: Annotated[
        bool,
        Opt(
            "--object",
            help='Fields as an object for jq: {"name": value}, a repeated name\'s values as an array (loses the order across names).',
        ),
    ] = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    decode: Annotated[bool, Opt("--decode", help='Decoded payloads: {"stream", "id", "codec", "value", "time"} for entries a codec reads (docs/codecs.md).')] = False,
    codec: CodecOpt = None,
    where: WhereOpt = None,
    series: SeriesOpt = None,
) -> None:
    """Print entries as JSON lines: {"stream", "id", "fields": [[name, value], ...], "time"}.

    Names and values are text where they are UTF-8, else {"base64": ...}. With --decode,
    entries a codec reads (detected, or --codec) show the decoded value instead.
    """
    from xtape.recording import Recording
    from xtape.recording.info import truncation_warning
    from xtape.recording.jsonl import write_jsonl
    from xtape.units import match_any, parse_duration

    with handled(), series_read(series):
        window = (
            None
            if since is None and until is None
            else (
                None if since is None else parse_duration(since, option="--since"),
                None if until is None else parse_duration(until, option="--until", positive=True),
            )
        )
        select = where_test(where, codec)
        rec = Recording(file)
        for path, why in rec.skipped:
            warn(f"{show_text(str(path))}: {why} (a rotation that failed?): skipped")
        if limit == 0:
            return
        patterns = list(stream or ())
        decoder = _decoder(codec) if decode or codec else None
        write_jsonl(  # (`xtape cat ... | head`: see Command.invoke)
            rec,
            sys.stdout.buffer,
            keep=(lambda name: match_any(name, patterns)) if patterns else None,
            limit=limit,
            objects=objects,
            window=window,
            decoder=decoder,
            select=select,
        )
        truncated = truncation_warning(show_text(rec.name), rec.truncated_bytes)
        if truncated is not None:
            warn(truncated)


def _decoder(codec: list[str] | None) -> Callable[[bytes, Sequence[bytes]], tuple[str, Any] | None]:
    """``cat --decode``: an entry -> (codec name, decoded value), through one resolver."""
    from xtape.codecs import CodecResolver, codec_spec
    from xtape.timeline import pair_fields

    resolver = CodecResolver(codec_pairs(codec), report=say_codec)

    def decoded(stream: bytes, flat: Sequence[bytes]) -> tuple[str, Any] | None:
        found = resolver.decode(stream, pair_fields(flat))
        return None if found is None else (codec_spec(found[0]), found[1].to_value())

    return decoded


@command(short_help="Draw entries per second per stream.")
def plot(
    file: Annotated[Path, Arg(metavar="RECORDING", help="A recording (.xtape), a split recording's folder, or a quoted glob of its files ('split/*.xtape').")],
    output: Annotated[Path, Opt("--output", "-o", help="The picture to write: FILE.html (self-contained, no network), FILE.svg or FILE.png.")],
    stream: StreamOpt = None,
    report: Annotated[Path | None, Opt("--report", metavar="REPORT.json", help="A replay's --json report: show its lateness (p50/p99/max) and figures.")] = None,
    bucket: Annotated[str | None, Opt("--bucket", metavar="D", help="Count entries per D (e.g. 1s, 5m); default: a round width giving about 120 buckets.")] = None,
    time_base: Annotated[str | None, Opt("--clock", metavar="[id|capture]", help="Time from: id (the entry ids' ms, default) or capture (the recorder's clock; the default when the ids were set by producers).")] = None,
    force: Annotated[bool, Opt("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No 'wrote' summary (warnings and errors still print).")] = False,
    series: SeriesOpt = None,
) -> None:
    """Draw entries per second per stream over time, with gaps and the recorder's markers
    (reconnect, restart, flush, recreated, deleted) marked.

    Needs the plot extra: pip install 'xtape[plot]'. Reads the recording's summary and
    then its entries once, in flat memory.
    """
    from xtape.outputs import check_output
    from xtape.plot import collect, load_report, output_format, write
    from xtape.plot.render import require_matplotlib
    from xtape.units import parse_seconds

    with handled(), series_read(series):
        check_output(output, force=force, inputs=[file, report], stdout_ok=False)
        output_format(output)
        require_matplotlib()
        note = None if report is None else load_report(report)
        data = collect(
            file,
            time_base=None if time_base is None else parse_time_base(time_base),
            streams=list(stream or []),
            bucket=None if bucket is None else parse_seconds(bucket, option="--bucket", positive=True),
            report=note,
            report_origin=str(report),
        )
        if data.clock_note:
            warn(f"{file}: {data.clock_note}")
        write(data, output)
    if quiet:
        return
    stderr.print(
        f"wrote {output}: {data.series.entries:,} entr{'y' if data.series.entries == 1 else 'ies'}, "
        f"{plural(len(data.rows), 'row')}, {plural(len(data.markers), 'marker')}, "
        f"{plural(len(data.gaps), 'gap')}",
        markup=False,
    )


@command(short_help="Merge recordings into one.")
def merge(
    inputs: Annotated[list[Path], Arg(metavar="RECORDING...", help="The recordings to merge (e.g. one per cluster shard).")],
    output: Annotated[Path, Opt("--output", "-o", help="The merged recording to write.")],
    force: Annotated[bool, Opt("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No summary (warnings and errors still print).")] = False,
    series: SeriesOpt = None,
) -> None:
    """Merge recordings into one, in entry-id time order, in flat memory.

    Each entry keeps its capture time, and each input its order (a stream created again
    keeps its lives in order, with the marker between them). Where a stream's entries in
    several inputs overlap, they must be byte-identical (written once); copies that
    differ are refused and no output is written. A stream that continues in a later
    input (no overlap) is joined, with a warning.
    """
    from xtape.merge import merge as run_merge
    from xtape.outputs import check_output

    with handled(), series_read(series):
        check_output(output, force=force, inputs=inputs)
        stats = run_merge(inputs, output)
    for warning in stats.warnings:
        warn(warning)
    if not quiet:
        stderr.print(
            f"merged {stats.inputs} recordings into {output}: {stats.entries} entries from "
            f"{stats.streams} streams"
            + (f" ({stats.duplicates} duplicates dropped)" if stats.duplicates else "")
            + (f", {stats.gaps} gaps" if stats.gaps else ""),
            markup=False,
        )


@command(short_help="Cut a recording into a smaller one.")
def cut(
    file: Annotated[Path, Arg(metavar="RECORDING", help="A recording (a file, a split recording's folder or a quoted glob of its files; - reads standard input).")],
    output: Annotated[str, Opt("--output", "-o", metavar="OUT", help="The recording to write (- for standard output); with --split-size/--split-duration a folder: an existing one, or DIR/ (created).")],
    stream: StreamOpt = None,
    exclude: Annotated[list[str] | None, Opt("--exclude", metavar="GLOB", help="Leave out streams matching this glob (repeatable).")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    time_base: Annotated[str, Opt("--clock", metavar="[id|capture]", help="--since/--until on: id (the entry ids' ms, default) or capture (the recorder's clock).")] = "id",
    where: WhereOpt = None,
    sample: SampleOpt = None,
    sample_by: SampleByOpt = None,
    seed: SampleSeedOpt = None,
    codec: CodecOpt = None,
    redact: Annotated[list[str] | None, Opt("--redact", metavar="FIELD_GLOB", help="Replace values of matching fields with a keyed digest, as record --redact does (repeatable); names match in any case.")] = None,
    redact_case_sensitive: Annotated[bool, Opt("--redact-case-sensitive", help="Match --redact globs case-sensitively.")] = False,
    redact_key_file: Annotated[Path | None, Opt("--redact-key-file", metavar="FILE", help="Take the --redact key from FILE (at least 16 bytes), as record does: equal values give equal digests across recordings.")] = None,
    compression: Annotated[str, Opt("--compression", metavar="KIND", help="Chunk compression: zstd (default), none, or lz4 (pip install 'xtape[lz4]').")] = "zstd",
    split_size: Annotated[str | None, Opt("--split-size", metavar="SIZE", help="Write numbered files into the folder -o, a new one at SIZE (256MiB, 1GiB, 500MB).")] = None,
    split_duration: Annotated[str | None, Opt("--split-duration", metavar="D", help="Write numbered files into the folder -o, a new one every D of the recording's capture time (e.g. 1h).")] = None,
    force: Annotated[bool, Opt("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No summary (warnings and errors still print).")] = False,
    series: SeriesOpt = None,
) -> None:
    """Write part of a recording into a new one, in flat memory: some streams, a time
    window, the entries --where holds for, a --sample, with --redact applied after the fact.

    Kept entries are written as they were read (ids, fields byte for byte, capture
    times); gaps and markers inside the window are kept. --split-size/--split-duration
    write numbered files into a folder, as record does.
    """
    from xtape.cut import CutOptions
    from xtape.cut import cut as run_cut
    from xtape.outputs import check_split_folder
    from xtape.recording.split import parse_split
    from xtape.units import parse_seconds

    with handled(), series_read(series):
        splits = parse_split(split_size, split_duration)  # (the values first, then the paths)
        split = split_size is not None or split_duration is not None
        if split:
            check_split_folder(output, inputs=[file])
        else:
            check_recording_output(output, force=force, inputs=[file])
        key = None
        if redact_key_file is not None:
            from xtape.capture.redact import read_key_file

            key = read_key_file(redact_key_file)
        options = CutOptions(
            streams=tuple(stream or ()),
            exclude=tuple(exclude or ()),
            since=None if since is None else parse_seconds(since, option="--since"),
            until=None if until is None else parse_seconds(until, option="--until", positive=True),
            time_base=parse_time_base(time_base),
            keep=entry_selection(where, sample, sample_by, seed, codec),
            redact=tuple(redact or ()),
            redact_case_sensitive=redact_case_sensitive,
            redact_key=key,
            compression=compression,
            split_size=splits[0],
            split_duration=splits[1],
        )
        stats = run_cut(file, output, options)
    for warning in stats.warnings:
        warn(warning)
    if not quiet:
        where_to = output if len(stats.files) <= 1 else f"{output} ({plural(len(stats.files), 'file')})"
        stderr.print(
            f"wrote {where_to}: {plural(stats.entries, 'entry', 'entries')} of {stats.read:,} read, "
            f"{plural(len(stats.streams), 'stream')}"
            + (f", {plural(stats.gaps, 'gap')}" if stats.gaps else "")
            + (f", {plural(stats.markers, 'marker')}" if stats.markers else ""),
            markup=False,
        )


#: ``xtape check``'s word on a v2 file's summary (``FileCheck.summary``).
_SUMMARY_VERDICTS = {
    "matches": "the summary matches them",
    "index": "the summary's index matches the chunks' heads",
    "none": "no summary",
    "damaged": "the summary is damaged",
    "wrong": "the summary does not match them",
}


@command(short_help="Verify every chunk and the summary of a recording.")
def check(
    file: Annotated[Path, Arg(help="A recording: a file, or a split recording's directory.")],
    repair: Annotated[bool, Opt("--repair", help="Write what is sound (every chunk that reads back whole) into a new recording (-o).")] = False,
    output: Annotated[Path | None, Opt("--output", "-o", help="With --repair: the new recording to write (never one of the inputs).")] = None,
    force: Annotated[bool, Opt("--force", help="With --repair: replace an existing output file.")] = False,
) -> None:
    """Read every chunk, verify every checksum and the summary against the chunks, and
    list each problem with its byte offset.

    Exit 0: sound; 1: problems (each on a line: FILE: byte N: what); 2: not a recording.
    """
    from xtape.outputs import check_output
    from xtape.recording.doctor import check as run_check
    from xtape.recording.doctor import problem_lines
    from xtape.recording.doctor import repair as run_repair

    with handled():
        if repair:
            if output is None:
                raise UsageError("--repair needs -o OUT, the new recording to write")
            check_output(output, force=force, inputs=[file], stdout_ok=False)
            report, stats = run_repair(file, output)
        elif output is not None or force:
            raise UsageError("-o and --force go with --repair")
        else:
            report = run_check(file)
    for line in problem_lines(report):
        stdout.print(show_text(line), markup=False, highlight=False, soft_wrap=True)
    for f in report.files:
        where = f"{f.sound_chunks} of {plural(f.chunks, 'chunk')} sound, " if f.version >= 2 else "format v1, "
        verdict = "sound" if f.sound else plural(len(f.problems), "problem")
        summary = _SUMMARY_VERDICTS[f.summary] if f.version >= 2 else ("closed cleanly" if f.summary == "matches" else "no END record")
        stdout.print(
            show_text(f"{f.path}: {verdict}: {where}{f.entries:,} entr{'y' if f.entries == 1 else 'ies'}; {summary}"),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if repair and output is not None:
        stderr.print(
            f"wrote {output}: {stats.entries:,} entr{'y' if stats.entries == 1 else 'ies'}, what is sound",
            markup=False,
        )
    if not report.sound:
        raise SystemExit(1)
