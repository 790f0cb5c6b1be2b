"""Recording -> scenario: the captured traffic as a YAML file a person wants to edit.

One event per entry, ``delay`` in ms from the previous event, payloads as text (bytes
that are not UTF-8 as ``!!binary``), the original ``id`` kept for ``--keep-ids``.
Whatever the options, replaying the scenario publishes the same fields, byte for byte,
as replaying the recording.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from xtape.errors import UsageError
from xtape.recording import Recording
from xtape.recording.reader import Clock
from xtape.scenario import dump_scenario_yaml, event_from_fields
from xtape.timeline import NS_PER_MS, NS_PER_S, Event
from xtape.transform import Transform


@dataclass
class ConvertOptions:
    """What to take from the recording and how to shape the scenario."""

    streams: list[str] = field(default_factory=list)
    since_s: float | None = None
    until_s: float | None = None
    limit: int | None = None
    max_delay_ms: float | None = None
    collapse_repeats: bool = False
    name: str | None = None
    description: str | None = None
    clock: Clock = "id"


@dataclass
class ConvertResult:
    """The scenario document and what went into it."""

    document: dict[str, Any]
    entries: int
    events: int
    streams: list[str]


def select(events: Iterable[Event], options: ConvertOptions) -> Iterator[Event]:
    """The events of the recording that the options keep: the same stream and time
    selection as ``xtape replay`` (:class:`~xtape.transform.Transform`), then ``limit``."""
    window = Transform(
        streams=tuple(options.streams),
        since_ns=None if options.since_s is None else int(options.since_s * NS_PER_S),
        until_ns=None if options.until_s is None else int(options.until_s * NS_PER_S),
    )
    return islice(window.apply(events), options.limit)


def _ms(ns: int) -> int | float:
    """Nanoseconds as ms: an int where whole (id clock), else rounded to microseconds."""
    if ns % NS_PER_MS == 0:
        return ns // NS_PER_MS
    return round(ns / NS_PER_MS, 3)


@dataclass
class _Run:
    """A run of equal payloads on one stream at a steady interval (for collapsing)."""

    first: Event
    delay_ns: int
    count: int = 1
    interval_ns: int | None = None


def convert(path: str | Path, options: ConvertOptions | None = None) -> ConvertResult:
    """Read a recording and build the scenario document (see :func:`dump`)."""
    options = options or ConvertOptions()
    rec = Recording(path, clock=options.clock)
    runs: list[_Run] = []
    previous: int | None = None
    streams: dict[bytes, None] = {}
    entries = 0
    for event in select(rec.events(), options):
        entries += 1
        streams[event.stream] = None
        # Offsets can step back a little where streams were read in different rounds
        # (a stream found later by a glob is backfilled): such an event follows at once.
        delay = 0 if previous is None else max(event.offset_ns - previous, 0)
        previous = event.offset_ns if previous is None else max(previous, event.offset_ns)
        if options.max_delay_ms is not None:
            delay = min(delay, int(options.max_delay_ms * NS_PER_MS))
        last = runs[-1] if runs else None
        if (
            options.collapse_repeats
            and last is not None
            and _same(last.first, event)
            and (last.interval_ns is None or last.interval_ns == delay)
        ):
            last.interval_ns = delay
            last.count += 1
            continue
        runs.append(_Run(event, delay))
    if not runs:
        raise UsageError(
            f"{path}: no entries match the selection (--stream/--since/--until/--limit); "
            "no scenario written (xtape info shows what the recording holds)"
        )
    document: dict[str, Any] = {
        "name": options.name or Path(path).stem,
        "description": options.description
        or f"Converted by xtape from {Path(path).name}: {entries} entries on {len(streams)} stream(s).",
        "events": [_event(run) for run in runs],
    }
    return ConvertResult(
        document=document,
        entries=entries,
        events=len(runs),
        streams=[s.decode("utf-8", errors="replace") for s in streams],
    )


def _same(a: Event, b: Event) -> bool:
    return a.stream == b.stream and tuple(a.flat) == tuple(b.flat)


def _event(run: _Run) -> dict[str, Any]:
    event = run.first
    _check_stream_name(event.stream)
    out = event_from_fields(
        event.stream,
        event.fields,
        delay=_ms(run.delay_ns),
        id=event.id if run.count == 1 else None,
    )
    if run.count > 1:
        out["repeat"] = run.count
        if run.interval_ns:
            out["interval"] = _ms(run.interval_ns)
    return out


def _check_stream_name(name: bytes) -> None:
    """A scenario's stream names are non-empty UTF-8 text; Redis's names are any bytes."""
    problem = ""
    if not name:
        problem = "the empty stream name"
    else:
        try:
            name.decode("utf-8")
        except UnicodeDecodeError:
            problem = f"stream name {name!r}, which is not UTF-8,"
    if problem:
        raise UsageError(
            f"{problem} cannot be written in a scenario; leave that stream out with "
            "--stream, or replay the recording itself"
        )


def dump(result: ConvertResult) -> str:
    """The scenario as YAML text."""
    return dump_scenario_yaml(result.document)
