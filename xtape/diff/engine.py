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

from collections import OrderedDict, deque
from collections.abc import Generator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from xtape.codecs import CodecResolver, codec_spec
from xtape.diff.compare import Comparer, FieldDiff, Item
from xtape.diff.result import DiffResult, EntryDiff, StreamResult
from xtape.diff.rules import DiffRules
from xtape.errors import RecordingError, UsageError
from xtape.recording import Recording
from xtape.recording.records import Entries, Gap, StreamDef
from xtape.timeline import NS_PER_MS, display_name, pair_fields
from xtape.units import match_any

_MALFORMED = (ValueError, TypeError, AttributeError, IndexError)
#: How far a difference is first looked past, entry by entry, before an index is built.
_NEAR = 8


class _StreamDiff:
    """One stream's pairing (the base: counting and reporting)."""

    def __init__(self, name: bytes, cmp: Comparer, rules: DiffRules, done: Sequence[bool]) -> None:
        self.res = StreamResult(name)
        self.cmp = cmp
        self.window = rules.window
        self.max_reported = rules.max_reported
        self.delivered = [0, 0]
        self.done = list(done)
        #: Whether the stream's codec was chosen (on its first entries).
        self.coded = False

    def report(self, kind: str, e: Item | None, a: Item | None, fields: Sequence[FieldDiff] = ()) -> None:
        res = self.res
        if kind == "changed":
            res.changed += 1
        elif kind == "missing":
            res.missing += 1
        else:
            res.extra += 1
        if len(res.differences) < self.max_reported:
            res.differences.append(EntryDiff(kind, e, a, tuple(fields)))

    def use(self, cmp: Comparer) -> None:
        """Compare with ``cmp`` from now on (the stream's codec, chosen on its first entries)."""
        self.cmp = cmp

    def feed(self, side: int, raw: Sequence[Any]) -> None:
        raise NotImplementedError

    def finish_side(self, side: int) -> None:
        raise NotImplementedError

    def held(self) -> int:
        """Entries waiting on the fuller side."""
        raise NotImplementedError

    def result(self) -> StreamResult:
        res = self.res
        res.expected, res.actual = self.delivered
        res.differences.sort(key=EntryDiff.sort_key)
        return res


class _Strict(_StreamDiff):
    """Position by position, resynchronising over a window after a difference."""

    def __init__(self, name: bytes, cmp: Comparer, rules: DiffRules, done: Sequence[bool]) -> None:
        super().__init__(name, cmp, rules, done)
        self.q: tuple[deque[Item], deque[Item]] = (deque(), deque())
        #: signature -> positions, per side: built only when two heads differ, for the
        #: entries queued up to ``upto`` (a position), and dropped once a queue is empty.
        self.index: list[dict[Any, deque[int]] | None] = [None, None]
        self.sigs: list[dict[int, Any]] = [{}, {}]
        self.upto = [-1, -1]
        self.fast = not (rules.compare_ids or rules.compare_times)

    def held(self) -> int:
        return max(len(self.q[0]), len(self.q[1]))

    def feed(self, side: int, raw: Sequence[Any]) -> None:
        q = self.q[side]
        pos = self.delivered[side]
        for entry_id, flat in raw:
            q.append((pos, entry_id, flat))
            pos += 1
        self.delivered[side] = pos
        self.step()

    def finish_side(self, side: int) -> None:
        self.done[side] = True
        self.step()

    def _ensure_index(self) -> None:
        """Index every queued entry not indexed yet (both sides)."""
        signature = self.cmp.signature
        for side in (0, 1):
            q = self.q[side]
            index = self.index[side]
            if index is None:
                index = self.index[side] = {}
                self.upto[side] = q[0][0] if q else self.delivered[side]
            sigs = self.sigs[side]
            start = self.upto[side] - (q[0][0] if q else self.upto[side])
            for item in islice(q, max(start, 0), None):
                sig = signature(item[2])
                sigs[item[0]] = sig
                found = index.get(sig)
                if found is None:
                    index[sig] = deque((item[0],))
                else:
                    found.append(item[0])
            self.upto[side] = self.delivered[side]

    def _drop_index(self) -> None:
        self.index = [None, None]
        self.sigs = [{}, {}]
        self.upto = [-1, -1]

    def _pop(self, side: int) -> Item:
        item = self.q[side].popleft()
        if item[0] < self.upto[side]:
            index = self.index[side]
            assert index is not None
            sig = self.sigs[side].pop(item[0])
            positions = index[sig]
            positions.popleft()
            if not positions:
                del index[sig]
        return item

    def step(self) -> None:
        E, A = self.q
        diff = self.cmp.diff
        res = self.res
        fast = self.fast
        upto = self.upto
        while E and A:
            e = E[0]
            a = A[0]
            if (fast and e[2] == a[2]) or not (d := diff(e, a)):
                if e[0] < upto[0] or a[0] < upto[1]:
                    self._pop(0)
                    self._pop(1)
                else:
                    E.popleft()
                    A.popleft()
                res.same += 1
            elif not self._resolve(d):
                break
            upto = self.upto
        if E and not A and self.done[1]:
            while E:
                self.report("missing", self._pop(0), None)
        if A and not E and self.done[0]:
            while A:
                self.report("extra", None, self._pop(1))
        if not (E and A) and self.index[0] is not None:
            self._drop_index()

    def _find(self, side: int, item: Item, expected_side: bool) -> int | None:
        """How far into ``side``'s queue an entry equal to ``item`` is (>= 1), or None."""
        index = self.index[side]
        assert index is not None
        positions = index.get(self.cmp.signature(item[2]))
        if not positions:
            return None
        q = self.q[side]
        head = q[0][0]
        for p in positions:
            k = p - head
            if k <= 0:
                continue
            if k >= self.window:
                break
            other = q[k]
            if not (self.cmp.diff(item, other) if expected_side else self.cmp.diff(other, item)):
                return k
        return None

    def _resolve(self, d: list[FieldDiff]) -> bool:
        """The heads differ: decide extra, missing or changed, or wait for more entries."""
        E, A = self.q
        if self.index[0] is None:
            # Most differences are a single entry: look a few entries ahead first.
            ka = self._scan(1, E[0], True)
            ke = self._scan(0, A[0], False)
            near = ka if ke is None else ke if ka is None else min(ka, ke)
            if near is not None and len(E) > near and len(A) > near:
                return self._skip(1 if ka == near else 0, near)
            if near is None and len(E) > 1 and len(A) > 1 and (
                not self.cmp.diff(E[1], A[1])
                or (
                    len(E) > _NEAR
                    and len(A) > _NEAR
                    and (self._scan(1, E[1], True, 0) is not None or self._scan(0, A[1], False, 0) is not None)
                )
            ):
                self.report("changed", self._pop(0), self._pop(1), d)
                return True
            if any(len(self.q[s]) <= _NEAR and not self.done[s] for s in (0, 1)):
                return False  # too little to look at yet: wait for the next batch
        self._ensure_index()
        ka = self._find(1, E[0], True)  # actual entries before the expected head: extra
        ke = self._find(0, A[0], False)  # expected entries before the actual head: missing
        w = self.window
        full = all(len(self.q[s]) >= w or self.done[s] for s in (0, 1))
        best: tuple[int, int] | None = None
        if ka is not None and (ke is None or ka <= ke):
            best = (1, ka)
        elif ke is not None:
            best = (0, ke)
        if best is not None:
            side, k = best
            if full or all(len(self.q[s]) > k or self.done[s] for s in (0, 1)):
                return self._skip(side, k)
        if full or (best is None and self._realigns()):
            # No resynchronisation within the window, or the entries after the heads
            # find each other again: the heads are a changed pair.
            self.report("changed", self._pop(0), self._pop(1), d)
            return True
        return False

    def _skip(self, side: int, k: int) -> bool:
        """``k`` entries of ``side`` have no counterpart: extra (actual) or missing."""
        for _ in range(k):
            if side == 1:
                self.report("extra", None, self._pop(1))
            else:
                self.report("missing", self._pop(0), None)
        return True

    def _scan(self, side: int, item: Item, expected_side: bool, first: int = 1) -> int | None:
        """Like :meth:`_find` over the next few entries only, without an index."""
        q = self.q[side]
        diff = self.cmp.diff
        for k in range(first, min(_NEAR + 1, len(q))):
            other = q[k]
            if other is item:
                continue
            if not (diff(item, other) if expected_side else diff(other, item)):
                return k
        return None

    def _realigns(self) -> bool:
        """Whether the entry after either head has its counterpart in what is buffered."""
        E, A = self.q
        if len(E) > 1 and len(A) > 1:
            return self._find(1, E[1], True) is not None or self._find(0, A[1], False) is not None
        return False


class _Keyed(_StreamDiff):
    """Pairs by a key (``match_by``) or by content (``multiset``), within the window."""

    def __init__(self, name: bytes, cmp: Comparer, rules: DiffRules, done: Sequence[bool]) -> None:
        super().__init__(name, cmp, rules, done)
        self.multiset = rules.order == "multiset"
        self.keyf = cmp.signature if self.multiset else cmp.key
        self.unmatched: tuple[dict[Any, deque[Item]], dict[Any, deque[Item]]] = ({}, {})
        self.order: tuple[OrderedDict[int, Any], OrderedDict[int, Any]] = (OrderedDict(), OrderedDict())

    def use(self, cmp: Comparer) -> None:
        super().use(cmp)
        self.keyf = cmp.signature if self.multiset else cmp.key

    def held(self) -> int:
        return max(len(self.order[0]), len(self.order[1]))

    def _pair(self, side: int, item: Item, other: Item) -> list[FieldDiff]:
        return self.cmp.diff(item, other) if side == 0 else self.cmp.diff(other, item)

    def feed(self, side: int, raw: Sequence[Any]) -> None:
        other = 1 - side
        theirs = self.unmatched[other]
        their_order = self.order[other]
        keyf = self.keyf
        res = self.res
        pos = self.delivered[side]
        for entry_id, flat in raw:
            item = (pos, entry_id, flat)
            pos += 1
            key = keyf(flat)
            bucket = theirs.get(key)
            if bucket:
                if self.multiset:
                    j = next((j for j, c in enumerate(bucket) if not self._pair(side, item, c)), -1)
                    if j < 0:
                        self._hold(side, key, item)
                        continue
                    cand = bucket[j]
                    del bucket[j]
                    diffs: list[FieldDiff] = []
                else:
                    cand = bucket.popleft()
                    diffs = self._pair(side, item, cand)
                if not bucket:
                    del theirs[key]
                del their_order[cand[0]]
                if diffs:
                    e, a = (item, cand) if side == 0 else (cand, item)
                    self.report("changed", e, a, diffs)
                else:
                    res.same += 1
            else:
                self._hold(side, key, item)
        self.delivered[side] = pos
        self._evict(other, pos - self.window)
        if self.done[other]:
            self._evict(side, None)

    def _hold(self, side: int, key: Any, item: Item) -> None:
        found = self.unmatched[side].get(key)
        if found is None:
            self.unmatched[side][key] = deque((item,))
        else:
            found.append(item)
        self.order[side][item[0]] = key

    def _evict(self, side: int, below: int | None) -> None:
        """Give up on ``side``'s waiting entries at positions below ``below`` (all: None)."""
        order = self.order[side]
        other = 1 - side
        while order:
            pos = next(iter(order))
            if below is not None and pos >= below:
                break
            key = order.popitem(last=False)[1]
            bucket = self.unmatched[side][key]
            item = bucket.popleft()
            if not bucket:
                del self.unmatched[side][key]
            theirs = self.unmatched[other].get(key) if self.multiset else None
            if theirs:
                # Equal but for toleranced values beyond their tolerance: a changed pair.
                cand = theirs.popleft()
                if not theirs:
                    del self.unmatched[other][key]
                del self.order[other][cand[0]]
                e, a = (item, cand) if side == 0 else (cand, item)
                self.report("changed", e, a, self.cmp.diff(e, a))
            elif side == 0:
                self.report("missing", item, None)
            else:
                self.report("extra", None, item)

    def finish_side(self, side: int) -> None:
        self.done[side] = True
        self._evict(1 - side, None)
        if all(self.done):
            self._evict(0, None)
            self._evict(1, None)


_Events = Generator[tuple[int, bytes, Sequence[Any]], None, None]


class _Side:
    """One recording being read: its batches, as (stream, raw entries) or gaps."""

    def __init__(self, source: str | Path) -> None:
        self.rec = Recording(source, interleave=False)
        self.name = self.rec.name

    def events(self) -> _Events:
        """``(kind, stream, entries)``: kind 0 a stream defined, 1 entries, 2 a gap."""
        names: dict[int, bytes] = {}
        for record in self.rec.records():
            if isinstance(record, Entries):
                yield 1, names.get(record.stream_id, b"?"), record.entries
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

    def __init__(self, expected: str | Path, actual: str | Path, rules: DiffRules) -> None:
        self.rules = rules
        self.cmp = Comparer(rules)
        self.sides = (_Side(expected), _Side(actual))
        self.result = DiffResult(self.sides[0].name, self.sides[1].name, rules)
        self._wanted: dict[bytes, bool] = {}
        self.codecs = CodecResolver(rules.codecs, detect_json=False, report=self.result.codec_lines.append)

    def wanted(self, stream: bytes) -> bool:
        found = self._wanted.get(stream)
        if found is None:
            found = not self.rules.streams or match_any(stream, self.rules.streams)
            self._wanted[stream] = found
        return found

    def new_state(self, name: bytes, done: Sequence[bool]) -> _StreamDiff:
        cls = _Strict if self.rules.order == "strict" else _Keyed
        return cls(name, self.cmp, self.rules, done)

    def choose_codec(self, st: _StreamDiff, first: Sequence[Any]) -> None:
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
        states: dict[bytes, _StreamDiff] = {}
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
        states: dict[bytes, _StreamDiff],
        skipped: set[bytes],
        set_aside: list[bytes],
        seen: list[dict[bytes, bool]],
        gaps: dict[bytes, list[int]],
    ) -> None:
        done = [False, False]
        total = [0, 0]
        limit = 2 * self.rules.window
        while not (done[0] and done[1]):
            side = 0 if not done[0] and (done[1] or total[0] <= total[1]) else 1
            try:
                event = next(readers[side], None)
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
                    st.feed(side, raw)
                    if only is None and st.held() > limit:
                        skipped.add(stream)
                        set_aside.append(stream)
                        del states[stream]
            except _MALFORMED as exc:
                raise RecordingError(
                    self.sides[side].name, f"corrupt entry in the recording ({exc}); the file is damaged"
                ) from None


def diff_recordings(expected: str | Path, actual: str | Path, rules: DiffRules | None = None) -> DiffResult:
    """Compare two recordings stream by stream under ``rules`` (default: fields only,
    strict order). Raises :class:`~xtape.errors.RecordingError` (exit 2) for a file that
    is not a readable recording."""
    return Differ(expected, actual, rules or DiffRules()).run()


__all__ = ["Differ", "diff_recordings"]
