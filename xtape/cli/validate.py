"""``xtape validate`` and ``infer``: scenarios, recordings and catalogs checked.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from xtape.cli._codecs import CodecOpt, codec_pairs, say_codec
from xtape.cli.common import (
    CATALOG_NAME,
    CatalogOpt,
    NoCatalogOpt,
    ProgressLine,
    SeriesOpt,
    VariableOpt,
    catalog_for,
    handled,
    parse_variables,
    series_read,
    stderr,
    stdout,
    warn,
    write_file,
)
from xtape.cli.decl import Arg, Opt, command
from xtape.errors import UsageError, XtapeError
from xtape.units import plural

#: Files at least this big show a progress line while they are validated (on a terminal).
_BIG_SCENARIO_BYTES = 5_000_000


def _print_errors(error: XtapeError) -> None:
    for each in getattr(error, "errors", None) or [error]:
        stderr.print(f"xtape: error: {each}", markup=False)


@command(short_help="Check scenarios (and recordings against a catalog).")
def validate(
    files: Annotated[list[Path], Arg(help="Scenario files (.yaml, .yml, .json), or recordings (.xtape) to check against a catalog.")],
    variable: VariableOpt = None,
    catalog: CatalogOpt = None,
    no_catalog: NoCatalogOpt = False,
    examples: Annotated[int, Opt("--examples", metavar="N", min=0, help="Recordings: show the first N invalid entries per stream.")] = 3,
    codec: CodecOpt = None,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No 'ok' lines and no progress line: only the problems (errors and warnings always print).")] = False,
    series: SeriesOpt = None,
) -> None:
    """Check scenarios: syntax, keys, types, variables, generators and, with a stream
    catalog, stream names and every payload. Exit 2 if any is invalid.

    Every problem of a file is reported, one line each (file:line: where: what). Nothing
    the scenario names is imported or run: python generators are only located.
    A recording is checked entry by entry against the catalog, with a summary per
    stream; exit 1 if any entry is invalid (production has drifted from the schemas).
    Payloads a codec reads (the catalog's codec:, --codec, or a detected envelope) are
    checked as their decoded body.
    """
    from xtape.scenario.check import unknown_variables, validate_scenario

    variables = _variables_or_fail(variable)
    bad = 0
    drifted = 0
    known: set[str] = set()  # what the files use or define, for --variable
    for file in files:
        if file.name == CATALOG_NAME:  # `xtape validate scenarios/*.yaml` checks the catalog too
            bad += not _validate_catalog(file, _named(file, catalog), quiet)
            continue
        try:
            schemas = catalog_for(catalog, file, no_catalog)
        except XtapeError as refused:
            _print_errors(refused)
            if isinstance(refused, UsageError):
                raise SystemExit(2) from None
            bad += 1
            continue
        if _is_recording_file(file):
            with handled(), series_read(series):
                if variable:
                    raise UsageError("--variable applies to scenarios, not to recordings")
                drifted += not _validate_recording(file, schemas, examples, quiet, codec)
            continue
        progress = ProgressLine(not quiet and _file_size(file) >= _BIG_SCENARIO_BYTES)

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
        if quiet:
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
        raise SystemExit(2)
    if drifted:
        raise SystemExit(1)


def _named(file: Path, catalog: Path | None) -> bool:
    """Whether ``file`` is the catalog the user named (--catalog, $XTAPE_CATALOG): only
    that one may import its Python models, not one a glob picked up."""
    import os

    from xtape.catalog import CATALOG_ENV

    named = [p for p in (catalog, os.environ.get(CATALOG_ENV)) if p]
    return any(Path(p).resolve() == file.resolve() for p in named)


def _validate_catalog(file: Path, trusted: bool, quiet: bool) -> bool:
    from xtape.catalog import load_catalog

    try:
        loaded = load_catalog(file, trusted=trusted)
    except XtapeError as error:
        _print_errors(error)
        return False
    for note in loaded.unchecked:
        warn(note)
    if not quiet:
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


def _validate_recording(file: Path, schemas: Any, examples: int, quiet: bool, codec: list[str] | None = None) -> bool:
    """Check a recording against the catalog and print the summary; whether all was valid."""
    from xtape.catalog import validate_recording
    from xtape.codecs import CodecResolver
    from xtape.recording.info import truncation_warning

    if schemas is None:
        raise UsageError(
            f"{file}: checking a recording needs a stream catalog: pass --catalog FILE "
            "(or write one with xtape infer)"
        )
    line = ProgressLine(not quiet and _file_size(file) >= _BIG_SCENARIO_BYTES)
    try:
        codecs = CodecResolver(codec_pairs(codec), catalog=schemas.codec, detect_json=False, report=say_codec)
        result = validate_recording(
            file, schemas, examples=examples, progress=lambda n: line.show(f"validating {file}: {n:,} entries"),
            codecs=codecs,
        )
    finally:
        line.done()
    truncated = truncation_warning(str(file), result.truncated_bytes)
    if truncated is not None:
        warn(truncated)
    if quiet and result.ok:
        return True
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
    return result.ok


@command(short_help="Write a stream catalog from a recording.")
def infer(
    file: Annotated[Path, Arg(help="A recording (.xtape).")],
    output: Annotated[Path, Opt("--output", "-o", help="The catalog to write (streams.yaml; - for stdout).")],
    force: Annotated[bool, Opt("--force", help="Overwrite an existing output file.")] = False,
    codec: CodecOpt = None,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No progress line and no 'wrote' summary (warnings and errors still print).")] = False,
    series: SeriesOpt = None,
) -> None:
    """Write a stream catalog from a recording: per stream its fields, which are always
    present, their types, enums, length ranges and examples. A stream whose payloads a
    codec reads (a detected envelope, or --codec) is described by its decoded body, with
    its codec: written.

    Meant to be edited and committed: stable order, comments say what was inferred from
    how many entries. Binary fields are marked; redacted fields stay redacted.
    """
    from xtape.catalog import infer_catalog
    from xtape.codecs import CodecResolver
    from xtape.outputs import check_output

    with handled(), series_read(series):
        to_stdout = str(output) == "-"
        check_output(output, force=force, inputs=[file])
        line = ProgressLine(not quiet and _file_size(file) >= _BIG_SCENARIO_BYTES)
        try:
            codecs = CodecResolver(codec_pairs(codec), detect_json=False, report=say_codec)
            inferred = infer_catalog(file, progress=lambda n: line.show(f"infer: {n:,} entries read"), codecs=codecs)
        finally:
            line.done()
        text = inferred.catalog_yaml()
        if to_stdout:
            sys.stdout.write(text)
        else:
            write_file(output, text)
    if not to_stdout and not quiet:
        stderr.print(
            f"wrote {output}: {plural(len(inferred.streams), 'stream')} from "
            f"{plural(inferred.entries, 'entry', 'entries')}",
            markup=False,
        )


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
        return parse_variables(values)
    raise AssertionError("unreachable")  # pragma: no cover
