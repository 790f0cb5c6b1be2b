"""Strict-order ``diff`` stays linear whatever the share of differences (issue 16 item
20): a third of the entries changed and a seventh missing took 103 s for 1M entries,
because every difference built full field-by-field diffs of up to 18 candidate pairs.
Counted here, not timed: the work per entry is bounded by a constant."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from xtape import DiffRules, diff_recordings
from xtape.diff.compare import Comparer
from xtape.recording import RecordingWriter

N = 7000


def many_differences(tmp_path: Path) -> tuple[Path, Path]:
    """EXPECTED: N orders; ACTUAL: every 3rd with another price, every 7th missing."""
    paths = tmp_path / "expected.xtape", tmp_path / "actual.xtape"
    with RecordingWriter(paths[0]) as expected, RecordingWriter(paths[1]) as actual:
        for start in range(0, N, 500):
            want: list[Any] = []
            got: list[Any] = []
            for j in range(start, start + 500):
                flat = [b"orderId", b"o-%06d" % j, b"price", b"%d.50" % (40_000 + j % 977), b"ts", b"%d" % j]
                entry_id = b"%d-0" % (1_700_000_000_000 + j)
                want.append([entry_id, flat])
                if j % 7 == 6:
                    continue
                if j % 3 == 0:
                    flat = [*flat[:3], b"%d.75" % (40_000 + j % 977), *flat[4:]]
                got.append([entry_id, flat])
            expected.write_entries(b"orders", want, start)
            actual.write_entries(b"orders", got, start)
    return paths


@pytest.mark.parametrize("rules", [DiffRules(max_reported=50), DiffRules(max_reported=50, ignore_fields=("ts",))])
def test_many_differences_cost_a_bounded_amount_of_work_per_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: DiffRules
) -> None:
    calls: Counter[str] = Counter()
    for name in ("diff", "same", "signature"):
        original = getattr(Comparer, name, None)
        if original is None:
            continue

        def counted(self: Comparer, *args: Any, _name: str = name, _original: Any = original) -> Any:
            calls[_name] += 1
            return _original(self, *args)

        monkeypatch.setattr(Comparer, name, counted)

    result = diff_recordings(*many_differences(tmp_path), rules)

    changed = sum(1 for j in range(N) if j % 3 == 0 and j % 7 != 6)
    assert result.totals() == {
        "expected": N, "actual": N - N // 7, "same": N - N // 7 - changed,
        "changed": changed, "missing": N // 7, "extra": 0, "moved": 0,
    }  # fmt: skip
    # Field-by-field differences only for the differences kept in detail...
    assert calls["diff"] <= 50
    # ...and a few cheap comparisons per entry (before: 18 full diffs per difference).
    assert calls["same"] + calls["signature"] <= 3 * N, calls


def test_a_side_that_misses_entries_does_not_make_the_other_pile_up(tmp_path: Path) -> None:
    """The actual side, a seventh shorter, used to run ahead of the expected one (both
    were read entry for entry), so its queue outgrew the window and the stream was
    compared again in a pass of its own: reading both files twice more."""
    result = diff_recordings(*many_differences(tmp_path), DiffRules(window=300, max_reported=0))

    [stream] = result.streams
    assert not stream.own_pass
    assert (stream.changed, stream.missing, stream.extra) == (
        sum(1 for j in range(N) if j % 3 == 0 and j % 7 != 6), N // 7, 0
    )
