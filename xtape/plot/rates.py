"""Entries per second per stream over a recording, counted in one streaming pass.

The counts live in a fixed number of time buckets over the recording's span (known
beforehand from :func:`xtape.recording.summarize`), so memory depends on the number of
buckets and streams, never on the number of entries. Nothing here needs matplotlib:
``xtape info`` draws its sparklines from the same counts.

The time axis is the replay timeline: offsets from the recording's start on the chosen
time base (the entry ids' milliseconds, or the recorder's capture clock), exactly as
``replay --since``/``--until`` count them.

:func:`index_rates` gives coarse counts (``info``'s 24 buckets) without reading an entry:
from the chunk index of a version-2 file's stored summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path

from xtape.ids import id_ms
from xtape.recording import Recording, RecordingInfo, TimeBase
from xtape.recording.chunks import ChunkMeta
from xtape.timeline import NS_PER_MS, NS_PER_S
from xtape.units import seconds_to_ns

#: Bucket widths the plot picks from (ns): round numbers a reader takes in at a glance.
NICE_BUCKETS_NS: tuple[int, ...] = tuple(
    round(v * NS_PER_MS)
    for v in (
        1, 2, 5, 10, 20, 50, 100, 200, 500,
        1_000, 2_000, 5_000, 10_000, 15_000, 30_000,
        60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
        3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
    )
)  # fmt: skip

#: Events counted at a time (bounds the memory of a block's counter).
_BLOCK = 1 << 16

#: The row that sums the streams that get no row of their own.
OTHER = b"\x00other"


@dataclass
class RateSeries:
    """Entry counts per time bucket, per stream (plus :data:`OTHER`).

    Bucket ``i`` holds the entries whose offset from ``start_ns`` is in
    ``[i * bucket_ns, (i + 1) * bucket_ns)``; ``start_ns`` is an absolute time on the
    series' time base (ns since the epoch), so markers and gaps can be placed on it.
    """

    time_base: TimeBase
    start_ns: int
    span_ns: int
    bucket_ns: int
    buckets: int
    counts: dict[bytes, list[int]] = field(default_factory=dict)
    #: How many streams :data:`OTHER` sums.
    other_streams: int = 0
    entries: int = 0

    @property
    def bucket_s(self) -> float:
        return self.bucket_ns / NS_PER_S

    def rates(self, name: bytes) -> list[float]:
        """Entries per second in each bucket of one row."""
        per = self.bucket_s
        return [c / per for c in self.counts[name]]

    def total(self) -> list[int]:
        """The counts of all rows added up."""
        total = [0] * self.buckets
        for row in self.counts.values():
            for i, c in enumerate(row):
                total[i] += c
        return total

    def peak_rate(self, name: bytes | None = None) -> float:
        """The highest entries/s of one row (or of the total) over any bucket."""
        row = self.total() if name is None else self.counts[name]
        return max(row, default=0) / self.bucket_s


#: Entry ids further than this from the capture clock were set by producers (``1-1``).
_IDS_APART_MS = 366 * 86_400_000


def auto_time_base(info: RecordingInfo) -> TimeBase:
    """The entry ids' time base, unless the ids plainly do not follow the recording's time
    (set by producers: they span far more than the recording took, see
    :meth:`RecordingInfo.id_clock_warning`, or lie over a year from when they were
    read); then the recorder's capture clock."""
    if info.id_clock_warning():
        return "capture"
    ids, read = info.first_ms, info.first_capture_ns
    if ids is not None and read is not None and abs(ids - read // NS_PER_MS) > _IDS_APART_MS:
        return "capture"
    return "id"


def nice_bucket_ns(span_ns: int, target: int) -> int:
    """The smallest round bucket width that covers ``span_ns`` in ``target`` buckets
    or fewer (whole days beyond the ladder)."""
    want = span_ns / max(target, 1)
    for width in NICE_BUCKETS_NS:
        if width >= want:
            return width
    day = NICE_BUCKETS_NS[-1]
    return day * -(-int(want) // day)


def count_rates(
    path: str | Path,
    info: RecordingInfo,
    *,
    time_base: TimeBase = "id",
    buckets: int = 120,
    bucket: float | None = None,
    nice: bool = True,
    rows: Collection[bytes] | None = None,
    streams: Collection[bytes] | None = None,
) -> RateSeries:
    """Count a recording's entries per bucket in one pass over its entries.

    ``info`` is the recording's summary (its span and entry count; the pass reads
    only the entries it counted, so a recording still being written stays consistent
    with it). The span is cut into ``buckets`` buckets (round widths with ``nice``)
    unless ``bucket`` (seconds) fixes the width. Streams in ``rows`` (default: every stream)
    get a row each; other streams (of ``streams``, default all) are summed in
    :data:`OTHER`.
    """
    bucket_ns = None if bucket is None else seconds_to_ns(bucket)
    rec = Recording(path, time_base=time_base, interleave=False)
    # A recording closed cleanly is read to its end, where its summary is held against
    # what the pass read (no marker is shown that the chunks do not hold).
    events = rec.events() if info.complete else islice(rec.events(), info.entries)
    first = next(events, None)
    if first is None:
        return RateSeries(time_base, _start_guess(info, time_base), 0, bucket_ns or NS_PER_S, 0)
    if time_base == "id":
        assert first.id is not None  # a recording's events carry their ids
        # The timeline's start (the earliest id of the recorder's first round): the
        # first event's time less its offset (which is never clamped: it is in that round).
        start = id_ms(first.id) * NS_PER_MS - first.offset_ns
        end = (info.last_ms or 0) * NS_PER_MS
    else:
        start = info.first_capture_ns or 0
        end = info.last_capture_ns or start
    span = max(end - start, 0)
    if bucket_ns is not None:
        width = bucket_ns
    elif nice:
        width = nice_bucket_ns(span, buckets)
    else:
        width = span // max(buckets, 1) + 1
    n = span // width + 1
    wanted = None if streams is None else set(streams)
    own = set(info.streams) if rows is None else set(rows)
    series = RateSeries(time_base, start, span, width, n)
    counts = series.counts
    for name in info.streams:
        if (wanted is None or name in wanted) and name in own:
            counts[name] = [0] * n
    others = [
        name for name in info.streams if (wanted is None or name in wanted) and name not in own
    ]
    if others:
        counts[OTHER] = [0] * n
        series.other_streams = len(others)
    other = counts.get(OTHER)
    row_of: dict[bytes, list[int] | None] = {}
    last = n - 1
    counted = 0
    # Events counted by (stream, offset) in C (Counter over itemgetter), a block at a
    # time; then each distinct pair is put in its bucket: far fewer than the entries,
    # since a batch shares its milliseconds (or its one capture time).
    key = itemgetter(1, 0)
    every = chain((first,), events)
    while True:
        block = Counter(map(key, islice(every, _BLOCK)))
        if not block:
            break
        for (stream, offset), c in block.items():
            try:
                row = row_of[stream]
            except KeyError:
                keep = wanted is None or stream in wanted
                row = row_of[stream] = (counts.get(stream) or other) if keep else None
            if row is not None:
                i = offset // width
                row[i if i < last else last] += c
                counted += c
    series.entries = counted
    return series


#: The chunk index places a chunk's entries only within the chunk's time range, so it
#: is used for the rates only when no chunk spans more than this part of a bucket.
INDEX_RESOLUTION = 4


def index_rates(
    info: RecordingInfo, *, time_base: TimeBase = "id", buckets: int = 24, coarse: bool = False
) -> RateSeries | None:
    """:func:`count_rates` (``nice=False``) from the stored chunk index alone: no entry
    is read. Each chunk's entries of each stream go to the bucket of its time range (the
    range of its entry ids' milliseconds, or of its capture times); a chunk that straddles
    two buckets is split between them in proportion to its time in each. Exact when no
    chunk straddles a bucket boundary; a chunk lasts about a second (the writer's flush
    interval) or 1 MiB of records.

    The span starts at the earliest entry id (``time_base="id"``; the scan starts at the
    earliest id of the recorder's first round, which it nearly always is). None when
    the index cannot tell: no stored summary (version 1, or rebuilt by scanning), or
    (unless ``coarse``) a chunk of several streams without per-stream counts (written
    before they were) or a chunk longer than 1/:data:`INDEX_RESOLUTION` of a bucket.
    ``coarse`` draws those from the index too: fewer (wider) buckets, so that no chunk is
    longer than 1/:data:`INDEX_RESOLUTION` of one (a recording captured within a second
    or so), and where chunks lack per-stream counts, the total alone (in :data:`OTHER`).
    """
    if not info.index or not info.entries:
        return None
    ends = _time_range(info, time_base)
    if ends is None:
        return None
    start, end = ends
    span = max(end - start, 0)
    placed: list[tuple[int, int, ChunkMeta]] = []
    longest = 0
    by_stream = True
    for summary in info.index:
        for chunk in summary.chunks:
            meta = chunk.meta
            if not meta.entries:
                continue
            if time_base == "id":
                lo, hi = meta.min_ms * NS_PER_MS - start, meta.max_ms * NS_PER_MS - start
            else:
                lo, hi = meta.first_capture_ns - start, meta.last_capture_ns - start
            lo = min(max(lo, 0), span)
            hi = min(max(hi, lo), span)
            longest = max(longest, hi - lo)
            by_stream = by_stream and meta.stream_counts() is not None
            placed.append((lo, hi, meta))
    width = span // max(buckets, 1) + 1
    if longest > width // INDEX_RESOLUTION or not by_stream:
        if not coarse:
            return None
        width = max(width, longest * INDEX_RESOLUTION)
    n = span // width + 1
    series = RateSeries(time_base, start, span, width, n)
    counts = series.counts
    if by_stream:
        for name in info.streams:
            counts[name] = [0] * n
    else:
        counts[OTHER] = [0] * n
        series.other_streams = len(info.streams)
    last = n - 1
    for lo, hi, meta in placed:
        first, final = min(lo // width, last), min(hi // width, last)
        per = meta.stream_counts()
        rows = zip(meta.streams, per, strict=True) if per is not None else [((0, OTHER), meta.entries)]
        for (_, name), c in rows:
            if not c:
                continue
            row = counts.get(name) if by_stream else counts[OTHER]
            if row is None:
                row = counts[name] = [0] * n
            _spread(row, c, lo, hi, width, (first, final))
        series.entries += meta.entries
    return series


def _time_range(info: RecordingInfo, time_base: TimeBase) -> tuple[int, int] | None:
    """The first and last time of the recording (ns) by ``time_base``; None if unknown."""
    if time_base == "id":
        if info.first_ms is None or info.last_ms is None:
            return None
        return info.first_ms * NS_PER_MS, info.last_ms * NS_PER_MS
    if info.first_capture_ns is None or info.last_capture_ns is None:
        return None
    return info.first_capture_ns, info.last_capture_ns


def _spread(
    row: list[int], c: int, lo: int, hi: int, width: int, buckets: tuple[int, int]
) -> None:
    """Add the ``c`` entries of a chunk lasting ``lo``..``hi`` to ``row``: all to one
    bucket, or spread over ``buckets`` (first, last) by time, rounding so the counts add
    up to ``c``."""
    first, final = buckets
    if first == final:
        row[first] += c
        return
    given = 0
    for i in range(first, final + 1):
        upto = hi if i == final else (i + 1) * width
        share = c if i == final else c * (upto - lo) // (hi - lo)
        row[i] += share - given
        given = share


def _start_guess(info: RecordingInfo, time_base: TimeBase) -> int:
    if time_base == "id":
        return (info.first_ms or 0) * NS_PER_MS
    return info.first_capture_ns or 0


# -- sparklines -------------------------------------------------------------------------

BLOCKS = "▁▂▃▄▅▆▇█"
#: The same eight levels in plain ASCII, for a terminal that is not UTF-8.
ASCII_LEVELS = "_.-:=+*#"


def sparkline(counts: Sequence[int], *, unicode: bool = True, peak: int | None = None) -> str:
    """One character per bucket: a space for none, else one of eight levels scaled to
    ``peak`` (default: the row's own highest count), rounding up so one entry shows."""
    levels = BLOCKS if unicode else ASCII_LEVELS
    top = max(counts, default=0) if peak is None else peak
    if top <= 0:
        return " " * len(counts)
    out = []
    for c in counts:
        if c <= 0:
            out.append(" ")
        else:
            out.append(levels[min(len(levels) - 1, -(-c * len(levels) // top) - 1)])
    return "".join(out)


def can_draw_blocks(encoding: str | None) -> bool:
    """Whether text in ``encoding`` can hold the block characters."""
    if not encoding:
        return False
    try:
        BLOCKS.encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


@dataclass(frozen=True)
class Sparklines:
    """``xtape info``'s picture of the rate: one line for all streams, one per stream,
    each scaled to its own peak (the shape shows; the figures beside it give the size)."""

    total: str
    streams: dict[bytes, str]
    bucket_ns: int
    #: Entries per second in the busiest bucket, all streams together.
    peak_rate: float
    #: What they were counted from: "chunk index" (:func:`index_rates`, no entry read)
    #: or "entries" (:func:`count_rates`, a pass over the entries).
    source: str
    #: The counts drawn.
    series: RateSeries
    #: From the index, but coarser than asked: its chunks are long against the span (a
    #: recording captured within a second or so) or lack per-stream counts (then only
    #: the total is known). A pass over the entries (``scan``) draws it finer.
    coarse: bool = False


def sparklines(
    path: str | Path | None,
    info: RecordingInfo,
    *,
    width: int = 24,
    unicode: bool = True,
    time_base: TimeBase | None = None,
    scan: bool = False,
) -> Sparklines | None:
    """The sparklines of a recording (``width`` buckets over the span of ``info``, its
    summary): from the stored chunk index when there is one (:func:`index_rates`,
    coarser where its chunks are long against the span: never a pass over the entries),
    else, or with ``scan``, by a pass over the entries of ``path`` (none with
    ``path=None``). None when it has no entries."""
    if not info.entries:
        return None
    use = time_base or auto_time_base(info)
    series = None
    coarse = False
    if not (scan and path is not None):
        series = index_rates(info, time_base=use, buckets=width)
        if series is None:
            series = index_rates(info, time_base=use, buckets=width, coarse=True)
            coarse = series is not None
    source = "chunk index"
    if series is None:
        if path is None:
            return None
        series = count_rates(path, info, time_base=use, buckets=width, nice=False)
        source = "entries"
    if not series.entries:
        return None
    total = series.total()
    return Sparklines(
        total=sparkline(total, unicode=unicode),
        streams={name: sparkline(row, unicode=unicode) for name, row in series.counts.items()},
        bucket_ns=series.bucket_ns,
        peak_rate=max(total) / series.bucket_s,
        source=source,
        series=series,
        coarse=coarse,
    )
