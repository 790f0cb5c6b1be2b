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

from xtape.cli._text import _human_bytes, _shown, silence_stdout
from xtape.errors import XtapeError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from xtape.plot.rates import Sparklines

_FLAGS = {"--json": ("as_json", True), "--sparkline": ("sparkline", True), "--no-sparkline": ("sparkline", False)}


def quick_main(argv: list[str]) -> int | None:
    """Run ``info`` when ``argv`` (after the program's name) is a plain call of it and
    return the exit code; None for anything else, left to typer."""
    if not argv or argv[0] != "info":
        return None
    file: str | None = None
    options = {"as_json": False, "sparkline": True}
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
        sys.stderr.write(f"xtape: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("xtape: interrupted\n")
        return 130
    except BrokenPipeError:
        silence_stdout()  # `xtape info ... | head`: exit 0 as every command (docs/cli.md)
        return 0
    return 0


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")


def show_info(file: Path, *, as_json: bool = False, sparkline: bool = True) -> None:
    """Print the summary of ``file`` (``-``: standard input). The sparklines come from
    the chunk index of a stored summary where it can tell (no entry read), else from a
    second pass over the entries (a file, not standard input); ``--json`` never makes
    that pass. Raises :class:`XtapeError` for a recording that cannot be read."""
    from xtape.plot.rates import can_draw_blocks, sparklines
    from xtape.recording import summarize

    summary = summarize(file)
    data = summary.to_dict()
    # (not a pipe: only a file or a directory can be read a second time)
    rereadable = file if file.is_file() or file.is_dir() else None
    if as_json:
        sparks = sparklines(None, summary) if sparkline else None
        data["sparkline"] = None if sparks is None else _sparkline_json(sparks, summary.streams)
        _print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    sparks = None
    if sparkline:
        sparks = sparklines(rereadable, summary, unicode=can_draw_blocks(sys.stdout.encoding))
    src = data["source"]
    lines = [
        f"file:      {_shown(data['path'])} ({_human_bytes(data['file_size'])}, format v{data['version']}, {_shown(data['tool'])})",
        (
            f"source:    merged from {len(src['merged'])} recordings"
            if isinstance(src.get("merged"), list)
            else f"source:    {_shown(src.get('url', '?'))} ({_shown(data['server'])})"
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
            f"{len(sparks.total)} buckets of {sparks.bucket_ns / 1e9:.3g} s "
            f"(from the {sparks.source})"
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
    if data["complete"] and not data["gaps_detectable"]:
        # Closed cleanly, but a server before Redis 7.0 leaves no trace of trims.
        lines.append(f"gaps:      cannot be detected ({_shown(data['server'])})")
    elif data["complete"]:
        lines.append("complete:  yes")
    elif data["writing"]:
        lines.append("complete:  no (still being written: a recorder holds the file)")
    else:
        lines.append("complete:  no (the recorder did not stop cleanly)")
    sys.stdout.write("".join(line + "\n" for line in lines))


def _sparkline_json(sparks: Sparklines, streams: Iterable[bytes]) -> dict[str, Any]:
    """``info --json``'s ``sparkline``: the counts the sparklines draw."""
    series = sparks.series
    return {
        "from": sparks.source,
        "clock": series.clock,
        "start_ns": series.start_ns,
        "bucket_s": series.bucket_ns / 1e9,
        "peak_rate": round(sparks.peak_rate, 1),
        "total": series.total(),
        "streams": [series.counts.get(name, [0] * series.buckets) for name in streams],
    }
