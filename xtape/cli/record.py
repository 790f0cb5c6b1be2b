"""``xtape record``: Redis streams recorded into a file.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Annotated

from xtape.cli._observe import (
    MetricsLingerOpt,
    MetricsOpt,
    SnapshotKeyOpt,
    SnapshotMaxBytesOpt,
    SnapshotOpt,
    UnhealthyAfterOpt,
    snapshot_options,
    watch_options,
)
from xtape.cli.common import (
    URL_HELP,
    ClusterOpt,
    ProgressLine,
    TlsCaOpt,
    TlsCertOpt,
    TlsInsecureOpt,
    TlsKeyOpt,
    check_recording_output,
    handled,
    human_bytes,
    stderr,
    tls_url,
    warn,
)
from xtape.cli.decl import Arg, Opt, command
from xtape.cli.logs import say
from xtape.errors import UsageError
from xtape.notice import Notice
from xtape.units import match_any, parse_seconds, plural


@command(short_help="Record Redis streams into a file.", cls="xtape.cli.config:ConfigCommand")
def record(
    streams: Annotated[list[str], Arg(metavar="STREAM_OR_GLOB...", help="Stream names or globs ('orders:*'); globs are re-scanned so new streams are caught.")],
    output: Annotated[str, Opt("--output", "-o", metavar="FILE", help="The recording file to write (.xtape; - for standard output, not a terminal); with --split-size/--split-duration a folder: an existing one, or DIR/ (created).")],
    url: Annotated[str | None, Opt("--url", metavar="URL", help="Source " + URL_HELP)] = None,
    tls_ca_cert: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    tls_insecure: TlsInsecureOpt = False,
    from_: Annotated[str, Opt("--from", metavar="WHEN", help="now (default: new entries only), start (all the server holds), an id (1700000000000-0), a time (2026-11-25T10:00:00Z) or -DURATION (-5m).")] = "now",
    duration: Annotated[str | None, Opt("--duration", metavar="D", help="Stop after D (e.g. 30s, 5m).")] = None,
    count: Annotated[int | None, Opt("--count", metavar="N", min=1, help="Stop after exactly N entries.")] = None,
    until_idle: Annotated[str | None, Opt("--until-idle", metavar="D", help="Stop when no entry arrived for D.")] = None,
    redact: Annotated[list[str] | None, Opt("--redact", metavar="FIELD_GLOB", help="Replace values of matching fields with a keyed digest (repeatable); equal values stay equal. Names match in any case.")] = None,
    redact_case_sensitive: Annotated[bool, Opt("--redact-case-sensitive", help="Match --redact globs case-sensitively.")] = False,
    redact_key_file: Annotated[Path | None, Opt("--redact-key-file", metavar="FILE", help="Take the --redact key from FILE (at least 16 bytes) instead of a random one: recordings and diff --live made with the same key give equal digests for equal values.")] = None,
    fsync: Annotated[bool, Opt("--fsync", help="fsync the file on every flush (safer, slower).")] = False,
    scan_interval: Annotated[str, Opt("--scan-interval", metavar="D", help="How often to scan for new streams matching a glob (e.g. 500ms, 2s).")] = "1s",
    force: Annotated[bool, Opt("--force", help="Overwrite an existing output file.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="Hide the progress line and the final summary (warnings and errors still print).")] = False,
    exclude: Annotated[list[str] | None, Opt("--exclude", metavar="GLOB", help="Never record streams matching GLOB (repeatable).")] = None,
    cluster: ClusterOpt = None,
    compression: Annotated[str, Opt("--compression", metavar="KIND", help="Chunk compression: zstd (default), none, or lz4 (faster, larger; pip install 'xtape[lz4]').")] = "zstd",
    split_size: Annotated[str | None, Opt("--split-size", metavar="SIZE", help="Write numbered files into the folder -o, a new one at SIZE (with a unit: 256MiB, 1GiB, 500MB).")] = None,
    split_duration: Annotated[str | None, Opt("--split-duration", metavar="D", help="Write numbered files into the directory -o, a new one every D (e.g. 1h).")] = None,
    keep_last: Annotated[str | None, Opt("--keep-last", metavar="D", help="With a split: delete the oldest files, keeping at least the last D (e.g. 6h).")] = None,
    metrics: MetricsOpt = None,
    unhealthy_after: UnhealthyAfterOpt = "30s",
    metrics_linger: MetricsLingerOpt = None,
    snapshot: SnapshotOpt = None,
    snapshot_max_bytes: SnapshotMaxBytesOpt = None,
    snapshot_key: SnapshotKeyOpt = None,
) -> None:
    """Record entries added to Redis streams into a recording file, byte for byte.

    Read-only on the source (no consumer groups, nothing written). Stops on --duration,
    --count, --until-idle, Ctrl-C or SIGTERM, always closing the file cleanly.
    Reconnects with backoff if the server goes away, and marks trimmed entries as gaps.
    With --metrics, serves Prometheus metrics and /healthz (docs/metrics.md); with
    --snapshot, keeps the last minutes in memory and writes them on request.
    """
    from xtape.capture import RecordOptions, parse_start
    from xtape.capture import record as run_record
    from xtape.capture.redact import read_key_file
    from xtape.observe.serve import watching_record
    from xtape.outputs import check_split_folder
    from xtape.process import process_state
    from xtape.recording.compression import writable
    from xtape.recording.split import parse_split

    with handled():
        split = split_size is not None or split_duration is not None
        writable(compression)  # (RecordOptions checks it too; before the output is touched)
        if keep_last is not None and not split:
            raise UsageError("--keep-last needs --split-size or --split-duration")
        watch = watch_options(metrics, unhealthy_after, metrics_linger)
        snapshots = snapshot_options(output, snapshot, snapshot_max_bytes, snapshot_key, split=split)
        if split:
            check_split_folder(output)
        elif snapshots is None:
            check_recording_output(output, force=force)
        for name in streams:
            if os.path.exists(name):
                warn(
                    f"{name!r} is also a file here: if it came from a glob the shell expanded, "
                    "quote the glob ('prices.*') so Redis stream names are matched"
                )
        target = tls_url(url, tls_ca_cert, tls_cert, tls_key, tls_insecure)
        split_bytes, split_seconds = parse_split(split_size, split_duration)
        options = RecordOptions(
            patterns=list(streams),
            start=parse_start(from_),
            duration=_seconds(duration, "--duration"),
            count=count,
            until_idle=_seconds(until_idle, "--until-idle"),
            redact=list(redact or []),
            redact_case_sensitive=redact_case_sensitive,
            redact_key=None if redact_key_file is None else read_key_file(redact_key_file),
            fsync=fsync,
            scan_interval=parse_seconds(scan_interval, option="--scan-interval", positive=True),
            exclude=list(exclude or []),
            cluster=cluster,
            compression=compression,
            split_size=split_bytes,
            split_duration=split_seconds,
            keep_last=_seconds(keep_last, "--keep-last"),
            snapshots=snapshots,
        )
        line = ProgressLine(not quiet)
        with process_state() as state, watching_record(
            watch.addr,
            stop_event=state.stop_event,
            unhealthy_after=watch.unhealthy_after,
            linger=watch.linger,
            snapshots=snapshots,
        ) as observer:
            try:
                stats = run_record(
                    target,
                    output,
                    options,
                    progress=lambda p: line.show(
                        Notice(
                            "progress",
                            f"record: {p.entries} entries ({p.rate:,.0f}/s) from {p.streams} streams, "
                            f"{human_bytes(p.bytes)}, {p.elapsed_s:.0f} s"
                            + (
                                f"; backfill {p.backlog_done:,}/{p.backlog_total:,} "
                                f"({100 * p.backlog_done / max(p.backlog_total, 1):.0f}%)"
                                + (f", ETA {p.eta_s:.0f} s" if p.eta_s is not None else "")
                                if p.backlog_total is not None and p.backlog_done is not None
                                else ""
                            ),
                            entries=p.entries, rate=round(p.rate, 1), streams=p.streams, bytes=p.bytes,
                            elapsed_s=round(p.elapsed_s, 3), backlog_done=p.backlog_done, backlog_total=p.backlog_total,
                        )
                    ),
                    warn=line.warn,
                    stop_event=state.stop_event,
                    observer=observer,
                )
            finally:
                line.done()
    if output != "-" and not Path(output).exists():  # stopped while the server said nothing
        from xtape.connection import redact_url, resolve_url

        stderr.print(f"xtape: stopped before {redact_url(resolve_url(target))} answered: nothing recorded, no file written", markup=False)
        raise SystemExit(state.exit_code or 1)
    for pattern in streams:
        if glob.has_magic(pattern) and not any(match_any(name, [pattern]) for name in stats.streams):
            warn(f"{pattern!r} matched no stream; nothing was recorded from it")
    if not quiet:
        say(Notice(
            "recorded",
            f"recorded {plural(stats.entries, 'entry', 'entries')} from "
            f"{plural(sum(1 for n in stats.streams.values() if n), 'stream')} into {output} "
            f"({human_bytes(stats.bytes)}, {stats.duration_s:.1f} s, stopped: {stats.stop_reason})"
            + (f"; {plural(stats.gaps, 'gap')} ({plural(stats.lost, 'entry', 'entries')} lost" if stats.gaps else "")
            + (f", {stats.unknown_gaps} of unknown size" if stats.unknown_gaps else "")
            + (")" if stats.gaps else "")
            + (f"; {plural(stats.reconnects, 'reconnect')}" if stats.reconnects else "")
            + (f"; {plural(stats.restarts, 'server restart')}" if stats.restarts else "")
            + (f"; series {stats.series[:8]}" if stats.series else "")
            + (f", continuing series {stats.continues[:8]} (the gap between the runs is marked)" if stats.continues else "")
            + (f"; {plural(len(snapshots.written), 'snapshot')} written into {output}" if snapshots is not None else ""),
            output=output, entries=stats.entries, streams={k: v for k, v in stats.streams.items() if v},
            bytes=stats.bytes, duration_s=round(stats.duration_s, 3), stop_reason=stats.stop_reason,
            gaps=stats.gaps, lost=stats.lost, unknown_gaps=stats.unknown_gaps, reconnects=stats.reconnects,
            restarts=stats.restarts, series=stats.series, continues=stats.continues,
        ))


def _seconds(text: str | None, option: str) -> float | None:
    """A positive duration option in seconds (None: not given)."""
    return None if text is None else parse_seconds(text, option=option, positive=True)
