"""How one stream's entries are paired, in bounded memory (:mod:`xtape.diff.engine` feeds
them). It depends on the order rule:

* ``strict``: position by position. When two heads differ, the next
  ``window`` entries of each side are searched for the nearest entry that resynchronises
  the two (an extra or a missing run); when there is none, the heads are a changed pair.
* ``key`` (``match_by``): by the value of a field, first come first paired.
* ``multiset``: by content (equal under the rules); entries left over that differ only
  in toleranced values are reported as changed pairs.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from itertools import islice
from operator import itemgetter
from typing import Any

from xtape.diff.compare import Comparer, FieldDiff, Item
from xtape.diff.result import EntryDiff, StreamResult
from xtape.diff.rules import DiffRules

#: How far a difference is first looked past, entry by entry, before an index is built.
NEAR = 8
_FLAT = itemgetter(2)


class StreamPairing:
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

    def report(self, kind: str, e: Item | None, a: Item | None, fields: Sequence[FieldDiff] | None = None) -> None:
        """Count a difference; keep it in detail (a changed pair's field differences
        worked out only now) while fewer than ``max_reported`` are kept."""
        res = self.res
        if kind == "changed":
            res.changed += 1
        elif kind == "missing":
            res.missing += 1
        else:
            res.extra += 1
        if len(res.differences) < self.max_reported:
            if fields is None:
                fields = self.cmp.diff(e, a) if e is not None and a is not None else ()
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

    def waiting(self, side: int) -> int:
        """Entries of ``side`` waiting for their counterparts."""
        raise NotImplementedError

    def result(self) -> StreamResult:
        res = self.res
        res.expected, res.actual = self.delivered
        if res.missing and res.extra and self.moves:
            self._moves()
        res.differences.sort(key=EntryDiff.sort_key)
        return res

    #: Whether a missing entry equal to an extra one is reported as moved (strict order).
    moves = False

    def _moves(self) -> None:
        """A missing entry equal to an extra one was moved: one difference, not two."""
        res = self.res
        extras: dict[Any, list[int]] = {}
        for i, d in enumerate(res.differences):
            if d.kind == "extra" and d.actual is not None:
                extras.setdefault(self.cmp.signature(d.actual[2]), []).append(i)
        if not extras:
            return
        moved: dict[int, EntryDiff] = {}
        dropped: set[int] = set()
        for i, d in enumerate(res.differences):
            if d.kind != "missing" or d.expected is None:
                continue
            found = extras.get(self.cmp.signature(d.expected[2]))
            for n, j in enumerate(found or ()):
                a = res.differences[j].actual
                if a is not None and not self.cmp.diff(d.expected, a):
                    moved[i] = EntryDiff("moved", d.expected, a)
                    dropped.add(j)
                    del found[n]  # type: ignore[union-attr]
                    break
        if moved:
            res.differences = [moved.get(i, d) for i, d in enumerate(res.differences) if i not in dropped]
            res.moved += len(moved)
            res.missing -= len(moved)
            res.extra -= len(moved)


class StrictPairing(StreamPairing):
    """Position by position, resynchronising over a window after a difference."""

    moves = True

    def __init__(self, name: bytes, cmp: Comparer, rules: DiffRules, done: Sequence[bool]) -> None:
        super().__init__(name, cmp, rules, done)
        self.q: tuple[deque[Item], deque[Item]] = (deque(), deque())
        #: signature -> positions, per side: built only when two heads differ, for the
        #: entries queued up to ``upto`` (a position), and dropped once its queue is empty.
        self.index: list[dict[Any, deque[int]] | None] = [None, None]
        self.sigs: list[dict[int, Any]] = [{}, {}]
        self.upto = [-1, -1]
        self.fast = not (rules.compare_ids or rules.compare_times)
        self.ignores = bool(rules.ignore_fields)
        self._shortcuts(cmp)
        #: Each queued entry's signature, worked out once when first compared (a
        #: difference compares an entry with up to 2 * NEAR others); cleared with the
        #: side's index.
        self.cache: tuple[dict[int, Any], dict[int, Any]] = ({}, {})

    def _shortcuts(self, cmp: Comparer) -> None:
        #: Equal signatures mean equal entries (else they only may be: :meth:`_equal`).
        self.exact = self.fast and cmp.simple
        #: Equal entries are equal flat tuples (as the reader gives them): no signature.
        self.raw = self.exact and not self.ignores

    def use(self, cmp: Comparer) -> None:
        super().use(cmp)
        self._shortcuts(cmp)  # (a codec's comparer is never simple)
        self.cache = ({}, {})

    def held(self) -> int:
        return max(len(self.q[0]), len(self.q[1]))

    def waiting(self, side: int) -> int:
        return len(self.q[side])

    def _sig(self, side: int, item: Item) -> Any:
        cache = self.cache[side]
        found = cache.get(item[0])
        if found is None:
            found = cache[item[0]] = self.cmp.signature(item[2])
        return found

    def _equal(self, e: Item, a: Item) -> bool:
        """Whether expected ``e`` and actual ``a`` are the same under the rules."""
        if self.raw:
            return e[2] == a[2]
        if self._sig(0, e) != self._sig(1, a):
            return False
        return self.exact or self.cmp.same(e, a)

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
        for side in (0, 1):
            q = self.q[side]
            index = self.index[side]
            if index is None:
                index = self.index[side] = {}
                self.upto[side] = q[0][0] if q else self.delivered[side]
            sigs = self.sigs[side]
            start = self.upto[side] - (q[0][0] if q else self.upto[side])
            for item in islice(q, max(start, 0), None):
                sig = self._sig(side, item)
                sigs[item[0]] = sig
                found = index.get(sig)
                if found is None:
                    index[sig] = deque((item[0],))
                else:
                    found.append(item[0])
            self.upto[side] = self.delivered[side]

    def _drop_index(self, side: int) -> None:
        """Forget ``side``'s index (its queue ran empty). The other side's stays: when
        one side runs ahead (entries missing from the other), its long queue is indexed
        once, not again after every batch of the other side."""
        self.index[side] = None
        self.sigs[side] = {}
        self.upto[side] = -1
        self.cache[side].clear()

    def _pop(self, side: int) -> Item:
        item = self.q[side].popleft()
        self.cache[side].pop(item[0], None)
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
        equal = self._equal
        cache = self.cache
        res = self.res
        fast = self.fast
        upto = self.upto
        while E and A:
            e = E[0]
            a = A[0]
            if (fast and e[2] == a[2]) or equal(e, a):
                if e[0] < upto[0] or a[0] < upto[1] or cache[0] or cache[1]:
                    self._pop(0)
                    self._pop(1)
                else:
                    E.popleft()
                    A.popleft()
                res.same += 1
            elif not self._resolve():
                break
            upto = self.upto
        if E and not A and self.done[1]:
            while E:
                self.report("missing", self._pop(0), None)
        if A and not E and self.done[0]:
            while A:
                self.report("extra", None, self._pop(1))
        for side, q in enumerate(self.q):
            if not q and (self.index[side] is not None or self.cache[side]):
                self._drop_index(side)

    def _find(self, side: int, item: Item, expected_side: bool) -> int | None:
        """How far into ``side``'s queue an entry equal to ``item`` is (>= 1), or None."""
        index = self.index[side]
        assert index is not None
        positions = index.get(self._sig(1 - side, item))
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
            if self.exact or (self.cmp.same(item, other) if expected_side else self.cmp.same(other, item)):
                return k  # (the index found it by its signature)
        return None

    def _resolve(self) -> bool:
        """The heads differ: decide extra, missing or changed, or wait for more entries."""
        E, A = self.q
        if self.index[0] is None or self.index[1] is None:
            # Most differences are a single entry: look a few entries ahead first.
            ka = self._scan(1, E[0], True)
            ke = self._scan(0, A[0], False)
            near = ka if ke is None else ke if ka is None else min(ka, ke)
            if near is not None and len(E) > near and len(A) > near:
                return self._skip(1 if ka == near else 0, near)
            if near is None and len(E) > 1 and len(A) > 1 and (
                self._equal(E[1], A[1])
                or (
                    len(E) > NEAR
                    and len(A) > NEAR
                    and (self._scan(1, E[1], True, 0) is not None or self._scan(0, A[1], False, 0) is not None)
                )
            ):
                self.report("changed", self._pop(0), self._pop(1))
                return True
            if any(len(self.q[s]) <= NEAR and not self.done[s] for s in (0, 1)):
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
            self.report("changed", self._pop(0), self._pop(1))
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
        end = min(NEAR + 1, len(q))
        if self.raw:  # (in C: the flats of the next few entries, searched)
            near = list(map(_FLAT, islice(q, first, end)))
            return near.index(item[2]) + first if item[2] in near else None
        target = self._sig(1 - side, item)
        sig = self._sig
        for k in range(first, end):
            other = q[k]
            if other is item or sig(side, other) != target:
                continue
            if self.exact or (self.cmp.same(item, other) if expected_side else self.cmp.same(other, item)):
                return k
        return None

    def _realigns(self) -> bool:
        """Whether the entry after either head has its counterpart in what is buffered."""
        E, A = self.q
        if len(E) > 1 and len(A) > 1:
            return self._find(1, E[1], True) is not None or self._find(0, A[1], False) is not None
        return False


class KeyedPairing(StreamPairing):
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

    def waiting(self, side: int) -> int:
        return len(self.order[side])

    def _same(self, side: int, item: Item, other: Item) -> bool:
        return self.cmp.same(item, other) if side == 0 else self.cmp.same(other, item)

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
                    j = next((j for j, c in enumerate(bucket) if self._same(side, item, c)), -1)
                    if j < 0:
                        self._hold(side, key, item)
                        continue
                    cand = bucket[j]
                    del bucket[j]
                    same = True
                else:
                    cand = bucket.popleft()
                    same = self._same(side, item, cand)
                if not bucket:
                    del theirs[key]
                del their_order[cand[0]]
                if not same:
                    e, a = (item, cand) if side == 0 else (cand, item)
                    self.report("changed", e, a)
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
                self.report("changed", e, a)
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


def pairing_for(name: bytes, cmp: Comparer, rules: DiffRules, done: Sequence[bool]) -> StreamPairing:
    """The pairing the rules' order asks for: position by position, or by key or content."""
    cls = StrictPairing if rules.order == "strict" else KeyedPairing
    return cls(name, cmp, rules, done)


__all__ = ["NEAR", "KeyedPairing", "StreamPairing", "StrictPairing", "pairing_for"]
