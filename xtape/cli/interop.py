"""``xtape export`` and ``import``: recordings to Parquet or MCAP, and JSON lines or MCAP back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from xtape.cli._codecs import CodecOpt, codec_pairs, say_codec
from xtape.cli.common import (
    CatalogOpt,
    NoCatalogOpt,
    SeriesOpt,
    StreamOpt,
    catalog_for,
    handled,
    series_read,
    stderr,
    warn,
)
from xtape.cli.decl import Arg, Opt, command
from xtape.errors import UsageError
from xtape.units import plural


@command(short_help="Write a recording as Parquet or MCAP.", name="export")
def export(
    file: Annotated[Path, Arg(metavar="RECORDING", help="A recording (.xtape), a split recording's folder, or - (standard input; Parquet without --flatten only).")],
    output: Annotated[Path, Opt("--output", "-o", help="The file to write: OUT.parquet (one row per entry, and OUT.markers.parquet with the gaps and markers) or OUT.mcap (a channel per stream, for Foxglove).")],
    stream: StreamOpt = None,
    flatten: Annotated[bool, Opt("--flatten", help="Parquet: also one column per top-level key of the decoded payloads (or of the fields), typed from each stream's values (reads the recording twice).")] = False,
    codec: CodecOpt = None,
    catalog: CatalogOpt = None,
    no_catalog: NoCatalogOpt = False,
    force: Annotated[bool, Opt("--force", help="Overwrite existing output files.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No summary (warnings and errors still print).")] = False,
    series: SeriesOpt = None,
) -> None:
    """Write a recording as Parquet (for DuckDB, pandas, Polars) or MCAP (for Foxglove), in flat memory.

    Needs the analysis extra: pip install 'xtape[analysis]'. Parquet: one row per entry
    with stream, id, ms, seq, capture_time, fields (a list of {name, value} bytes, order
    and repeated names kept) and payload (JSON text, where a codec decodes it); row groups
    follow the recording's chunks. MCAP: JSON messages {id, fields, payload} and a JSON
    Schema per stream, from the catalog or inferred. See docs/analysis.md.
    """
    from xtape.interop import export_format, markers_path, require
    from xtape.outputs import check_distinct, check_output
    from xtape.units import match_any

    with handled(), series_read(series):
        kind = export_format(str(output))
        check_output(output, force=force, inputs=[file], stdout_ok=False)
        if kind == "parquet":
            check_output(markers_path(output), force=force, inputs=[file], stdout_ok=False)
            check_distinct([("-o", output), ("(markers)", markers_path(output))])
            require("pyarrow", "export to Parquet")
        else:
            if flatten:
                raise UsageError("--flatten goes with OUT.parquet (MCAP messages carry the typed payload)")
            require("mcap", "export to MCAP")
        from xtape.codecs import CodecResolver
        from xtape.recording import Recording
        from xtape.recording.info import truncation_warning

        patterns = list(stream or ())
        keep = (lambda name: match_any(name, patterns)) if patterns else None
        schemas = catalog_for(catalog, None if str(file) == "-" else file, no_catalog)
        resolver = CodecResolver(
            codec_pairs(codec), catalog=None if schemas is None else schemas.codec, report=say_codec
        )
        rec = Recording(file, interleave=False)
        for path, why in rec.skipped:
            warn(f"{path}: {why} (a rotation that failed?): skipped")
        if kind == "parquet":
            from xtape.interop.parquet import export_parquet

            stats = export_parquet(rec, output, keep=keep, codecs=resolver, flatten=flatten)
        else:
            from xtape.interop.mcap_out import export_mcap

            stats = export_mcap(rec, output, keep=keep, codecs=resolver, catalog=schemas)
        truncated = truncation_warning(rec.name, rec.truncated_bytes)
        if truncated is not None:
            warn(truncated)
    if quiet:
        return
    what = f"{plural(stats.row_groups, 'row group')}, " if kind == "parquet" else ""
    decoded = f", {stats.decoded:,} payloads decoded" if stats.decoded else ""
    stderr.print(
        f"wrote {output}: {stats.entries:,} entr{'y' if stats.entries == 1 else 'ies'} from "
        f"{plural(len(stats.streams), 'stream')}, {what}{plural(stats.events, 'gap or marker', 'gaps and markers')}{decoded}"
        + (f"; gaps and markers in {markers_path(output)}" if kind == "parquet" else ""),
        markup=False,
    )


@command(short_help="Make a recording from JSON lines or MCAP.", name="import")
def import_(
    file: Annotated[Path, Arg(metavar="FILE", help="JSON lines as xtape cat writes them (- reads standard input), or an MCAP file xtape export wrote.")],
    output: Annotated[Path, Opt("--output", "-o", help="The recording to write (.xtape).")],
    force: Annotated[bool, Opt("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No summary (warnings and errors still print).")] = False,
) -> None:
    """Make a recording from the JSON lines xtape cat writes, or from MCAP xtape export wrote.

    xtape cat REC | jq ... | xtape import - -o EDITED.xtape edits a recording with jq:
    every entry jq leaves alone is written back byte for byte (names and values as
    text, or {"base64": ...} for bytes); lines of cat --decode are encoded again by
    their codec. JSON lines carry no capture time: each entry's id time stands in.
    MCAP brings back the capture times, gaps and markers too.
    """
    from xtape.outputs import check_output

    with handled():
        check_output(output, force=force, inputs=[file], stdout_ok=False)
        from xtape.interop.importing import import_file, is_mcap

        if is_mcap(file):
            from xtape.interop import require

            require("mcap", "import from MCAP")
        stats = import_file(file, output)
    if not quiet:
        stderr.print(
            f"wrote {output}: {stats.entries:,} entr{'y' if stats.entries == 1 else 'ies'} from "
            f"{plural(len(stats.streams), 'stream')}"
            + (f", {plural(stats.events, 'gap or marker', 'gaps and markers')}" if stats.format == "mcap" else "")
            + f" ({'MCAP' if stats.format == 'mcap' else 'JSON lines'})",
            markup=False,
        )
