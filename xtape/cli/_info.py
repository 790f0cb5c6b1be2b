"""``xtape info``: the summary of a recording, as text or JSON.

Neither typer nor rich is imported here: the typer command calls :func:`show_info`, and
:func:`quick_main` runs a plain ``xtape info FILE [--json] [--[no-]sparkline]`` before
the command line's machinery is even imported (typer builds its parameter checks with
pydantic), so that ``info`` of a big recording takes little more than the start of
Python and the recording library (``bench/record_memory.py``). Anything else
(``--help``, an unknown option, a second argument) goes to typer, which parses it as
always.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xtape.cli import logs
from xtape.cli._text import human_bytes, show_text, silence_stdout
from xtape.errors import XtapeError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from xtape.plot.rates import Sparklines

_FLAGS = {
    "--json": ("as_json", True),
    "--sparkline": ("sparkline", True),
    "--no-sparkline": ("sparkline", False),
    "--scan": ("scan", True),
}


def quick_main(argv: list[str]) -> int | None:
    """Run ``info`` when ``argv`` (after the program's name) is a plain call of it and
    return the exit code; None for anything else, left to typer."""
    if not argv or argv[0] != "info":
        return None
    file: str | None = None
    options = {"as_json": False, "sparkline": True, "scan": False}
    for arg in argv[1:]:
        if arg in _FLAGS:
            key, value = _FLAGS[arg]
            options[key] = value
        elif (arg.startswith("-") and arg != "-") or not arg or file is not None:
            return None
        else:
            file = arg
    if file is None:
        return None
    # Nothing on this path logs, so the logging set-up of the typer app is not needed.
    try:
        show_info(Path(file), **options)
        sys.stdout.flush()
    except XtapeError as exc:
        logs.error(str(exc), exc.exit_code)
        return exc.exit_code
    except KeyboardInterrupt:
        logs.say("xtape: interrupted")
        return 130
    except BrokenPipeError:
        silence_stdout()  # `xtape info ... | head`: exit 0 as every command (docs/cli.md)
        return 0
    return 0


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")


def show_info(
    file: Path, *, as_json: bool = False, sparkline: bool = True, scan: bool = False
) -> None:
    """Print the summary of ``file`` (``-``: standard input). The sparklines come from
    the chunk index of a stored summary (no entry read; coarser where its chunks are
    long against the span), else from a second pass over the entries (a file, not
    standard input); ``--json`` never makes that pass. ``scan`` makes it whatever the
    summary holds (a file or a directory): every chunk is read and verified, and the
    summary held against them. Raises :class:`XtapeError` for a recording that cannot
    be read."""
    from xtape.plot.rates import can_draw_blocks, count_rates, sparklines
    from xtape.recording import summarize
    from xtape.recording.series import NotOneRecording

    try:
        summary = summarize(file)
    except NotOneRecording as folder:
        _show_folder(folder, as_json)
        return
    # (not a pipe: only a file or a directory can be read a second time)
    rereadable = file if file.is_file() or file.is_dir() else None
    scanning = scan and rereadable is not None
    if scanning and rereadable is not None and summary.checked.startswith("summary"):
        if not (sparkline and summary.entries):  # the pass alone (the sparklines make it)
            count_rates(rereadable, summary, buckets=1)
        summary.checked = "chunks"
    sparks = None
    if sparkline:
        sparks = sparklines(
            rereadable if scanning or not as_json else None,
            summary,
            unicode=as_json or can_draw_blocks(sys.stdout.encoding),
            scan=scanning,
        )
    data = summary.to_dict()
    if as_json:
        data["sparkline"] = None if sparks is None else _sparkline_json(sparks, summary.streams)
        _print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    lines = [
        *_summary_lines(data, summary.streams, sparks),
        *_trouble_lines(data),
        *_status_lines(data),
    ]
    sys.stdout.write("".join(line + "\n" for line in lines))


def _summary_lines(
    data: dict[str, Any], streams: Iterable[bytes], sparks: Sparklines | None
) -> list[str]:
    """The lines of ``info`` on the file, its source, span and streams (``sparks``: the
    sparklines or None)."""
    src = data["source"]
    lines = [
        f"file:      {show_text(data['path'])} ({human_bytes(data['file_size'])}, format v{data['version']}, {show_text(data['tool'])})",
        (
            f"source:    merged from {len(src['merged'])} recordings"
            if isinstance(src.get("merged"), list)
            else f"source:    {show_text(src.get('url', '?'))} ({show_text(data['server'])})"
            + (
                f", a cluster of {show_text(src['cluster'].get('shards', '?'))} shards"
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
            f"{len(sparks.total)} buckets of {sparks.bucket_ns / 1e9:.3g} s "
            f"(from the {sparks.source}"
            + ("; coarse: its chunks are long against the span, --scan counts the entries)" if sparks.coarse else ")")
        )
    lines.append(f"streams:   {len(data['streams'])}")
    for s, name in zip(data["streams"], streams, strict=True):
        rate = f"{s['rate']:.1f}/s" if s["rate"] else "-"
        noun = "entry  " if s["entries"] == 1 else "entries"
        bars = sparks.streams.get(name) if sparks is not None else None
        spark = f"  |{bars}|" if bars is not None else ""
        lines.append(f"  {show_text(s['name']):<32} {s['entries']:>10} {noun}  {rate:>10}{spark}  {s['first_id']} .. {s['last_id']}")
    return lines


def _trouble_lines(data: dict[str, Any]) -> list[str]:
    """The lines of ``info`` on gaps, markers, a truncated end, a rebuilt summary and
    skipped files."""
    lines: list[str] = []
    if data["gaps"]:
        between = ", or added between recorder runs" if data["runs"] > 1 else ""
        lines.append(f"gaps:      {len(data['gaps'])} (entries trimmed before they were recorded{between})")
        for g in data["gaps"]:
            lost = "unknown" if g["lost"] is None else g["lost"]
            lines.append(f"  {show_text(g['stream'])}: after {g['after_id']} before {g['before_id']}: {lost} lost")
    for m in data["markers"]:
        lines.append(f"marker:    {m['time']} {show_text(m['kind'])}: {show_text(m['text'])}")
    if data["truncated_bytes"]:
        lines.append(
            f"truncated: the last {data['truncated_bytes']} bytes are an incomplete record (skipped)"
        )
    if data["summary"] == "rebuilt":
        lines.append("summary:   rebuilt by scanning (no intact summary at the end of the file)")
    for skipped in data["skipped"]:
        lines.append(f"skipped:   {show_text(skipped['path'])}: {skipped['why']} (a rotation that failed?)")
    return lines


def _status_lines(data: dict[str, Any]) -> list[str]:
    """The lines of ``info`` on how it was checked, files, runs and completeness."""
    lines: list[str] = []
    lines.append(f"checked:   {_CHECKED[data['checked']]}")
    if data["files"] > 1:
        lines.append(f"files:     {data['files']} (a split recording, read as one)")
    if data["runs"] > 1:
        lines.append(
            f"runs:      {data['runs']} recorder runs, one after the other (entries added between "
            "them were not recorded: a run marker and a gap per stream at each boundary)"
        )
    if data["complete"] and data["runs"] > 1:
        lines.append("complete:  every run stopped cleanly; the runs leave gaps between them")
    elif data["complete"] and not data["gaps_detectable"]:
        # Closed cleanly, but a server before Redis 7.0 leaves no trace of trims.
        lines.append(f"gaps:      cannot be detected ({show_text(data['server'])})")
    elif data["complete"]:
        lines.append("complete:  yes")
    elif data["writing"]:
        lines.append("complete:  no (still being written: a recorder holds the file)")
    else:
        lines.append("complete:  no (the recorder did not stop cleanly)")
    return lines


def _show_folder(folder: Any, as_json: bool) -> None:
    """``info`` of a directory or glob that is not one recording: each recording and
    series in it, one line each (``folder``: a
    :class:`~xtape.recording.series.NotOneRecording`)."""
    from xtape.recording import Recording, summarize
    from xtape.recording.series import short

    layout = folder.layout
    rows: list[dict[str, Any]] = []
    for run in sorted(layout.runs.values(), key=lambda r: r.created_ns):
        row: dict[str, Any] = {"series": run.id, "files": len(run.files)}
        try:
            row.update(_brief(summarize(Recording(layout.name, series=run.id))))
        except XtapeError as exc:
            row["error"] = str(exc)
        rows.append(row)
    for path, why in [*layout.foreign, *layout.skipped]:
        row = {"path": str(path), "files": 1}
        if why == "a recording of its own":
            try:
                row.update(_brief(summarize(path)))
            except XtapeError as exc:
                row["error"] = str(exc)
        else:
            row["error"] = why
        rows.append(row)
    if as_json:
        _print(json.dumps({"path": layout.name, "one_recording": False, "problem": layout.problem(), "recordings": rows}, indent=2, ensure_ascii=False))
        return
    lines = [f"folder:    {show_text(layout.name)}: not one recording; each of what it holds:"]
    for row in rows:
        if "series" in row:
            name = f"series {short(row['series'])} ({row['files']} file{'s' * (row['files'] != 1)})"
        else:
            name = Path(row["path"]).name
        if "error" in row:
            lines.append(f"  {show_text(name):<32} {show_text(row['error'])}")
            continue
        span = f"{row['start']} .. {row['end']} ({row['duration_s']:.3f} s)" if row["start"] else "no entries"
        lines.append(
            f"  {show_text(name):<32} {row['entries']:>10} entr{'y  ' if row['entries'] == 1 else 'ies'}"
            f"  {row['streams']:>3} stream{' ' if row['streams'] == 1 else 's'}  {span}"
            + ("" if row["complete"] else "  (incomplete)")
        )
    hint = "read one with: xtape info FILE, or xtape info FOLDER --series ID" if layout.runs else "read one with: xtape info FILE"
    lines.append(hint)
    sys.stdout.write("".join(line + "\n" for line in lines))


def _brief(info: Any) -> dict[str, Any]:
    data = info.to_dict()
    return {
        "entries": data["entries"],
        "streams": len(data["streams"]),
        "start": data["start"],
        "end": data["end"],
        "duration_s": data["duration_s"],
        "complete": data["complete"],
    }
#: ``info``'s line on what it read to say what it says (``RecordingInfo.checked``).
_CHECKED = {
    "summary": "summary read, held against the chunks' index; chunks not verified (xtape check or info --scan reads them)",
    "summary and events": "summary read, held against the chunks' index and the chunks holding its gaps and markers; other chunks not verified (xtape check or info --scan reads them)",
    "chunks": "every chunk read and its checksum verified; a stored summary matches them",
    "records": "every record read (format v1 has no checksums)",
}


def _sparkline_json(sparks: Sparklines, streams: Iterable[bytes]) -> dict[str, Any]:
    """``info --json``'s ``sparkline``: the counts the sparklines draw."""
    from xtape.plot.rates import OTHER

    series = sparks.series
    return {
        "from": sparks.source,
        "coarse": sparks.coarse,
        "clock": series.time_base,
        "start_ns": series.start_ns,
        "bucket_s": series.bucket_ns / 1e9,
        "peak_rate": round(sparks.peak_rate, 1),
        "total": series.total(),
        # (None: not known per stream, from the index of a file without per-stream counts)
        "streams": [series.counts.get(name, None if OTHER in series.counts else [0] * series.buckets) for name in streams],
    }
