"""``xtape test`` and ``diff``: regression cases and recording comparisons.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

from xtape.cli._codecs import CodecOpt, codec_pairs, say_codec
from xtape.cli._shape import WhereOpt, where_test
from xtape.cli.common import (
    URL_HELP,
    SeriesOpt,
    StreamOpt,
    TlsCaOpt,
    TlsCertOpt,
    TlsInsecureOpt,
    TlsKeyOpt,
    fail,
    handled,
    series_read,
    stderr,
    stdout,
    tls_url,
)
from xtape.cli.decl import Arg, Context, Opt, command
from xtape.errors import UsageError


@command(cls="DashDashCommand", short_help="Run regression cases.")
def test(
    ctx: Context,
    cases: Annotated[list[Path], Arg(metavar="CASE...", help="Regression case files (YAML). After them, -- COMMAND... gives the service command (it replaces each case's service.command).", show_default=False)],
    url: Annotated[str | None, Opt("--url", metavar="URL", help="Use this Redis instead of a throwaway redis-server per case (the default; $REDIS_URL is not read: it is what the service is given). Each case's input and output streams are deleted there before its service starts. rediss:// for TLS (with the --tls-* options; the service is given the URL with them as its ?ssl_* query, which redis-py's from_url reads); the password may come from $XTAPE_REDIS_PASSWORD or $REDISCLI_AUTH.")] = None,
    tls_ca_cert: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    tls_insecure: TlsInsecureOpt = False,
    update: Annotated[bool, Opt("--update", help="Write each capture over its golden recording (accept the new output), after --runs runs: what differed between them is stored with the golden as noise.")] = False,
    runs: Annotated[int, Opt("--runs", metavar="N", min=1, help="With --update: run each case N times to find the noise (fields that differ between runs).")] = 2,
    no_noise: Annotated[bool, Opt("--no-noise", help="Neither find noise (--update runs once) nor ignore the noise stored with the golden.")] = False,
    junit: Annotated[Path | None, Opt("--junit", metavar="FILE", help="Also write a JUnit XML report.")] = None,
    codec: CodecOpt = None,
    allow_outside: Annotated[bool, Opt("--allow-outside", help="Let a case's golden (and its .actual file) be outside the case file's folder tree.")] = False,
    force: Annotated[bool, Opt("--force", help="Overwrite an existing --junit file.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="Print only the cases that differ or fail, with their details (no line per passing case).")] = False,
) -> None:
    """Run regression cases: start the service, replay its inputs, capture its outputs, diff
    them against the golden recordings (docs/regression.md).

    Prints one line per case and, for a case that differs, the differences and the
    service's output. Exit 0 when every case matches (or was updated), 1 when one
    differs or fails, 2 for invalid input (a case file, a missing golden).
    """
    from xtape.outputs import check_output
    from xtape.process import process_state
    from xtape.regress import run_cases, write_junit

    command = ctx.meta.get("xtape_command") or None
    if ctx.meta.get("xtape_command") == []:
        fail("nothing after --: give the service command (or leave out the --)")
    with handled():
        if url is None and (tls_ca_cert or tls_cert or tls_key or tls_insecure):
            raise UsageError("the --tls-* options go with --url rediss://... (the throwaway redis-server speaks plain TCP)")
        url = tls_url(url, tls_ca_cert, tls_cert, tls_key, tls_insecure)
        if junit is not None:
            check_output(junit, force=force, inputs=cases, option="--junit", stdout_ok=False)
    color = sys.stdout.isatty()

    with handled(), process_state(pause_gc=False) as state:
        codecs = codec_pairs(codec)
        results = run_cases(
            cases,
            command=command,
            url=url,
            update=update,
            runs=runs,
            noise=not no_noise,
            say=None if quiet else (lambda line: stdout.print(line, markup=False, highlight=False)),
            stop_event=state.stop_event,
            codecs=codecs,
            allow_outside=allow_outside,
        )
        for result in results:
            if quiet and not result.passed:
                stdout.print(result.summary(), markup=False)
            if result.status in ("differs", "error") and result.details(color):
                stdout.print(f"\n=== {result.name} ({result.path})", markup=False)
                stdout.print(result.details(color), markup=False, highlight=False)
        if junit is not None:
            write_junit(junit, results)
    if state.exit_code is not None:
        raise SystemExit(state.exit_code)
    raise SystemExit(max((r.exit_code for r in results), default=0))


@command(short_help="Compare two recordings, or one with live streams.")
def diff(
    expected: Annotated[str, Arg(help="The expected (golden) recording (- for standard input).", show_default=False)],
    actual: Annotated[str | None, Arg(help="The actual recording; without it (and with --url or $REDIS_URL), the live streams.", show_default=False)] = None,
    rules_file: Annotated[Path | None, Opt("--rules", metavar="FILE", help="A rules file (YAML); options add to it (lists) or override it.")] = None,
    stream: StreamOpt = None,
    ignore_field: Annotated[list[str] | None, Opt("--ignore-field", metavar="GLOB", help="Do not compare fields matching this glob (repeatable).")] = None,
    tolerance: Annotated[list[str] | None, Opt("--tolerance", metavar="FIELD=AMOUNT", help="Numbers of FIELD (a glob, or JSONFIELD.path) may differ by AMOUNT (0.01) or by a share of the expected value (1%) (repeatable).")] = None,
    json_field: Annotated[list[str] | None, Opt("--json-field", metavar="FIELD", help="Compare this field's values as parsed JSON (repeatable).")] = None,
    ignore_path: Annotated[list[str] | None, Opt("--ignore-path", metavar="FIELD.PATH", help="Ignore this path inside a JSON field (payload.meta.ts, payload.items[*].id) or a decoded payload (headers.correlation_id) (repeatable).")] = None,
    codec: CodecOpt = None,
    where: WhereOpt = None,
    match_by: Annotated[str | None, Opt("--match-by", metavar="FIELD", help="Pair entries by this field's value instead of by position (FIELD or JSONFIELD.path).")] = None,
    unordered: Annotated[bool, Opt("--unordered", help="Pair entries by content, in any order (a multiset).")] = False,
    compare_ids: Annotated[bool, Opt("--compare-ids", help="Entry ids must be equal too (default: only fields are compared).")] = False,
    compare_times: Annotated[bool, Opt("--compare-times", help="Entry times (from each recording's start, by id) must be equal too.")] = False,
    time_tolerance: Annotated[str | None, Opt("--time-tolerance", metavar="D", help="With --compare-times: how far an entry's time may move (e.g. 5ms).")] = None,
    ignore_field_order: Annotated[bool, Opt("--ignore-field-order", help="Fields in another order are not a difference.")] = False,
    window: Annotated[int | None, Opt("--window", metavar="N", min=1, help="Entries per stream searched for a counterpart (bounds memory; see docs/diff.md). [default: 10000]")] = None,
    max_reported: Annotated[int | None, Opt("--max-reported", metavar="N", min=0, help="Differences shown in detail per stream (all are counted). [default: 1000]")] = None,
    url: Annotated[str | None, Opt("--url", metavar="URL", help="Compare with the live streams at this " + URL_HELP)] = None,
    tls_ca_cert: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    tls_insecure: TlsInsecureOpt = False,
    idle: Annotated[str, Opt("--idle", metavar="D", help="Live: read the streams until they were quiet for D.")] = "1s",
    save_actual: Annotated[Path | None, Opt("--save-actual", metavar="FILE", help="Live: keep what was read as a recording.")] = None,
    redact_key_file: Annotated[Path | None, Opt("--redact-key-file", metavar="FILE", help="Live: the key EXPECTED was recorded with (record --redact-key-file); its redacted fields then compare by value, not only by presence.")] = None,
    as_json: Annotated[bool, Opt("--json", help="Print the result as JSON.")] = False,
    html: Annotated[Path | None, Opt("--html", metavar="FILE", help="Also write a self-contained HTML report.")] = None,
    force: Annotated[bool, Opt("--force", help="Overwrite an existing --html or --save-actual file.")] = False,
    no_color: Annotated[bool, Opt("--no-color", help="No colour even on a terminal (also: $NO_COLOR).")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="Print nothing when the recordings are the same, only the differences when they differ (no 'wrote' line; --json still prints; errors and warnings always do).")] = False,
    series: SeriesOpt = None,
) -> None:
    """Compare two recordings (or a recording and live streams) stream by stream.

    Exit codes as diff(1): 0 same, 1 differs, 2 invalid input or trouble (unreadable
    file, bad rules, Redis unreachable). By default only fields are compared, entries in
    order per stream; see docs/diff.md for the rules file and the memory bounds.
    """

    from xtape.diff import DiffRules, diff_live, diff_recordings
    from xtape.outputs import check_distinct, check_output
    from xtape.units import parse_seconds

    try:
        with handled(), series_read(series):
            base = DiffRules.load(rules_file) if rules_file is not None else DiffRules()
            rules = base.with_options(
                streams=stream,
                ignore_fields=ignore_field,
                tolerances=tolerance,
                json_fields=json_field,
                ignore_paths=ignore_path,
                codecs=codec,
                match_by=match_by,
                order="multiset" if unordered else None,
                compare_ids=compare_ids,
                compare_times=compare_times,
                ignore_field_order=ignore_field_order,
                time_tolerance=time_tolerance,
                window=window,
                max_reported=max_reported,
            )
            select = where_test(where, codec)
            inputs = [expected, actual, rules_file]
            check_distinct([("--html", html), ("--save-actual", save_actual)])
            for option, out in (("--html", html), ("--save-actual", save_actual)):
                if out is not None:
                    check_output(out, force=force, inputs=inputs, option=option, stdout_ok=False)
            if actual is None:
                if url is None and not os.environ.get("REDIS_URL"):
                    raise UsageError(
                        "give ACTUAL (a recording), or --url (or $REDIS_URL) to compare with the live streams"
                    )
                target = tls_url(url, tls_ca_cert, tls_cert, tls_key, tls_insecure)
                idle_after = parse_seconds(idle, option="--idle", positive=True)
                from xtape.capture.redact import read_key_file

                secret = None if redact_key_file is None else read_key_file(redact_key_file)
                result = diff_live(
                    expected, target, rules, idle=idle_after, save=save_actual, redact_key=secret, select=select
                )
            else:
                if url is not None:
                    raise UsageError("--url compares with live streams: give EXPECTED only, or drop --url")
                if redact_key_file is not None:
                    raise UsageError("--redact-key-file applies to a live diff (EXPECTED without ACTUAL)")
                result = diff_recordings(expected, actual, rules, select=select)
            if html is not None:
                from xtape.report.diff_html import write_html

                write_html(result, html)
    except SystemExit as exc:
        # diff(1): trouble is 2, whatever its kind (1 means "differs").
        code = exc.code if isinstance(exc.code, int) else 1
        raise SystemExit(2 if code not in (0, 130) else code) from None
    if not quiet:
        for line in result.codec_lines:
            say_codec(line)
        for path, what in ((save_actual, "the live streams as read"), (html, "the HTML report")):
            if path is not None:
                stderr.print(f"wrote {path}: {what}", markup=False)
    if as_json:
        from xtape.report.as_json import diff_json

        sys.stdout.write(diff_json(result))
        sys.stdout.flush()
    elif not quiet or not result.same:  # -q: only what went wrong, as test -q
        color = sys.stdout.isatty() and not no_color and not os.environ.get("NO_COLOR")
        from xtape.report.diff_text import render_text

        sys.stdout.write(render_text(result, color=color))
        sys.stdout.flush()
    raise SystemExit(0 if result.same else 1)
