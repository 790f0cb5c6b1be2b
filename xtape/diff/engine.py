"""Two recordings compared stream by stream, in bounded memory.

Both files are read once, side by side: the reader that has delivered fewer entries
reads its next batch, and each stream's entries wait in a per-stream queue until their
counterparts arrive. How a stream pairs its entries depends on the order rule:

* ``strict``: position by position. When two heads differ, the next
  ``window`` entries of each side are searched for the nearest entry that resynchronises
  the two (an extra or a missing run); when there is none, the heads are a changed pair.
* ``key`` (``match_by``): by the value of a field, first come first paired.
* ``multiset``: by content (equal under the rules); entries left over that differ only
  in toleranced values are reported as changed pairs.

Bounds (docs/diff.md): per stream and side, at most ``2 * window`` entries wait (plus
the batch being read). In ``key`` and ``multiset`` modes an entry whose counterpart has
not come within ``window`` entries of its own position is reported missing (or extra).
A stream whose entries are so far apart in the two files that its queue outgrows the
bound is set aside and compared in a pass of its own, where both files advance in that
stream alone, so the bound holds there too.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xtape.codecs import CodecResolver, codec_spec
from xtape.diff.compare import Comparer
from xtape.diff.pairing import StreamPairing, pairing_for
from xtape.diff.result import DiffResult, StreamResult
from xtape.diff.rules import DiffRules
from xtape.errors import RecordingError, UsageError
from xtape.recording import Recording
from xtape.recording.records import Entries, Gap, StreamDef
from xtape.timeline import NS_PER_MS, display_name, pair_fields
from xtape.units import match_any

if TYPE_CHECKING:
    from xtape.shape import EntryTest

_MALFORMED = (ValueError, TypeError, AttributeError, IndexError)
_Events = Generator[tuple[int, bytes, Sequence[Any]], None, None]


class _Side:
    """One recording being read: its batches, as (stream, raw entries) or gaps."""

    def __init__(self, source: str | Path, select: EntryTest | None = None) -> None:
        self.rec = Recording(source, interleave=False)
        self.name = self.rec.name
        self.select = select

    def events(self) -> _Events:
        """``(kind, stream, entries)``: kind 0 a stream defined, 1 entries, 2 a gap."""
        names: dict[int, bytes] = {}
        for record in self.rec.records():
            if isinstance(record, Entries):
                name = names.get(record.stream_id, b"?")
                entries = record.entries
                if self.select is not None:
                    select = self.select
                    entries = [entry for entry in entries if select(name, entry[0], entry[1])]
                    if not entries:
                        continue
                yield 1, name, entries
            elif isinstance(record, StreamDef):
                names[record.stream_id] = record.name
                yield 0, record.name, ()
            elif isinstance(record, Gap):
                yield 2, names.get(record.stream_id, b"?"), ()

    def start_ms(self) -> int:
        """The recording's start: the earliest entry id (ms) of its first round."""
        start = self.rec.timeline_start("id")
        return 0 if start is None else start // NS_PER_MS


class Differ:
    """Runs one comparison (see the module docstring); :func:`diff_recordings` wraps it."""

    def __init__(
        self, expected: str | Path, actual: str | Path, rules: DiffRules, *, select: EntryTest | None = None
    ) -> None:
        self.rules = rules
        self.cmp = Comparer(rules)
        #: ``--where``: only the entries it holds for are compared, on both sides.
        self.sides = (_Side(expected, select), _Side(actual, select))
        self.result = DiffResult(self.sides[0].name, self.sides[1].name, rules)
        self._wanted: dict[bytes, bool] = {}
        self.codecs = CodecResolver(rules.codecs, detect_json=False, report=self.result.codec_lines.append)

    def wanted(self, stream: bytes) -> bool:
        found = self._wanted.get(stream)
        if found is None:
            found = not self.rules.streams or match_any(stream, self.rules.streams)
            self._wanted[stream] = found
        return found

    def new_state(self, name: bytes, done: Sequence[bool]) -> StreamPairing:
        return pairing_for(name, self.cmp, self.rules, done)

    def choose_codec(self, st: StreamPairing, first: Sequence[Any]) -> None:
        """Give ``st`` its stream's codec, chosen (or detected) on its first entries."""
        st.coded = True
        codec = self.codecs.codec(st.res.name, pair_fields(first[0][1]))
        if codec is not None:
            cmp = Comparer(self.rules, codec)
            cmp.bases = self.cmp.bases
            st.use(cmp)
            st.res.codec = codec_spec(codec)

    def run(self) -> DiffResult:
        if self.rules.compare_times:
            for side in self.sides:
                if side.rec.one_pass:
                    raise UsageError(
                        f"--compare-times reads the start of {side.name} first, and a stream "
                        "can be read only once; diff files instead"
                    )
            self.cmp.bases = (self.sides[0].start_ms(), self.sides[1].start_ms())
        results: dict[bytes, StreamResult] = {}
        set_aside: list[bytes] = []
        self._pass(None, results, set_aside)
        for name in set_aside:
            for side in self.sides:
                if side.rec.one_pass:
                    raise UsageError(
                        f"stream '{display_name(name)}' needs a second reading of "
                        f"{side.name}, which is a stream read once; diff files instead"
                    )
            self._pass(name, results, [])
            results[name].own_pass = True
        self.result.streams = [results[k] for k in sorted(results)]
        for i, side in enumerate(self.sides):
            if side.rec.truncated_bytes:
                which = ("expected", "actual")[i]
                self.result.warnings.append(
                    f"{side.name} ({which}): the last {side.rec.truncated_bytes} bytes are an "
                    "incomplete record (skipped)"
                )
        for res in self.result.streams:
            for i, n in enumerate(res.gaps):
                if n:
                    which = self.sides[i].name
                    self.result.warnings.append(
                        f"{which}: stream '{display_name(res.name)}' has {n} gap(s): entries "
                        "were lost while recording, so differences there may be the recorder's"
                    )
        return self.result

    def _pass(self, only: bytes | None, results: dict[bytes, StreamResult], set_aside: list[bytes]) -> None:
        """One reading of both files, for every stream (``only`` None) or one."""
        states: dict[bytes, StreamPairing] = {}
        skipped: set[bytes] = set()
        readers = [self.sides[0].events(), self.sides[1].events()]
        seen: list[dict[bytes, bool]] = [{}, {}]
        gaps: dict[bytes, list[int]] = {}
        try:
            self._read(only, readers, states, skipped, set_aside, seen, gaps)
        finally:
            for reader in readers:
                reader.close()  # a pass stopped by an error closes both files now
        for name, st in states.items():
            res = st.result()
            res.in_expected = name in seen[0]
            res.in_actual = name in seen[1]
            res.gaps = gaps.get(name, [0, 0])
            results[name] = res
        for name in skipped:
            res = results.setdefault(name, StreamResult(name))
            res.in_expected = name in seen[0]
            res.in_actual = name in seen[1]
            res.gaps = gaps.get(name, [0, 0])

    def _read(
        self,
        only: bytes | None,
        readers: list[_Events],
        states: dict[bytes, StreamPairing],
        skipped: set[bytes],
        set_aside: list[bytes],
        seen: list[dict[bytes, bool]],
        gaps: dict[bytes, list[int]],
    ) -> None:
        done = [False, False]
        total = [0, 0]
        #: Entries waiting for their counterparts, per side: the side with fewer is read
        #: next (then the one that delivered fewer), so a side that runs ahead (the other
        #: misses entries) waits for the other instead of piling up.
        waiting = [0, 0]
        limit = 2 * self.rules.window
        while not (done[0] and done[1]):
            side = 0 if not done[0] and (done[1] or (waiting[0], total[0]) <= (waiting[1], total[1])) else 1
            try:
                event = next(readers[side], None)
            except _MALFORMED as exc:
                # Only what reading raises is the file's fault; a comparison that fails
                # is a bug of xtape's and is raised as what it is.
                raise RecordingError(
                    self.sides[side].name, f"corrupt entry in the recording ({exc}); the file is damaged"
                ) from None
            if event is None:
                done[side] = True
                for st in states.values():
                    st.finish_side(side)
                continue
            kind, stream, raw = event
            if (only is not None and stream != only) or stream in skipped or not self.wanted(stream):
                continue
            seen[side][stream] = True
            if kind == 2:
                gaps.setdefault(stream, [0, 0])[side] += 1
                continue
            found = states.get(stream)
            if found is None:
                found = states[stream] = self.new_state(stream, done)
            st = found
            if kind == 1:
                if not st.coded and raw:
                    self.choose_codec(st, raw)
                total[side] += len(raw)
                before = st.waiting(0), st.waiting(1)
                st.feed(side, raw)
                waiting[0] += st.waiting(0) - before[0]
                waiting[1] += st.waiting(1) - before[1]
                if only is None and st.held() > limit:
                    skipped.add(stream)
                    set_aside.append(stream)
                    waiting[0] -= st.waiting(0)
                    waiting[1] -= st.waiting(1)
                    del states[stream]


def diff_recordings(
    expected: str | Path, actual: str | Path, rules: DiffRules | None = None, *, select: EntryTest | None = None
) -> DiffResult:
    """Compare two recordings stream by stream under ``rules`` (default: fields only,
    strict order), the entries ``select`` (``--where``) holds for alone. Raises
    :class:`~xtape.errors.RecordingError` (exit 2) for a file that is not a readable
    recording."""
    return Differ(expected, actual, rules or DiffRules(), select=select).run()


__all__ = ["Differ", "diff_recordings"]
