"""The options of ``--metrics`` (``record`` and ``replay``) and of ``--snapshot``
(``record``), and their checks before anything starts. The listener itself is
:mod:`xtape.observe`, imported only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from xtape.cli.decl import Opt
from xtape.errors import UsageError

if TYPE_CHECKING:
    from xtape.capture.snapshot import Snapshots

MetricsOpt = Annotated[str | None, Opt("--metrics", metavar="ADDR", help="Serve Prometheus metrics on /metrics and health on /healthz at ADDR (127.0.0.1:9464, or :9464 for every interface); off by default. Needs pip install 'xtape[metrics]'. See docs/metrics.md.", show_default=False)]
UnhealthyAfterOpt = Annotated[str, Opt("--unhealthy-after", metavar="D", help="With --metrics: /healthz answers 503 once reconnecting, or without an answer from the server, for longer than D.")]
MetricsLingerOpt = Annotated[str | None, Opt("--metrics-linger", metavar="D", help="With --metrics: keep answering for D after the end (or a failure), so a last scrape sees how it ended; Ctrl-C or SIGTERM cuts it short.", show_default=False)]


@dataclass(frozen=True)
class Watch:
    """``--metrics`` and its companions, checked."""

    addr: str | None = None
    unhealthy_after: float = 30.0
    linger: float = 0.0


def watch_options(metrics: str | None, unhealthy_after: str, linger: str | None) -> Watch:
    """Check ``--metrics ADDR``, ``--unhealthy-after`` and ``--metrics-linger`` (and that
    prometheus_client is installed) before anything starts."""
    from xtape.units import parse_seconds

    unhealthy_s = parse_seconds(unhealthy_after, option="--unhealthy-after", positive=True)
    linger_after = 0.0 if linger is None else parse_seconds(linger, option="--metrics-linger")
    if metrics is None:
        if linger is not None:
            raise UsageError("--metrics-linger goes with --metrics ADDR")
        return Watch(unhealthy_after=unhealthy_s)
    from xtape.observe.listener import parse_listen
    from xtape.observe.metrics import require

    parse_listen(metrics)
    require()
    return Watch(metrics, unhealthy_s, linger_after)


SnapshotOpt = Annotated[str | None, Opt("--snapshot", metavar="D", help="Keep the last D of traffic in memory instead of writing a recording, and write it into a new file of the folder -o on request: SIGUSR1, POST /snapshot (with --metrics) or --snapshot-key.", show_default=False)]
SnapshotMaxBytesOpt = Annotated[str | None, Opt("--snapshot-max-bytes", metavar="SIZE", help="With --snapshot: hold at most SIZE of entries (ids, names, values; default 256MiB), the oldest dropped first.", show_default=False)]
SnapshotKeyOpt = Annotated[str | None, Opt("--snapshot-key", metavar="KEY", help="With --snapshot: a snapshot is written when KEY (e.g. xtape:snapshot) appears in the source (looked for every second; the recorder never writes it).", show_default=False)]


def snapshot_options(
    output: str, snapshot: str | None, max_bytes: str | None, key: str | None, *, split: bool
) -> Snapshots | None:
    """``--snapshot`` and its companions, checked, as the :class:`Snapshots` that holds
    the traffic (its folder made); ``None`` without ``--snapshot``."""
    if snapshot is None:
        if max_bytes is not None or key is not None:
            raise UsageError("--snapshot-max-bytes and --snapshot-key go with --snapshot D")
        return None
    from xtape.capture.snapshot import MAX_BYTES, Snapshots
    from xtape.outputs import check_split_folder
    from xtape.units import parse_seconds, parse_size

    window = parse_seconds(snapshot, option="--snapshot", positive=True)
    limit = MAX_BYTES if max_bytes is None else parse_size(max_bytes, option="--snapshot-max-bytes")
    if split:
        raise UsageError("--snapshot writes files of its own: drop --split-size/--split-duration")
    check_split_folder(output)
    from xtape.cli.common import stderr

    def tell(line: str) -> None:
        stderr.print(f"xtape: {line}", markup=False)

    return Snapshots(
        output, window, max_bytes=limit, key=None if key is None else key.encode(), warn=tell
    )
