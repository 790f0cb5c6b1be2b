"""``python -m xtape.capture``: the recorder without the CLI (for tests and benchmarks).

Takes the options of ``xtape record``; prints warnings and a final summary on stderr.
"""

from __future__ import annotations

import argparse
import sys
import threading

from xtape.capture.options import RecordOptions, parse_count, parse_duration, parse_start
from xtape.capture.recorder import record
from xtape.capture.signals import install_signal_handlers
from xtape.errors import XtapeError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xtape.capture")
    parser.add_argument("patterns", nargs="+", metavar="STREAM_OR_GLOB")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--url")
    parser.add_argument("--from", dest="start", default="now")
    parser.add_argument("--duration")
    parser.add_argument("--count")
    parser.add_argument("--until-idle")
    parser.add_argument("--redact", action="append", default=[])
    parser.add_argument("--fsync", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--scan-interval", default="1s")
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args(argv)

    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr, flush=True)

    stop = threading.Event()
    install_signal_handlers(stop)
    try:
        options = RecordOptions(
            patterns=args.patterns,
            start=parse_start(args.start),
            duration_s=parse_duration(args.duration) if args.duration else None,
            count=parse_count(args.count) if args.count else None,
            until_idle_s=parse_duration(args.until_idle, option="--until-idle")
            if args.until_idle
            else None,
            redact=args.redact,
            fsync=args.fsync,
            scan_interval_s=parse_duration(args.scan_interval, option="--scan-interval"),
            batch=args.batch,
        )
        stats = record(args.url, args.output, options, warn=warn, stop_event=stop)
    except XtapeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    if not args.quiet:
        print(
            f"recorded {stats.entries} entries from {len(stats.streams)} streams in "
            f"{stats.duration_s:.2f}s ({stats.stop_reason}); {stats.bytes} bytes, "
            f"{stats.gaps} gaps, {stats.reconnects} reconnects",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
