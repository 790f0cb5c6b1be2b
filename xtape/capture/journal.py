"""What the recorder tells about a recording: markers in the file, one line each for the
user (``warn``), and the counts of :class:`RecordStats`, for every gap, stream deleted
or recreated, flush, restart, cluster change, lost connection and reconnect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from xtape.capture.cursors import StreamState
from xtape.capture.snapshot import Snapshots
from xtape.connection import error_reason
from xtape.errors import CommandRefused, RuntimeFailure
from xtape.notice import Notice
from xtape.observe.events import RecordEvents
from xtape.recording.split import SplitWriter
from xtape.recording.writer import RecordingWriter
from xtape.timeline import display_name
from xtape.units import plural

WarnFn = Callable[[str], None]


@dataclass
class RecordStats:
    """What a finished recording holds and why it stopped."""

    path: str
    entries: int = 0
    streams: dict[bytes, int] = field(default_factory=dict)
    gaps: int = 0
    #: Entries known lost in gaps (gaps of unknown size not counted).
    lost: int = 0
    #: Gaps of unknown size (after a restart or a flush, or without entry numbers).
    unknown_gaps: int = 0
    reconnects: int = 0
    restarts: int = 0
    #: Streams found deleted or recreated while recording (each named by a marker).
    recreated: int = 0
    duration_s: float = 0.0
    bytes: int = 0
    #: ``count``, ``duration``, ``idle``, ``stopped`` (stop event) or ``interrupted``.
    stop_reason: str = ""
    #: A split recording: the series written, and the series it continues (if any).
    series: str | None = None
    continues: str | None = None


class Journal:
    """Writes the markers and warnings of one recording and counts them in ``stats``
    (``writer``: the recording's writer, once it is open), and tells ``observer``."""

    def __init__(
        self,
        stats: RecordStats,
        warn: WarnFn,
        writer: Callable[[], RecordingWriter | SplitWriter | Snapshots],
        observer: RecordEvents | None = None,
    ) -> None:
        self.stats = stats
        self.warn = warn
        self._writer = writer
        self.observer = observer or RecordEvents()

    def _mark(self, kind: str, text: str, capture_ns: int | None = None) -> None:
        self._writer().write_marker(kind, text, capture_ns)
        self.observer.marker(kind)

    def gap(self, name: bytes, after: bytes, before: bytes, lost: int, capture_ns: int) -> None:
        self._writer().write_gap(name, after, before, lost, capture_ns)
        self.stats.gaps += 1
        self.stats.lost += max(lost, 0)
        self.stats.unknown_gaps += lost < 0
        self.observer.gap(name, lost)
        how_many = plural(lost, "entry", "entries") if lost >= 0 else "entries"
        self.warn(
            Notice(
                "gap",
                f"gap in {quoted(name)}: {how_many} between {after.decode()} and {before.decode()} "
                "were trimmed before they could be read",
                stream=name, after=after, before=before, lost=lost if lost >= 0 else None,
            )
        )

    def stream_gone(self, state: StreamState, why: str, capture_ns: int, *, reread: bool) -> None:
        """A stream deleted (``reread``: and created again), before its cursor restarts."""
        self.stats.recreated += 1
        kind = "recreated" if reread else "deleted"
        text = (
            f"stream {quoted(state.name)} was {'deleted and created again' if reread else 'deleted'}"
            f" ({why}); entries added after {state.cursor.decode()} before that were not "
            "recorded" + ("; recording the new stream from its start" if reread else "")
        )
        self._mark(kind, text, capture_ns)
        self.warn(Notice(f"stream_{kind}", text, stream=state.name, after=state.cursor, why=why))

    def flushed(self) -> None:
        """FLUSHALL/FLUSHDB (of some database)."""
        text = (
            "the server's data was flushed (FLUSHALL/FLUSHDB); entries added after the "
            "last recorded ids and before the flush were not recorded"
        )
        self._mark("flush", text)
        self.warn(Notice("flush", f"{text}; checking every stream again"))

    def restarted(self, old_run_id: str, run_id: str, shown_url: str) -> None:
        self.stats.restarts += 1
        self._mark(
            "restart",
            f"server restarted (run_id {old_run_id} -> {run_id}): entries added after the "
            "last recorded ids and not kept by the server are lost",
        )
        self.warn(
            Notice(
                "restart", f"the server at {shown_url} restarted; checking every stream again",
                url=shown_url, old_run_id=old_run_id, run_id=run_id,
            )
        )

    def cluster_changed(self, kind: str, text: str) -> bool:
        """A change of a cluster's shape; True for a failover (counted as a restart)."""
        self._mark(kind, text)
        self.warn(Notice(kind, text))
        if kind != "failover":
            return False
        self.stats.restarts += 1
        return True

    def lost(self, reason: str, shown_url: str) -> None:
        self.observer.lost(reason)
        self.warn(Notice("disconnected", f"lost the connection to {shown_url} ({reason}); reconnecting", url=shown_url, reason=reason))

    def reconnected(self, down_s: float, reason: str, shown_url: str) -> None:
        self.stats.reconnects += 1
        self._mark("reconnect", f"reconnected after {down_s:.1f}s: {reason}")
        self.observer.reconnected()
        self.warn(Notice("reconnected", f"reconnected to {shown_url}", url=shown_url, down_s=round(down_s, 3), reason=reason))

    def not_a_stream(self, name: bytes, kind: bytes) -> None:
        self.warn(Notice("not_a_stream", f"{quoted(name)} is no longer a stream ({kind.decode()}); not recording it", stream=name, type=kind))


def refused(url: str, exc: CommandRefused) -> RuntimeFailure:
    """The error of a recorder refused a command it needs (ACL)."""
    return RuntimeFailure(
        f"Redis at {url} refused a command: {error_reason(exc)}; the recorder needs INFO, SCAN, "
        "TYPE, XINFO, XRANGE, XREAD and MULTI/EXEC (e.g. ACL +@read +info +multi +exec "
        "+@connection; +subscribe and &__redis__:invalidate let it skip idle streams)"
    )


def quoted(name: bytes) -> str:
    """A stream name as messages show it: ``'orders'``."""
    return f"'{display_name(name)}'"
