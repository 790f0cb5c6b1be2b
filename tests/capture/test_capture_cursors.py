"""The continuity checks of a stream's cursor (no server: XINFO replies as data)."""

from __future__ import annotations

from xtape.capture.cursors import Loss, Recreated, StreamInfo, StreamState


def info(length: int, first: bytes | None, last: bytes, added: int, max_deleted: bytes = b"0-0") -> StreamInfo:
    return StreamInfo(length, last, first, added, max_deleted)


def state(cursor: bytes, number: int | None, *, verified: bool = True) -> StreamState:
    s = StreamState(b"s", cursor, number)
    s.verified = verified
    return s


def test_trimmed_entries_after_the_cursor_are_counted() -> None:
    loss = state(b"10-0", 10).check(info(5, b"20-0", b"24-0", 24), None)
    assert loss == Loss(b"10-0", b"20-0", 9)  # entries 11..19


def test_last_id_below_the_cursor_means_recreated() -> None:
    assert isinstance(state(b"10-0", 10).check(info(1, b"1-1", b"1-1", 1), False), Recreated)


def test_entries_added_going_back_means_recreated() -> None:
    assert isinstance(state(b"10-0", 10).check(info(3, b"11-0", b"13-0", 3), None), Recreated)


def test_a_negative_loss_is_never_silent() -> None:
    # 12 added, 8 present: head 4 < number 10, with the first entry beyond the cursor.
    assert isinstance(state(b"10-0", 10).check(info(8, b"11-0", b"20-0", 12), None), Recreated)


def test_cursor_entry_gone_with_nothing_deleted_means_recreated() -> None:
    outcome = state(b"10-0", 1).check(info(2, b"1-1", b"20-0", 2), False)
    assert isinstance(outcome, Recreated)
    # ...but an XDEL of that entry (max-deleted-entry-id at or after it) is not.
    assert state(b"10-0", 1).check(info(2, b"1-1", b"20-0", 3, b"10-0"), False) is None


def test_first_id_going_back_means_recreated() -> None:
    s = state(b"10-0", 10, verified=False)
    assert s.check(info(10, b"5-0", b"10-0", 10), None) is None
    assert isinstance(s.check(info(12, b"3-0", b"12-0", 12), None), Recreated)


def test_after_a_restart_or_flush_a_trimmed_stream_is_a_gap_of_unknown_size() -> None:
    s = state(b"10-0", 10)
    s.broken = True
    assert s.check(info(5, b"20-0", b"24-0", 50), None) == Loss(b"10-0", b"20-0", -1)
    assert s.broken is False
