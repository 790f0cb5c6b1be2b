"""Invariants of the pairing, over random streams and random edits (hypothesis)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from xtape.diff import DiffRules, diff_recordings
from xtape.recording import RecordingWriter

Flat = list[bytes]


def _write(path: Path, entries: list[Flat], batch: int) -> None:
    with RecordingWriter(path) as writer:
        for start in range(0, len(entries), batch):
            chunk = entries[start : start + batch]
            writer.write_entries(b"s", [[b"1-%d" % (start + i), f] for i, f in enumerate(chunk)], start)


def _diff(expected: list[Flat], actual: list[Flat], rules: DiffRules, batch: int) -> tuple[int, int, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        e, a = Path(tmp) / "e.xtape", Path(tmp) / "a.xtape"
        _write(e, expected, batch)
        _write(a, actual, batch)
        result = diff_recordings(e, a, rules)
    if not result.streams:
        return (0, 0, 0, 0)
    s = result.streams[0]
    # a moved entry is one missing from its place and one extra at another
    return s.same, s.changed, s.missing + s.moved, s.extra + s.moved


values = st.binary(max_size=3)
entry = st.lists(st.tuples(st.sampled_from([b"a", b"b", b"\xff"]), values), min_size=1, max_size=3).map(
    lambda pairs: [part for pair in pairs for part in pair]
)
streams = st.lists(entry, max_size=40)


@settings(max_examples=60, deadline=None)
@given(streams, streams, st.sampled_from(["strict", "multiset"]), st.integers(1, 7), st.integers(2, 50))
def test_every_entry_is_accounted_for_once(
    expected: list[Flat], actual: list[Flat], order: str, batch: int, window: int
) -> None:
    same, changed, missing, extra = _diff(expected, actual, DiffRules(order=order, window=window), batch)  # type: ignore[arg-type]
    assert same + changed + missing == len(expected)
    assert same + changed + extra == len(actual)
    if expected == actual:
        assert (changed, missing, extra) == (0, 0, 0)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.data())
def test_one_deleted_and_one_inserted_entry_are_found_exactly(n: int, data: st.DataObject) -> None:
    expected = [[b"k", b"%d" % i] for i in range(n)]
    actual = list(expected)
    gone = data.draw(st.integers(0, n - 1))
    del actual[gone]
    at = data.draw(st.integers(0, len(actual)))
    actual.insert(at, [b"k", b"new"])
    batch = data.draw(st.integers(1, 9))
    assert _diff(expected, actual, DiffRules(), batch) == (n - 1, 0, 1, 1) or (
        # deleting one and inserting at the same place is a change
        at == gone and _diff(expected, actual, DiffRules(), batch) == (n - 1, 1, 0, 0)
    )


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(30))), st.integers(1, 9))
def test_any_permutation_matches_by_key_and_as_a_multiset(order: list[int], batch: int) -> None:
    expected = [[b"id", b"%d" % i, b"v", b"x"] for i in range(30)]
    actual = [expected[i] for i in order]
    assert _diff(expected, actual, DiffRules(match_by="id"), batch) == (30, 0, 0, 0)
    assert _diff(expected, actual, DiffRules(order="multiset"), batch) == (30, 0, 0, 0)


@settings(max_examples=30, deadline=None)
@given(streams, streams, streams, streams, st.integers(1, 5))
def test_a_small_window_gives_the_same_counts_when_streams_are_far_apart(
    ea: list[Flat], eb: list[Flat], aa: list[Flat], ab: list[Flat], window: int
) -> None:
    """Expected holds stream A then B, actual B then A: streams set aside into their
    own pass still get the counts a window larger than everything gives."""
    with tempfile.TemporaryDirectory() as tmp:
        e, a = Path(tmp) / "e.xtape", Path(tmp) / "a.xtape"
        with RecordingWriter(e) as w:
            w.write_entries(b"A", [[b"1-%d" % i, f] for i, f in enumerate(ea)], 1)
            w.write_entries(b"B", [[b"1-%d" % i, f] for i, f in enumerate(eb)], 2)
        with RecordingWriter(a) as w:
            w.write_entries(b"B", [[b"1-%d" % i, f] for i, f in enumerate(ab)], 1)
            w.write_entries(b"A", [[b"1-%d" % i, f] for i, f in enumerate(aa)], 2)

        def counts(window: int) -> list[tuple[bytes, int, int, int, int]]:
            result = diff_recordings(e, a, DiffRules(window=window))
            return [(s.name, s.same, s.changed, s.missing, s.extra, s.moved) for s in result.streams]

        small = counts(window)
        large = counts(10_000)
    if max(map(len, (ea, eb, aa, ab))) <= window:
        assert small == large
    for name, same, changed, missing, extra, moved in small:
        exp = ea if name == b"A" else eb
        act = aa if name == b"A" else ab
        # (an entry found moved is one entry on each side)
        assert same + changed + missing + moved == len(exp) and same + changed + extra + moved == len(act)
