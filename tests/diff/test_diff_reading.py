"""Reading a difference (issue 17 item 6): a moved entry is one difference with both
positions, a changed entry names its match key, and a field that changed the same way
in many entries is said once."""

from __future__ import annotations

from pathlib import Path

from support.diff import ORDERS, pair

from xtape.diff import DiffRules, diff_recordings
from xtape.report.diff_text import render_text


def test_a_reordered_entry_is_moved_with_both_positions(tmp_path: Path) -> None:
    actual = [ORDERS[0], ORDERS[2], ORDERS[3], ORDERS[1], ORDERS[4], ORDERS[5]]
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": actual})

    result = diff_recordings(e, a)

    s = result.streams[0]
    assert (s.moved, s.missing, s.extra, s.changed) == (1, 0, 0, 0)
    text = render_text(result)
    assert "> moved    #1 -> #3 id 1700000000000-1 / actual id 1700000000000-3" in text
    assert "1 missing" not in text and "(0 changed, 0 missing, 0 extra, 1 moved; 5 same)" in text
    assert result.to_dict()["totals"]["moved"] == 1


def test_a_changed_entry_shows_its_match_by_key(tmp_path: Path) -> None:
    changed = [list(o) for o in ORDERS]
    changed[2][3] = b"999.00"
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": changed})

    text = render_text(diff_recordings(e, a, DiffRules(match_by="orderId")))

    assert '~ changed  #2 id 1700000000000-2 (orderId "o2")' in text


def test_a_changed_entry_shows_a_json_key_and_the_result_key_by(tmp_path: Path) -> None:
    exp = [[b"body", b'{"order": {"id": "o%d"}, "total": %d}' % (i, i)] for i in range(3)]
    act = [list(x) for x in exp]
    act[1][1] = b'{"order": {"id": "o1"}, "total": 7}'
    e, a = pair(tmp_path, {b"s": exp}, {b"s": act})

    result = diff_recordings(e, a, DiffRules(json_fields=("body",)))
    result.key_by = "body.order.id"

    assert '~ changed  #1 id 1700000000000-1 (body.order.id "o1")' in render_text(result)


def test_one_field_changed_in_many_entries_is_summarised_once(tmp_path: Path) -> None:
    exp = [[b"n", b"%d" % i, b"currency", b"EUR", b"qty", b"1"] for i in range(49)]
    act = [[b"n", b"%d" % i, b"qty", b"1"] for i in range(49)]
    act[7] = [b"n", b"7", b"qty", b"2"]
    e, a = pair(tmp_path, {b"s": exp}, {b"s": act})

    text = render_text(diff_recordings(e, a))

    assert "  currency: absent in 49 of 49 entries (the first 3 shown)" in text
    assert text.count('currency: "EUR" -> (no such field)') == 3
    # the entry with a difference of its own is still shown, with that difference
    assert 'qty: "1" -> "2"' in text
    assert "... and 45 more changed entries like these" in text
