"""Opening what ``xtape replay`` plays: a scenario or a recording, told apart by content.

    open_source(path, ...) -> OpenedSource

A :class:`OpenedSource` is a :class:`~xtape.timeline.Source` that also carries what a
replay wants to know before it starts: the warnings to show (gaps, a truncated tail,
ids that span far more than the recording took), the seed its generators use, and the
size of a pass (entries, per stream, and its time span) for progress and ETA.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from xtape.errors import RecordingError, UsageError
from xtape.replay.options import ReplayOptions
from xtape.replay.scheduler import Pacing
from xtape.timeline import NS_PER_MS, ScheduleFn, Source, Timeline

if TYPE_CHECKING:
    from xtape.recording import Recording, TimeBase
    from xtape.scenario.render import PayloadCheck

SourceKind = Literal["recording", "scenario"]

#: The first byte of a msgpack map (fixmap, map 16, map 32): a recording's header.
#: Text (YAML, JSON) never starts with 0x80-0x8f; 0xde/0xdf would be a rare UTF-8 lead
#: byte, and a file starting with one is checked for the magic like any recording.
_MAP_LEADS = frozenset([*range(0x80, 0x90), 0xDE, 0xDF])
_SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


def _plainly_scenario(path: str | Path) -> bool:
    """Whether ``path`` is a file named as a scenario whose first byte no recording
    starts with: a scenario, told without importing the recording modules (~0.02 s of
    a scenario replay's start)."""
    if str(path) == "-" or Path(path).suffix.lower() not in _SCENARIO_SUFFIXES:
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(1)
    except OSError:
        return False  # (said as usual below)
    return not head or head[0] not in _MAP_LEADS


@dataclass
class OpenedSource:
    """A source opened for replay: its timeline and what is known about it up front."""

    source: Source
    kind: SourceKind
    #: Said once, before the replay starts (the CLI prints them as warnings).
    warnings: list[str] = field(default_factory=list)
    #: The seed the scenario's generators use (``None``: nothing random in it).
    seed: int | None = None
    #: Entries per pass, in all and per source stream (``None`` where unknown).
    count: int | None = None
    stream_counts: dict[bytes, int] | None = None
    #: Read from a pipe as it comes (standard input): paced without waiting on it.
    live: bool = False
    #: The offset of a pass's last event, in ns (``None`` where unknown).
    span_ns: int | None = None

    def __post_init__(self) -> None:
        self.name: str = self.source.name

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Timeline:
        return self.source.timeline(iteration, schedule)


def source_kind(path: str | Path) -> SourceKind:
    """What ``path`` (``"-"``: standard input, peeked at) holds for a replay: a
    recording or a scenario, by its content (:func:`xtape.recording.has_recording_header`),
    whatever its name. A file named ``*.xtape`` counts as one too, so that it is refused as "not
    an xtape recording" rather than as a broken scenario. A directory or a glob is a
    split recording."""
    if _plainly_scenario(path):
        return "scenario"
    from xtape.recording import has_recording_header
    from xtape.recording.reader import set_parts

    if str(path) != "-":
        if set_parts(path) is not None:
            return "recording"
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise RecordingError(str(path), f"cannot open: {exc.strerror or exc}") from None
    if has_recording_header(path) or Path(path).suffix.lower() == ".xtape":
        return "recording"
    return "scenario"


def open_source(
    path: str | Path,
    options: ReplayOptions | None = None,
    *,
    variables: dict[str, str] | None = None,
    seed: int | None = None,
    time_base: TimeBase | None = None,
    catalog: PayloadCheck | None = None,
) -> OpenedSource:
    """Open ``path`` for replay: a recording (by its content) or a scenario.

    ``variables`` and ``seed`` apply to scenarios, ``time_base`` to recordings (``"id"`` by
    default). ``options`` (the replay's) decide which warnings matter and let a
    recording skip merging streams by id when nothing is timed. Invalid input raises
    an :class:`~xtape.errors.InputError` before anything is published. A scenario's
    rendered events are checked against ``catalog`` (a :class:`xtape.catalog.Catalog`),
    if given; a recording is played as it was recorded.
    """
    pacing = (options or ReplayOptions()).pacing
    if source_kind(path) == "recording":
        if variables or seed is not None:
            raise UsageError("--variable and --seed apply to scenarios, not to recordings")
        transform = (options or ReplayOptions()).transform
        return _open_recording(
            path, time_base or "id", pacing, transform.since_ns, transform.until_ns
        )
    if time_base not in (None, "id"):
        raise UsageError("--clock applies to recordings; a scenario's timing is its delays")
    from xtape.scenario import ScenarioSource  # (YAML: only when needed)

    scenario = ScenarioSource(path, variables=variables, seed=seed, catalog=catalog)
    counts: Counter[bytes] = Counter()
    for event in scenario.plan.events:
        counts[event.stream_bytes] += event.repeat
    return OpenedSource(
        scenario,
        "scenario",
        seed=scenario.seed if scenario.uses_generators else None,
        count=scenario.count,
        stream_counts=dict(counts),
        span_ns=round(scenario.duration_ms * NS_PER_MS),
    )


@dataclass
class RecordingSource:
    """A recording as a replay plays it: its events read with the replay's options
    (a :class:`~xtape.timeline.Source`)."""

    recording: Recording
    #: Whether events carry their offsets (not at full speed over the whole recording,
    #: where nothing is timed).
    timed: bool = True
    #: Whether a round's streams are merged into id order (not at full speed, where the
    #: order across streams carries no timing).
    interleave: bool = True

    def __post_init__(self) -> None:
        self.name: str = self.recording.name

    def timeline(self, iteration: int, schedule: ScheduleFn) -> Timeline:
        return self.recording.events(timed=self.timed, interleave=self.interleave)


def _open_recording(
    path: str | Path,
    time_base: TimeBase,
    pacing: Pacing,
    since_ns: int | None = None,
    until_ns: int | None = None,
) -> OpenedSource:
    # Offsets are needed unless at full speed over the whole recording (--since and
    # --until pick entries by them).
    from xtape.recording import Recording, summarize

    timed = not (pacing.is_max_speed and since_ns is None and until_ns is None)
    recording = Recording(path, time_base=time_base)
    if recording.one_pass:
        # Standard input or a pipe (``xtape record -o - | xtape replay -``): read once,
        # as it comes, so nothing is known up front (no totals, no warnings). Each batch
        # is played as it arrives: merging a round's streams by id would hold the last
        # round back until the next one came, which a live pipe may never send.
        played = RecordingSource(recording, timed=timed, interleave=False)
        return OpenedSource(played, "recording", live=True)
    # --since/--until: a v2 file jumps to the first chunk that can hold the window.
    recording.window(since_ns, until_ns)
    info = summarize(path)
    warnings = [
        warning
        for warning in (
            info.truncation_warning(),
            info.gap_warning("the replay cannot include them"),
        )
        if warning
    ]
    if time_base == "id" and pacing.follows_offsets:
        warning = info.id_clock_warning()
        if warning:
            warnings.append(warning)
    if time_base == "id":
        span = (
            None
            if info.first_ms is None or info.last_ms is None
            else (info.last_ms - info.first_ms) * NS_PER_MS
        )
    else:
        span = (
            None
            if info.first_capture_ns is None or info.last_capture_ns is None
            else info.last_capture_ns - info.first_capture_ns
        )
    return OpenedSource(
        # At full speed streams need not interleave within a recorder round (no timing).
        RecordingSource(recording, timed=timed, interleave=not pacing.is_max_speed),
        "recording",
        warnings=warnings,
        count=info.entries,
        stream_counts={name: s.entries for name, s in info.streams.items()},
        span_ns=span,
    )
