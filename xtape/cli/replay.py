"""``xtape replay``: a scenario or a recording published into Redis (with ``--capture``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from xtape.cli.decl import Arg, Opt, command
from xtape.cli.logs import stderr_lines
from xtape.errors import UsageError
from xtape.units import plural

if TYPE_CHECKING:
    from xtape.replay import ReplayProgress, ReplayReport

from xtape.cli._codecs import CodecOpt, codec_pairs
from xtape.cli._observe import MetricsLingerOpt, MetricsOpt, UnhealthyAfterOpt, watch_options
from xtape.cli._shape import SampleByOpt, SampleOpt, WhereOpt, multiply_option
from xtape.cli.common import (
    URL_HELP,
    CatalogOpt,
    ClusterOpt,
    NoCatalogOpt,
    ProgressLine,
    SeriesOpt,
    StreamOpt,
    TlsCaOpt,
    TlsCertOpt,
    TlsInsecureOpt,
    TlsKeyOpt,
    VariableOpt,
    catalog_for,
    fail,
    format_seconds,
    handled,
    parse_time_base,
    parse_variables,
    series_read,
    stderr,
    stdout,
    tls_url,
    warn,
)


@command(short_help="Publish a scenario or recording into Redis.")
def replay(
    source: Annotated[
        Path | None,
        Arg(help="A scenario (YAML or JSON) or a recording, told apart by content.", show_default=False),
    ] = None,
    file: Annotated[Path | None, Opt("--file", "-f", help="The source, as an option.")] = None,
    url: Annotated[str | None, Opt("--url", metavar="URL", help="Target " + URL_HELP)] = None,
    tls_ca_cert: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    tls_insecure: TlsInsecureOpt = False,
    speed: Annotated[float | None, Opt("--speed", help="Time scale: 2 plays twice as fast, 0.5 half as fast. [default: 1]")] = None,
    max_speed: Annotated[bool, Opt("--max-speed", help="Publish as fast as Redis takes them (fastest with the compiled XADD packer: xtape --version says whether it is installed).")] = False,
    rate: Annotated[float | None, Opt("--rate", metavar="N", help="A fixed N events per second, ignoring the original spacing.")] = None,
    rate_ramp: Annotated[str | None, Opt("--rate-ramp", metavar="START:END:D", help="A rate rising linearly from START to END events per second over D (e.g. 1000:20000:5m), then staying at END; ignores the original spacing.")] = None,
    loop: Annotated[bool, Opt("--loop", help="Start again after the end, until Ctrl-C.")] = False,
    loop_interval: Annotated[str | None, Opt("--loop-interval", metavar="D", help="Pause between loop passes (with --loop; e.g. 10s; a bare number is milliseconds). [default: 0]")] = None,
    dry_run: Annotated[bool, Opt("--dry-run", help="Print the events with their offsets in the timeline instead of publishing (no Redis needed, no waiting).")] = False,
    verbose: Annotated[bool, Opt("--verbose", "-v", help="Show each event's fields as it is published.")] = False,
    variable: VariableOpt = None,
    stream: StreamOpt = None,
    map_: Annotated[list[str] | None, Opt("--map", metavar="SRC=DST", help="Publish streams matching SRC (a name or glob) as DST; a '*' in DST takes what '*' matched in SRC (repeatable).")] = None,
    prefix: Annotated[str, Opt("--prefix", metavar="P", help="Prepend P to every target stream name.")] = "",
    since: Annotated[str | None, Opt("--since", metavar="D", help="Skip the first D of the timeline (e.g. 2m).")] = None,
    until: Annotated[str | None, Opt("--until", metavar="D", help="Stop at D into the timeline (e.g. 3m).")] = None,
    keep_ids: Annotated[bool, Opt("--keep-ids", help="Publish the original entry ids (targets must be missing or empty).")] = False,
    maxlen: Annotated[int | None, Opt("--maxlen", metavar="N", help="Trim target streams to about N entries (MAXLEN ~ N, N >= 1).")] = None,
    where: WhereOpt = None,
    sample: SampleOpt = None,
    sample_by: SampleByOpt = None,
    codec: CodecOpt = None,
    multiply: Annotated[int | None, Opt("--multiply", metavar="N", help="Publish N copies of every event with the original timing, each copy into its own streams (--copy-map) or, with --copy-into-same, into the same ones; the report counts per copy.")] = None,
    copy_map: Annotated[str | None, Opt("--copy-map", metavar="TEMPLATE", help="With --multiply: the stream of each copy, from {stream} (the target name) and {n} (the copy, from 1); {stream}:{n} when not given.")] = None,
    copy_into_same: Annotated[bool, Opt("--copy-into-same", help="With --multiply: every copy into the event's own stream.")] = False,
    copy_field: Annotated[str | None, Opt("--copy-field", metavar="NAME", help="With --multiply: add a field NAME holding the copy's number (1 to N).")] = None,
    copy_suffix: Annotated[list[str] | None, Opt("--copy-suffix", metavar="FIELD", help="With --multiply: append -N (the copy's number) to the values of fields named FIELD, so ids do not collide (repeatable).")] = None,
    seed: Annotated[int | None, Opt("--seed", help="Seed for scenario generators (same seed, same events) and for --sample (another sample).")] = None,
    time_base: Annotated[str, Opt("--clock", metavar="[id|capture]", help="Recording timing: id (the entry ids' ms, default) or capture (the recorder's clock).")] = "id",
    no_reconnect: Annotated[bool, Opt("--no-reconnect", help="Fail at once if the connection is lost (default: reconnect with backoff and resend what Redis did not confirm).")] = False,
    keep_going: Annotated[bool, Opt("--keep-going", help="Go on however many entries Redis refuses (default: stop after 100 refusals in a row).")] = False,
    as_json: Annotated[bool, Opt("--json", help="Print the report as JSON.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="Hide the progress line and the report (--json and --dry-run's events still print; warnings and errors always do).")] = False,
    catalog: CatalogOpt = None,
    no_catalog: NoCatalogOpt = False,
    cluster: ClusterOpt = None,
    capture: Annotated[list[str] | None, Opt("--capture", metavar="GLOB", help="Also record these output streams (names or globs, repeatable) from the start of the replay into -o FILE.")] = None,
    output: Annotated[Path | None, Opt("--output", "-o", metavar="FILE", help="With --capture: the recording to write.")] = None,
    settle: Annotated[str | None, Opt("--settle", metavar="D", help="With --capture: stop once the replay is done and the outputs were quiet for D. [default: 1s without --expect]")] = None,
    expect: Annotated[int | None, Opt("--expect", metavar="N", help="With --capture: stop once N entries were captured (exit 1 if fewer arrive).")] = None,
    timeout: Annotated[str | None, Opt("--timeout", metavar="D", help="With --capture: stop replay and capture after D at the latest.")] = None,
    force: Annotated[bool, Opt("--force", help="With --capture: overwrite an existing -o FILE.")] = False,
    series: SeriesOpt = None,
    metrics: MetricsOpt = None,
    unhealthy_after: UnhealthyAfterOpt = "30s",
    metrics_linger: MetricsLingerOpt = None,
) -> None:
    """Publish a scenario or a recording into Redis with original, scaled, fixed-rate or ramped timing.

    Deadlines are absolute (no drift); events already due go out together in one
    pipelined round trip. At the end a report gives events, duration, rate and
    lateness (p50/p99/max) against the schedule. Exit 130 (143) when stopped by
    Ctrl-C (SIGTERM), 1 when Redis refused entries or the replay failed. A scenario is
    first checked against its stream catalog (--catalog, else $XTAPE_CATALOG, else
    streams.yaml beside it or here): nothing is published if an event does not match.
    With --metrics, serves Prometheus metrics and /healthz (docs/metrics.md).
    """
    from xtape.errors import ReplayAborted
    from xtape.observe.serve import watching_replay
    from xtape.process import process_state
    from xtape.replay import Pacing, ReplayOptions, open_source, replay
    from xtape.transform import Transform

    state = None
    with handled(), series_read(series):
        path = _one_source(source, file)
        if codec and where is None and sample_by is None:
            raise UsageError("--codec applies to replay with --where or --sample-by (the payloads they look at)")
        target = tls_url(url, tls_ca_cert, tls_cert, tls_key, tls_insecure)
        options = ReplayOptions(
            pacing=Pacing.choose(speed=speed, max_speed=max_speed, rate=rate, rate_ramp=rate_ramp),
            loop=loop,
            loop_interval=_loop_interval(loop_interval),
            transform=Transform.parse(
                streams=stream or (), maps=map_ or (), prefix=prefix, since=since, until=until,
                where=where, sample=sample, sample_by=sample_by, seed=seed, codecs=codec_pairs(codec) if codec else (),
                multiply=multiply_option(multiply, copy_map, copy_into_same, copy_field, copy_suffix),
            ),
            keep_ids=keep_ids,
            maxlen=maxlen,
            dry_run=dry_run,
            reconnect=not no_reconnect,
            keep_going=keep_going,
        )
        from xtape.replay.source import source_kind

        recording = source_kind(path) == "recording"
        schemas = None if recording else catalog_for(catalog, path, no_catalog)
        capture_args = _capture_args(capture, output, settle, expect, timeout, force, inputs=[path, catalog])
        watch = watch_options(metrics, unhealthy_after, metrics_linger)
        if watch.addr is not None and capture_args is not None:
            raise UsageError("--metrics is not served with --capture (a bounded run); drop one of them")
        src = open_source(
            path,
            options,
            variables=parse_variables(variable),
            seed=None if recording and sample is not None else seed,  # (the sample's seed)
            time_base=parse_time_base(time_base),
            catalog=schemas,
        )
        for warning in src.warnings:
            warn(warning)
        line = ProgressLine(not (quiet or as_json or dry_run or verbose))
        if max_speed and not dry_run:
            from xtape.replay.resp import COMPILED, FALLBACK_NOTE

            if not COMPILED:
                stderr.print(f"xtape: note: {FALLBACK_NOTE}", markup=False)
        if capture_args is not None:
            _replay_capture(src, options, target, {**capture_args, "cluster": cluster, "quiet": quiet}, line, as_json)
            return
        with process_state() as state, watching_replay(
            watch.addr,
            stop_event=state.stop_event,
            unhealthy_after=watch.unhealthy_after,
            linger=watch.linger,
        ) as observer:
            try:
                report = replay(
                    src,
                    target,
                    options,
                    out=stderr_lines("scheduled") if as_json else sys.stdout,  # with --json, stdout is the report's
                    verbose=verbose,
                    progress=lambda p: line.show(_replay_progress(p)),
                    warn=line.warn,
                    stop_event=state.stop_event,
                    cluster=cluster,
                    observer=observer,
                )
            except ReplayAborted as exc:
                line.done()
                _print_report(exc.report, as_json, dry_run=dry_run, seed=src.seed, quiet=quiet)
                raise
            finally:
                line.done()
    _finish(report, as_json, dry_run=dry_run, seed=src.seed, quiet=quiet)
    if report.interrupted:
        raise SystemExit(state.exit_code or 130)
    if report.errors and not dry_run:
        raise SystemExit(1)


def _capture_args(
    capture: list[str] | None,
    output: Path | None,
    settle: str | None,
    expect: int | None,
    timeout: str | None,
    force: bool,
    inputs: list[Path | None],
) -> dict[str, Any] | None:
    """The --capture options, checked; ``None`` without --capture."""
    from xtape.units import parse_seconds

    if not capture:
        given = [n for n, v in (("-o", output), ("--settle", settle), ("--expect", expect), ("--timeout", timeout)) if v is not None]
        if given:
            raise UsageError(f"{', '.join(given)} only apply with --capture GLOB")
        return None
    if output is None:
        raise UsageError("--capture needs -o FILE: the recording to write the outputs into")
    if str(output) == "-":
        raise UsageError("--capture writes a file (the replay's report goes to standard output): give -o FILE")
    from xtape.outputs import check_output

    check_output(output, force=force, inputs=inputs)
    from xtape.regress import check_capture_options  # (the diff engine: only with --capture)

    settle_after = None if settle is None else parse_seconds(settle, option="--settle", positive=True)
    stop_after = None if timeout is None else parse_seconds(timeout, option="--timeout", positive=True)
    check_capture_options(settle_after, expect, stop_after)
    return {"outputs": list(capture), "output": output, "settle": settle_after, "expect": expect, "timeout": stop_after}


def _replay_capture(
    src: Any, options: Any, target: str | None, args: dict[str, Any], line: ProgressLine, as_json: bool
) -> None:
    """``replay --capture``: the replay and a recording of its outputs, then both reports."""
    from xtape.errors import ReplayAborted
    from xtape.process import process_state
    from xtape.regress import replay_and_capture

    with process_state() as state:
        try:
            result = replay_and_capture(
                src,
                url=target,
                options=options,
                progress=lambda p: line.show(_replay_progress(p)),
                warn=line.warn,
                stop_event=state.stop_event,
                groups=True,
                **{k: v for k, v in args.items() if k != "quiet"},
            )
        except ReplayAborted as exc:
            line.done()
            _print_report(exc.report, as_json, dry_run=False, seed=src.seed, quiet=args["quiet"])
            raise
        finally:
            line.done()
    report, stats = result.replay, result.record
    _finish(report, as_json, dry_run=False, seed=src.seed, quiet=args["quiet"])
    streams = sum(1 for n in stats.streams.values() if n)
    if not args["quiet"]:
        stderr.print(
            f"captured {plural(stats.entries, 'entry', 'entries')} from {plural(streams, 'stream')} into {args['output']} "
            f"(stopped: {result.stop_reason}, {result.waited_s:.1f} s after the replay)",
            markup=False,
        )
    if state.exit_code is not None or report.interrupted:
        raise SystemExit(state.exit_code or 130)
    if result.leftovers:
        from xtape.regress.findings import leftover_lines

        for left in result.leftovers:
            for text in leftover_lines(left, sum(result.inputs.values()) or None):
                stderr.print(text, markup=False, highlight=False)
        raise SystemExit(1)
    if args["expect"] is not None and stats.entries < args["expect"]:
        fail(f"expected {args['expect']} entries on the outputs, captured {stats.entries}", 1)
    if report.errors:
        raise SystemExit(1)


def _loop_interval(text: str | None) -> float | None:
    """``--loop-interval`` in seconds: a duration (a bare number is milliseconds, as it
    always was)."""
    from xtape.units import parse_seconds

    return None if text is None else parse_seconds(text, option="--loop-interval", bare="ms")


def _replay_progress(p: ReplayProgress) -> str:
    """``replay: 1,200/5,000 (24%), 3,100/s, ETA 1 m 12 s, pass 2, 3 errors``."""
    done = f"{p.pass_sent:,}" + (f"/{p.pass_total:,}" if p.pass_total is not None else "")
    parts = [f"replay: {done}" + (f" ({p.percent:.0f}%)" if p.percent is not None else "")]
    parts.append(f"{p.rate:,.0f}/s")
    if p.eta_s is not None:
        parts.append(f"ETA {format_seconds(p.eta_s)}")
    if p.iteration:
        parts.append(f"pass {p.iteration + 1}")
    if p.errors:
        parts.append(f"{p.errors:,} error{'s' * (p.errors != 1)}")
    return ", ".join(parts)


def _one_source(source: Path | None, file: Path | None) -> Path:
    if source is not None and file is not None:
        raise UsageError("give the source once: as an argument or with -f, not both")
    path = source or file
    if path is None:
        raise UsageError("give a scenario or recording to replay (xtape replay FILE, or -f FILE)")
    return path


def _finish(report: ReplayReport, as_json: bool, *, dry_run: bool, seed: int | None, quiet: bool) -> None:
    """The report and its warnings; a selection that left nothing is an error (exit 2)."""
    from xtape.replay.runner import NOTHING_MATCHED

    for warning in report.warnings:
        if warning != NOTHING_MATCHED:
            warn(warning)
    if NOTHING_MATCHED not in report.warnings:
        _print_report(report, as_json, dry_run=dry_run, seed=seed, quiet=quiet)
    else:
        fail("nothing matched --stream/--since/--until/--where/--sample: nothing to publish (xtape info shows what a recording holds)")


def _print_report(report: ReplayReport, as_json: bool, *, dry_run: bool, seed: int | None, quiet: bool = False) -> None:
    if as_json:
        from xtape.report.as_json import replay_json

        stdout.print(replay_json(report, seed=seed), markup=False)
        return
    from xtape.report.replay_text import refused_lines, replay_lines

    out = stderr if quiet or dry_run else stdout  # -q: only what went wrong
    for line in refused_lines(report) if quiet else replay_lines(report, dry_run=dry_run, seed=seed):
        out.print(line, markup=False)
