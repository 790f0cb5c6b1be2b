"""Recording -> scenario: the captured traffic as a YAML file a person wants to edit.

One event per entry, ``delay`` in ms from the previous event, payloads as text (bytes
that are not UTF-8 as ``!!binary``), the original ``id`` kept for ``--keep-ids``. A
payload a codec reads (FastStream's envelope, taskiq's task, JSON; see
:mod:`xtape.convert_codecs`) is written decoded, with the codec in ``codecs:``.
Whatever the options, replaying the scenario publishes the same fields, byte for byte,
as replaying the recording.

The conversion streams: entries are read, selected and written one at a time, so memory
stays flat whatever the size of the recording. The events are written to a temporary
file beside the output (the description counts them), which becomes the output only
when it is whole.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from xtape.codecs import CodecResolver
from xtape.convert_codecs import ConvertCodecs, has_braces
from xtape.convert_yaml import EventWriter, header_text, item_text
from xtape.errors import RuntimeFailure, UsageError
from xtape.outputs import replacing
from xtape.recording import Recording, RecordingInfo, TimeBase, summarize
from xtape.recording.info import gap_warning, truncation_warning
from xtape.recording.records import Gap
from xtape.scenario import event_from_fields
from xtape.timeline import NS_PER_MS, Event
from xtape.transform import Transform, window_ns
from xtape.units import plural, seconds_to_ns

if TYPE_CHECKING:
    from xtape.shape import EntryTest


@dataclass
class ConvertOptions:
    """What to take from the recording and how to shape the scenario. Durations in
    seconds (floats), as every option of the API."""

    streams: list[str] = field(default_factory=list)
    #: The window, as offsets from the recording's start (see ``Recording.events``).
    since: float | None = None
    until: float | None = None
    limit: int | None = None
    #: Cap every delay between events at this.
    max_delay: float | None = None
    #: Fold runs of equal payloads on one stream at a steady interval into ``repeat``.
    collapse_repeats: bool = False
    #: How far the intervals of a folded run may be from one value (+/-); the run's
    #: interval is then their mean in whole ms, and the next event keeps its time.
    jitter: float = 0.0
    name: str | None = None
    description: str | None = None
    time_base: TimeBase = "id"
    #: ``--codec`` choices, ``(stream glob, codec)``; streams none names are detected.
    codecs: list[tuple[str, str]] = field(default_factory=list)
    #: ``--where``/``--sample``: which entries to take (:func:`xtape.shape.selection`).
    keep: EntryTest | None = None

    def __post_init__(self) -> None:
        if not self.jitter >= 0 or (self.max_delay is not None and not self.max_delay >= 0):
            raise UsageError("--jitter and --max-delay must not be negative")
        if self.jitter and not self.collapse_repeats:
            raise UsageError("--jitter applies to --collapse-repeats; add --collapse-repeats")
        window_ns(self.since, self.until)  # (checks --since and --until now, not after reading)

    @property
    def window(self) -> Transform:
        """The stream and time selection, as ``xtape replay`` makes it (which also
        holds the window in the timeline's nanoseconds)."""
        return Transform(streams=tuple(self.streams), since=self.since, until=self.until, keep=self.keep)


@dataclass(frozen=True)
class ConvertProgress:
    """How far a conversion is: ``read`` of the recording's ``total`` entries (``None``
    when the recording comes through a pipe, which is read once, as it comes)."""

    read: int
    total: int | None
    entries: int
    events: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Entries read per second."""
        return self.read / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def fraction(self) -> float | None:
        if self.total is None:
            return None
        return min(self.read / self.total, 1.0) if self.total else 1.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the current rate (an upper bound with ``--limit``/``--until``)."""
        rate = self.rate
        if self.total is None or rate <= 0:
            return None
        return max(self.total - self.read, 0) / rate


ProgressFn = Callable[[ConvertProgress], None]
WarnFn = Callable[[str], None]


@dataclass
class ConvertReport:
    """What went into the scenario."""

    entries: int
    events: int
    streams: list[str]
    #: Gaps in the recording (entries trimmed from Redis before they were recorded).
    gaps: int = 0
    elapsed_s: float = 0.0
    #: What the codec resolver chose, one line per decoded stream.
    codecs: list[str] = field(default_factory=list)


def select(events: Iterable[Event], options: ConvertOptions) -> Iterator[Event]:
    """The events of the recording that the options keep: the same stream and time
    selection as ``xtape replay`` (:class:`~xtape.transform.Transform`: streams, window,
    ``--where``, ``--sample``), then ``limit``."""
    return islice(options.window.apply(events), options.limit)


def _ms(ns: int) -> int | float:
    """Nanoseconds as ms: an int where whole (id time base), else rounded to microseconds."""
    if ns % NS_PER_MS == 0:
        return ns // NS_PER_MS
    return round(ns / NS_PER_MS, 3)


class _Run:
    """A run of equal payloads on one stream (for collapsing): its first event, the
    delay before it, and the intervals after it (count, sum, min, max)."""

    __slots__ = ("count", "delay_ns", "first", "hi", "lo", "total")

    def __init__(self, first: Event, delay_ns: int) -> None:
        self.first = first
        self.delay_ns = delay_ns
        self.count = 1
        self.total = 0
        self.lo = self.hi = 0

    def joins(self, event: Event, delay_ns: int, jitter_ns: int) -> bool:
        """Add ``event`` (``delay_ns`` after the previous one) if it continues the run:
        the same stream and fields, and the run's intervals all within ``jitter_ns`` of
        one value (longest - shortest <= 2 * jitter)."""
        first = self.first
        if event.stream != first.stream or tuple(event.flat) != tuple(first.flat):
            return False
        if self.count > 1:
            lo, hi = min(self.lo, delay_ns), max(self.hi, delay_ns)
            if hi - lo > 2 * jitter_ns:
                return False
            self.lo, self.hi = lo, hi
            total = self.total + delay_ns
        else:
            total = delay_ns
            self.lo = self.hi = delay_ns
        self.total = total
        self.count += 1
        return True

    def interval_ns(self, whole_ms: bool) -> int:
        """The interval written: the mean, in whole ms (``whole_ms``, when intervals
        may vary) or to the microsecond (the precision of the scenario's ms)."""
        if self.count < 2:
            return 0
        step = NS_PER_MS if whole_ms else 1000
        return round(self.total / (self.count - 1) / step) * step

    def drift_ns(self, whole_ms: bool) -> int:
        """How much earlier the run ends in the scenario than in the recording."""
        return self.total - (self.count - 1) * self.interval_ns(whole_ms)


def convert(
    path: str | Path,
    output: str | Path | IO[str],
    options: ConvertOptions | None = None,
    *,
    progress: ProgressFn | None = None,
    warn: WarnFn | None = None,
    progress_every: float = 0.25,
) -> ConvertReport:
    """Convert the recording at ``path`` into a scenario written to ``output`` (a path,
    replaced only once the scenario is whole, or an open text stream).

    Reads a file twice: once for its summary (entries, gaps: cheap, entries are not
    unpacked), once to convert; standard input (``"-"``) or a pipe once, so it has no
    total for progress and its gaps are warned about at the end. ``warn`` gets one line
    per thing worth knowing (gaps, a truncated tail); ``progress`` is called every
    ``progress_every`` seconds.
    """
    options = options or ConvertOptions()
    started = time.monotonic()
    rec = Recording(path, time_base=options.time_base)
    say = warn or (lambda _message: None)
    info = None if rec.one_pass else summarize(path)
    if info is not None:
        _warn_about(info, say)
    total = None if info is None else info.entries
    try:
        if isinstance(output, (str, Path)):
            with replacing(output) as out:
                report = _convert(rec, out, options, total, started, progress, progress_every)
        else:
            report = _convert(rec, output, options, total, started, progress, progress_every)
    except BrokenPipeError:
        raise
    except OSError as exc:
        where = output if isinstance(output, (str, Path)) else "the scenario"
        raise RuntimeFailure(f"cannot write {where}: {exc.strerror or exc}") from None
    if info is None:  # a one-pass recording: what its pass found
        assert rec.summary is not None
        gaps: Sequence[tuple[bytes, Gap]] = rec.summary.gaps
        for warning in (
            gap_warning(rec.name, gaps, _GAPS_MEAN),
            truncation_warning(rec.name, rec.summary.truncated_bytes),
        ):
            if warning:
                say(warning)
    else:
        gaps = info.gaps
    report.gaps = len(gaps)
    return report


_GAPS_MEAN = "the scenario lacks them too"


def _warn_about(info: RecordingInfo, say: WarnFn) -> None:
    for warning in (info.gap_warning(_GAPS_MEAN), info.truncation_warning()):
        if warning:
            say(warning)


def _convert(
    rec: Recording,
    out: IO[str],
    options: ConvertOptions,
    total: int | None,
    started: float,
    progress: ProgressFn | None,
    every_s: float,
) -> ConvertReport:
    path = rec.name
    if not rec.one_pass:
        window = options.window
        rec.window(window.since_ns, window.until_ns)  # (v2: skips the chunks before the window)
    read = 0

    def counted(events: Iterator[Event]) -> Iterator[Event]:
        nonlocal read
        for read, event in enumerate(events, 1):  # noqa: B007 (read is the count so far)
            yield event

    writer = EventWriter()
    chosen: list[str] = []
    codecs = ConvertCodecs(CodecResolver(options.codecs, report=chosen.append))
    streams: dict[bytes, str] = {}
    entries = events = 0
    max_delay = None if options.max_delay is None else seconds_to_ns(options.max_delay)
    collapse, jitter = options.collapse_repeats, seconds_to_ns(options.jitter)
    whole_ms = jitter > 0
    previous: int | None = None
    run: _Run | None = None
    next_report = started + every_s
    # The events go to a scratch file first: the description, written above them,
    # counts them.
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as body:
        write = body.write

        def flush(run: _Run) -> int:
            """Write the run as one event; how much its interval's rounding moved its end."""
            event = run.first
            delay, interval = _ms(run.delay_ns), _ms(run.interval_ns(whole_ms))
            decoded = codecs.payload(event.stream, event.flat)
            if decoded is None:
                # (the reader has checked every entry's shape: fields are bytes, in pairs)
                text = writer.text(
                    streams[event.stream], event.flat, delay=delay, id=event.id,
                    repeat=run.count, interval=interval,
                )
            else:
                text = _decoded_text(streams[event.stream], event, decoded, delay, run.count, interval)
            write(text)
            return run.drift_ns(whole_ms)

        for event in select(counted(rec.events()), options):
            entries += 1
            if event.stream not in streams:
                streams[event.stream] = _stream_name(event.stream)
            # Offsets can step back a little where streams were read in different rounds
            # (a stream found later by a glob is backfilled): such an event follows at once.
            offset = event.offset_ns
            delay = 0 if previous is None else max(offset - previous, 0)
            previous = offset if previous is None else max(previous, offset)
            if max_delay is not None and delay > max_delay:
                delay = max_delay
            if run is not None:
                if collapse and run.joins(event, delay, jitter):
                    continue
                # the next event keeps its time however the run's interval was rounded
                delay = max(delay + flush(run), 0)
                events += 1
            run = _Run(event, delay)
            if progress is not None and not entries & 1023:
                now = time.monotonic()
                if now >= next_report:
                    next_report = now + every_s
                    progress(ConvertProgress(read, total, entries, events, now - started))
        if run is None:
            raise UsageError(
                f"{path}: no entries match the selection (--stream/--since/--until/--where/--sample/--limit); "
                "no scenario written (xtape info shows what the recording holds)"
            )
        flush(run)
        events += 1
        if progress is not None:
            progress(ConvertProgress(read, total, entries, events, time.monotonic() - started))
        name = options.name or (Path(path).stem if rec.path is not None else "stdin")
        description = options.description or (
            f"Converted by xtape from {Path(path).name}: {plural(entries, 'entry', 'entries')} on "
            f"{plural(len(streams), 'stream')}."
        )
        out.write(header_text(name, description, codecs.scenario_codecs(streams)))
        body.seek(0)
        shutil.copyfileobj(body, out, 1 << 16)
        out.flush()
    return ConvertReport(
        entries=entries,
        events=events,
        streams=list(streams.values()),
        elapsed_s=time.monotonic() - started,
        codecs=chosen,
    )


def _decoded_text(
    stream: str, event: Event, decoded: tuple[str | None, Any], delay: int | float, repeat: int, interval: int | float
) -> str:
    """An event whose payload is written decoded (or as fields with ``codec: raw``)."""
    key, value = decoded
    if value is None:  # a decoded stream's entry its codec does not reproduce
        item = event_from_fields(stream, event.fields, delay=delay, id=event.id)
    else:
        item = {"stream": stream, **({"delay": delay} if delay else {}), "payload": value}
        if has_braces(value):
            item["template"] = False
        if event.id is not None:
            item["id"] = event.id.decode("ascii")
    if key is not None:
        item["codec"] = key
    if repeat > 1:
        item.pop("id", None)
        item["repeat"] = repeat
        if interval:
            item["interval"] = interval
    return item_text(item)


def _stream_name(name: bytes) -> str:
    """A scenario's stream names are non-empty UTF-8 text; Redis's names are any bytes."""
    problem = ""
    if not name:
        problem = "the empty stream name"
    else:
        try:
            return name.decode("utf-8")
        except UnicodeDecodeError:
            problem = f"stream name {name!r}, which is not UTF-8,"
    raise UsageError(
        f"{problem} cannot be written in a scenario; leave that stream out with "
        "--stream, or replay the recording itself"
    )


__all__ = [
    "ConvertOptions",
    "ConvertProgress",
    "ConvertReport",
    "ProgressFn",
    "WarnFn",
    "convert",
    "select",
]
