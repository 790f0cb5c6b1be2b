"""``xtape cut``: a recording -> a smaller recording, in flat memory.

What is kept: the streams matching ``--stream`` and none of ``--exclude``, the entries
inside ``--since``/``--until`` (offsets as ``replay`` and ``convert`` count them, on
the ``--clock`` they take), those ``--where`` holds true for and those in ``--sample``
(:mod:`xtape.shape`). Each kept entry is written as it was read: the same id, the same
fields byte for byte (unless ``--redact`` names them), the same capture time, in the
same order; what one recorder round read stays one round.

Gaps and markers inside the window are kept: with no ``--since``, those before the
first entry too; with no ``--until``, those after the last; otherwise those between
two entries of the window (in file order). A gap of a stream left out goes with it.

``--redact FIELD_GLOB`` replaces the values of matching fields after the fact with the
digests the recorder writes (:class:`xtape.capture.redact.Redactor`, the same rules);
the header says so, as a recording redacted at capture does.

The output is written beside its name and renamed onto it once whole (a failure leaves
nothing); with ``split_size``/``split_duration`` it is a series of numbered files in
a folder (:class:`xtape.recording.split.SplitWriter`), the duration counted on the
recording's capture clock, not the time the cut takes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xtape.errors import UsageError
from xtape.outputs import replacing_binary
from xtape.recording import Recording, RecordingWriter, TimeBase
from xtape.recording.records import Entries, Gap, Marker, StreamDef
from xtape.recording.split import SplitWriter
from xtape.timeline import NS_PER_MS, NS_PER_S
from xtape.transform import window_ns
from xtape.units import match_any

if TYPE_CHECKING:
    from xtape.capture.redact import Redactor
    from xtape.shape import EntryTest


@dataclass(frozen=True)
class CutOptions:
    """What ``cut`` keeps and how it writes it. ``since``/``until`` and
    ``split_duration`` are seconds (the API's unit); :attr:`since_ns` and
    :attr:`until_ns` are the window in the timeline's nanoseconds."""

    streams: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    since: float | None = None
    until: float | None = None
    time_base: TimeBase = "id"
    #: ``--where``/``--sample`` (:func:`xtape.shape.selection`).
    keep: EntryTest | None = None
    redact: tuple[str, ...] = ()
    redact_case_sensitive: bool = False
    redact_key: bytes | None = field(default=None, repr=False)
    compression: str = "zstd"
    split_size: int | None = None
    split_duration: float | None = None
    since_ns: int | None = field(default=None, init=False, repr=False, compare=False)
    until_ns: int | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        since_ns, until_ns = window_ns(self.since, self.until)
        object.__setattr__(self, "since_ns", since_ns)
        object.__setattr__(self, "until_ns", until_ns)
        if self.redact_key is not None and not self.redact:
            raise UsageError("--redact-key-file goes with --redact FIELD_GLOB")
        from xtape.recording.compression import writable

        writable(self.compression)

    @property
    def split(self) -> bool:
        return self.split_size is not None or self.split_duration is not None

    @property
    def window(self) -> bool:
        return self.since_ns is not None or self.until_ns is not None

    def header(self, source: str) -> dict[str, Any]:
        """What the output's header says of the cut (no key, no secret)."""
        out: dict[str, Any] = {"from": source}
        for key in ("streams", "exclude"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        for key in ("since_ns", "until_ns"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.window:
            out["clock"] = self.time_base
        return out


@dataclass
class CutStats:
    """What went into the output."""

    read: int = 0
    entries: int = 0
    streams: dict[bytes, int] = field(default_factory=dict)
    gaps: int = 0
    markers: int = 0
    #: The files written (one, or a split's numbered files).
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _CaptureTime:
    """The split's clock: the capture time of what is being written, in seconds."""

    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> float:
        return self.ns / NS_PER_S


class _Cutter:
    """One pass over the records of ``rec``, writing what the options keep."""

    def __init__(self, rec: Recording, options: CutOptions, base: int | None, open_writer: Any) -> None:
        self.rec = rec
        self.options = options
        self.base = base or 0
        self.by_ids = options.time_base == "id"
        self.open_writer = open_writer
        self.writer: RecordingWriter | SplitWriter | None = None
        self.clock = _CaptureTime()
        self.stats = CutStats()
        self.redactor = _redactor(options)
        self._wanted: dict[bytes, bool] = {}
        #: Whether an entry of the window was read (with no --since: from the start).
        self.started = options.since_ns is None
        #: Gaps and markers after the window's last entry so far (kept if another follows).
        self.pending: list[Marker | tuple[bytes, Gap]] = []
        #: With --split-size: a chunk every so many bytes of entries (the writer's own
        #: flushes come every 1 MiB or every second, too coarse for small files).
        self.flush_every = None if options.split_size is None else max(options.split_size // 8, 16_384)
        self.unflushed = 0

    def wanted(self, stream: bytes) -> bool:
        found = self._wanted.get(stream)
        if found is None:
            opt = self.options
            found = (not opt.streams or match_any(stream, opt.streams)) and not (
                opt.exclude and match_any(stream, opt.exclude)
            )
            if len(self._wanted) < 100_000:
                self._wanted[stream] = found
        return found

    def out(self, capture_ns: int) -> RecordingWriter | SplitWriter:
        self.clock.ns = capture_ns
        if self.writer is None:
            self.writer = self.open_writer(self.clock)
        return self.writer

    def run(self, bounds: Any) -> CutStats:
        names: dict[int, bytes] = {}
        for record in self.rec.records(bounds=bounds):
            if isinstance(record, Entries):
                self.entries(names[record.stream_id], record)
            elif isinstance(record, StreamDef):
                names[record.stream_id] = record.name
            elif isinstance(record, Gap):
                stream = names.get(record.stream_id, b"")
                if self.wanted(stream):
                    self.event((stream, record))
            elif isinstance(record, Marker):
                self.event(record)
        return self.stats

    def event(self, item: Marker | tuple[bytes, Gap]) -> None:
        if not self.started:
            return
        if self.options.until_ns is None:
            self.write_event(item)
        else:
            self.pending.append(item)

    def write_event(self, item: Marker | tuple[bytes, Gap]) -> None:
        if isinstance(item, Marker):
            self.out(item.capture_ns).write_marker(item.kind, item.text, item.capture_ns)
            self.stats.markers += 1
        else:
            stream, gap = item
            self.out(gap.capture_ns).write_gap(stream, gap.after_id, gap.before_id, gap.lost, gap.capture_ns)
            self.stats.gaps += 1

    def entries(self, stream: bytes, record: Entries) -> None:
        opt = self.options
        since, until = opt.since_ns, opt.until_ns
        keep = opt.keep
        wanted = self.wanted(stream)
        self.stats.read += len(record.entries)
        kept: list[Any] = []
        for entry in record.entries:
            if since is not None or until is not None:
                if self.by_ids:
                    offset = int(entry[0].partition(b"-")[0]) * NS_PER_MS - self.base
                else:
                    offset = record.capture_ns - self.base
                if (since is not None and offset < since) or (until is not None and offset >= until):
                    continue
                self.started = True
                if self.pending:
                    for item in self.pending:
                        self.write_event(item)
                    self.pending.clear()
            if not wanted or (keep is not None and not keep(stream, entry[0], entry[1])):
                continue
            kept.append(entry)
        if not kept:
            return
        if self.redactor is not None:
            kept = [[entry_id, list(flat)] for entry_id, flat in kept]
            self.redactor.apply(kept)
        writer = self.out(record.capture_ns)
        writer.write_entries(stream, kept, record.capture_ns)
        self.stats.entries += len(kept)
        if self.flush_every:
            self.unflushed += sum(len(part) for _, flat in kept for part in flat)
            if self.unflushed >= self.flush_every:
                writer.flush()  # a chunk ends here, so --split-size sees the file grow
                self.unflushed = 0
        self.stats.streams[stream] = self.stats.streams.get(stream, 0) + len(kept)


def _redactor(options: CutOptions) -> Redactor | None:
    if not options.redact:
        return None
    from xtape.capture.redact import Redactor  # (only with --redact)

    return Redactor(list(options.redact), options.redact_key, case_sensitive=options.redact_case_sensitive)


def _writer_options(rec: Recording, options: CutOptions) -> dict[str, Any]:
    header_options: dict[str, Any] = dict(rec.header.options)
    header_options["cut"] = options.header(rec.name)
    if options.redact:
        from xtape.capture.redact import redaction_header

        said = redaction_header(list(options.redact), options.redact_key, options.redact_case_sensitive)
        before = header_options.get("redact")
        if isinstance(before, list) and before:  # redacted at capture too: both sets of globs
            said["redact"] = list(dict.fromkeys([*before, *said["redact"]]))
            if header_options.get("redact_key_id") != said.get("redact_key_id"):
                said.pop("redact_key_id", None)  # two keys: no value comparison by either
                header_options.pop("redact_key_id", None)
                said["redaction"] = "hmac-sha256, the capture's key and the cut's"
        header_options.update(said)
    return {
        "source": dict(rec.header.source),
        "options": header_options,
        "compression": options.compression,
    }


def cut(source: str | Path, output: str | Path, options: CutOptions | None = None) -> CutStats:
    """Write what ``options`` keep of the recording ``source`` into ``output`` (a file,
    ``-`` for standard output, or with a split the folder of its numbered files)."""
    options = options or CutOptions()
    rec = Recording(source, time_base=options.time_base)
    if rec.one_pass and options.window:
        raise UsageError("--since/--until read the start of the recording first: cut a file, not standard input")
    base = rec.timeline_start(options.time_base) if options.window else None
    bounds = None
    if options.since_ns is not None and base is not None:  # (a seek skips what precedes the window)
        lo = base + options.since_ns
        hi = None if options.until_ns is None else base + options.until_ns
        bounds = (lo, hi, options.time_base == "id")
    writer_options = _writer_options(rec, options)
    if options.split:
        cutter = _Cutter(rec, options, base, lambda clock: SplitWriter(
            output,
            split_size=options.split_size,
            split_duration=options.split_duration,
            now=clock,
            **writer_options,
        ))
        try:
            stats = _finish(cutter, bounds)
        except BaseException:
            if isinstance(cutter.writer, SplitWriter):
                cutter.writer.close()
                cutter.writer.remove_created()
            raise
        assert isinstance(cutter.writer, SplitWriter)
        stats.files = list(cutter.writer.created)
    else:
        with _target(output) as target:
            cutter = _Cutter(rec, options, base, lambda clock: RecordingWriter(target, **writer_options))
            stats = _finish(cutter, bounds)
        stats.files = [] if str(output) == "-" else [Path(output)]
    _warnings(rec, cutter, stats)
    return stats


def _finish(cutter: _Cutter, bounds: Any) -> CutStats:
    stats = cutter.run(bounds)
    if cutter.writer is None or not stats.entries:
        if cutter.writer is not None:
            cutter.writer.close()
        raise UsageError(
            f"{cutter.rec.name}: no entries match the selection "
            "(--stream/--exclude/--since/--until/--where/--sample); nothing written "
            "(xtape info shows what the recording holds)"
        )
    cutter.writer.close()
    return stats


@contextlib.contextmanager
def _target(output: str | Path) -> Iterator[Any]:
    if str(output) == "-":
        yield "-"
        return
    with replacing_binary(output) as fh:
        yield fh


def _warnings(rec: Recording, cutter: _Cutter, stats: CutStats) -> None:
    if cutter.redactor is not None:
        for glob in cutter.redactor.unmatched():
            stats.warnings.append(f"--redact {glob!r} matched no field name of the entries kept")
    if rec.truncated_bytes:
        stats.warnings.append(
            f"{rec.name}: the last {rec.truncated_bytes} bytes are an incomplete record (skipped)"
        )


__all__ = ["CutOptions", "CutStats", "cut"]
