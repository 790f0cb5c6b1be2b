"""What to record and when to stop: :class:`RecordOptions` and the parsers of the values
users type for them (``--from``, ``--duration``, ...).

Every parser raises :class:`~xtape.errors.UsageError` with a one-line message that says
what was wrong and what is accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from xtape.errors import InvalidStreamId, UsageError
from xtape.ids import StreamId
from xtape.units import parse_seconds

if TYPE_CHECKING:
    from xtape.capture.snapshot import Snapshots

StartKind = Literal["now", "start", "id", "time", "ago"]

_ID = re.compile(r"^(\d{1,20})(?:-(\d{1,20}))?$")
_AGO = re.compile(r"^-\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?$")
_FROM_HELP = "use now, start, an entry id (1700000000000-0), a time (2026-11-25T10:00:00Z) or -DURATION (-5m)"


@dataclass(frozen=True, slots=True)
class StartSpec:
    """Where recording starts, as the user said it (``--from``).

    ``now`` records entries added after the recording starts; ``start`` everything the
    server holds; ``id`` entries after that id; ``time`` / ``ago`` entries whose id's
    millisecond part is at or after that moment (``ago`` is relative to the start).
    """

    kind: StartKind
    text: str
    id: bytes = b""
    ms: int = 0
    ago: float = 0.0

    def cursor(self, now_ms: int) -> bytes | None:
        """The concrete XREAD cursor (exclusive) this spec means when recording starts at
        ``now_ms``; ``None`` for ``now``, which is resolved per stream on the server."""
        if self.kind == "now":
            return None
        if self.kind == "start":
            return b"0-0"
        if self.kind == "id":
            return self.id
        ms = self.ms if self.kind == "time" else now_ms - round(self.ago * 1000)
        return time_cursor(ms)


def time_cursor(ms: int) -> bytes:
    """The exclusive XREAD cursor that includes ``ms-0``: ``(ms-1)-MAX_SEQ``."""
    return bytes(StreamId.before_ms(ms))


def parse_start(text: str) -> StartSpec:
    """Parse ``--from``: ``now``, ``start``, ``ID`` (``ms-seq`` or ``ms``), ``TIME``
    (ISO-8601, e.g. ``2026-11-25T10:00:00Z``; no zone means UTC) or ``-DURATION``."""
    value = text.strip()
    low = value.lower()
    if low in ("now", "$"):
        return StartSpec("now", value)
    if low in ("start", "0", "0-0", "-", "beginning"):
        return StartSpec("start", value)
    match = _ID.match(value)
    if match:
        try:
            start = StreamId.parse(value)
        except InvalidStreamId:
            raise UsageError(f"invalid --from {text!r}: id parts must be below 2^64") from None
        if match.group(2) is None:
            # A bare number is a millisecond: include ms-0.
            return StartSpec("time", value, ms=start.ms)
        return StartSpec("id", value, id=bytes(start))
    match = _AGO.match(value)
    if match:
        try:
            ago = parse_seconds(value[1:].strip(), option="--from")
        except UsageError:
            raise UsageError(
                f"invalid --from {text!r}: use -DURATION with a unit: ms, s, m, h or d (e.g. -5m)"
            ) from None
        return StartSpec("ago", value, ago=ago)
    when = _parse_time(value)
    if when is None:
        raise UsageError(f"invalid --from {text!r}: {_FROM_HELP}")
    return StartSpec("time", value, ms=when)


def _parse_time(value: str) -> int | None:
    iso = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return int(when.timestamp() * 1000)


def parse_count(text: str, *, option: str = "--count") -> int:
    """A positive whole number of entries."""
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise UsageError(f"invalid {option} {text!r}: use a whole number above zero")
    return value


def is_glob(pattern: str) -> bool:
    """Whether a stream argument is a glob (found with SCAN) rather than a literal name."""
    return any(ch in pattern for ch in "*?[")


@dataclass
class RecordOptions:
    """Everything :func:`xtape.capture.record` needs besides the URL and the file."""

    #: Literal stream names and globs (``orders:*``), as typed.
    patterns: list[str]
    #: Where recording starts: a :class:`StartSpec`, or the text ``--from`` takes
    #: (``"now"``, ``"start"``, an id, a time, ``"-5m"``), read by :func:`parse_start`.
    start: StartSpec | str = "now"
    #: Stop after this many seconds (wall clock from the start).
    duration: float | None = None
    #: Stop after exactly this many entries.
    count: int | None = None
    #: Stop when no entry arrived for this many seconds.
    until_idle: float | None = None
    #: Field-name globs whose values are replaced by a keyed digest.
    redact: list[str] = field(default_factory=list)
    #: Match ``redact`` globs case-sensitively (by default ``*token*`` matches ``apiToken``).
    redact_case_sensitive: bool = False
    #: HMAC key for redaction; ``None`` draws a random key per recording (never stored).
    redact_key: bytes | None = field(default=None, repr=False)
    #: fsync the file on every flush.
    fsync: bool = False
    #: How often globs are re-scanned and missing literal names looked for.
    scan_interval: float = 1.0
    #: How long one blocking XREAD waits (also bounds how late a stop is noticed).
    block: float = 0.2
    #: XREAD COUNT per stream and round (lowered automatically for large entries).
    batch: int = 5000
    #: At most this many keys per XREAD command (more streams are read in chunks).
    keys_per_read: int = 500
    #: Globs of stream names never recorded (``--exclude``, repeatable).
    exclude: list[str] = field(default_factory=list)
    #: ``True``: the URL must be a cluster node; ``False``: read it as one server;
    #: ``None``: detected.
    cluster: bool | None = None
    #: Chunk compression of the file: "zstd", "lz4" (the lz4 extra) or "none".
    compression: str = "zstd"
    #: Split into numbered files in a directory at this size (bytes) / age (seconds).
    split_size: int | None = None
    split_duration: float | None = None
    #: With a split: delete the oldest files while the rest cover this many seconds.
    keep_last: float | None = None
    #: Keep the last minutes in memory and write them into a folder on request
    #: (``--snapshot``) instead of writing a recording.
    snapshots: Snapshots | None = field(default=None, repr=False, compare=False)

    @property
    def split(self) -> bool:
        """Whether the output is a directory of numbered files."""
        return self.split_size is not None or self.split_duration is not None

    @property
    def start_spec(self) -> StartSpec:
        """:attr:`start` as a :class:`StartSpec`."""
        return self.start if isinstance(self.start, StartSpec) else parse_start(self.start)

    def __post_init__(self) -> None:
        self.start = self.start_spec
        if not self.patterns:
            raise UsageError("give at least one stream name or glob to record")
        if self.count is not None and self.count <= 0:
            raise UsageError("--count must be above zero")
        if self.batch <= 0 or self.keys_per_read <= 0:
            raise UsageError("batch and keys_per_read must be above zero")
        if not 0.001 <= self.block <= 3600:  # (XREAD BLOCK counts whole ms; also refuses NaN)
            raise UsageError(f"block must be from 0.001 to 3600 seconds, not {self.block!r}")
        if not self.scan_interval > 0:  # (also refuses NaN)
            raise UsageError("--scan-interval must be more than zero")
        if self.redact_key is not None and not self.redact:
            raise UsageError("--redact-key-file goes with --redact FIELD_GLOB")
        from xtape.recording.compression import writable

        writable(self.compression)
        for name, value in (
            ("duration", self.duration),
            ("until_idle", self.until_idle),
            ("split_size", self.split_size),
            ("split_duration", self.split_duration),
            ("keep_last", self.keep_last),
        ):
            if value is not None and not value > 0:  # (also refuses NaN)
                raise UsageError(f"{name} must be more than zero, not {value!r}")
        if self.keep_last is not None and not self.split:
            raise UsageError("keep_last (--keep-last) needs split_size or split_duration")
        if self.snapshots is not None and self.split:
            raise UsageError("--snapshot writes files of its own: drop --split-size/--split-duration")

    def header(self) -> dict[str, Any]:
        """The options as they go into the recording header (no keys, no secrets)."""
        out: dict[str, Any] = {"patterns": list(self.patterns), "from": self.start_spec.text}
        if self.duration is not None:
            out["duration_s"] = self.duration
        if self.count is not None:
            out["count"] = self.count
        if self.until_idle is not None:
            out["until_idle_s"] = self.until_idle
        if self.redact:
            from xtape.capture.redact import redaction_header

            out.update(redaction_header(self.redact, self.redact_key, self.redact_case_sensitive))
        if self.exclude:
            out["exclude"] = list(self.exclude)
        out["scan_interval_s"] = self.scan_interval
        out["compression"] = self.compression
        if self.split_size is not None:
            out["split_size"] = self.split_size
        if self.split_duration is not None:
            out["split_duration_s"] = self.split_duration
        if self.keep_last is not None:
            out["keep_last_s"] = self.keep_last
        return out
