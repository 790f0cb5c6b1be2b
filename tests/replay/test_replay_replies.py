"""The publisher's reading of XADD replies: counted in runs without errors, parsed one
by one where a refusal is among them, however the bytes are cut by the network."""

from __future__ import annotations

from collections import deque

import hiredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xtape.replay import RedisPublisher
from xtape.replay.redis_publisher import _complete_replies_end
from xtape.server import RedisServer
from xtape.timeline import Event

OK = b"$15\r\n1700000000000-0\r\n"
REFUSED = b"-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"


def replies_for(outcomes: list[bool]) -> bytes:
    return b"".join(OK if ok else REFUSED for ok in outcomes)


@pytest.mark.parametrize(
    ("data", "end"),
    [
        (b"", 0),
        (b"$15\r\n", 0),  # a length line, its payload not here yet
        (b"$15\r\n1700000000000-0", 0),
        (OK, len(OK)),
        (OK + b"$15\r\n17000", len(OK)),
        (OK + b"$15\r\n", len(OK)),
        (REFUSED, len(REFUSED)),
        (OK + REFUSED[:10], len(OK)),
        (REFUSED + b"$15\r\n", len(REFUSED)),
    ],
)
def test_complete_replies_end(data: bytes, end: int) -> None:
    assert _complete_replies_end(bytearray(data)) == end


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.sampled_from([b"a", b"b", b"c"])), min_size=1, max_size=60),
    st.lists(st.integers(1, 40), max_size=30),
    st.integers(1, 7),
)
def test_replies_cut_anywhere_are_each_counted_once(
    redis_server: RedisServer, entries: list[tuple[bool, bytes]], cuts: list[int], batch_size: int
) -> None:
    events = [Event(0, stream, (b"k", b"v")) for _, stream in entries]
    batches = [events[i : i + batch_size] for i in range(0, len(events), batch_size)]
    data = replies_for([ok for ok, _ in entries])
    with RedisPublisher(redis_server.url) as publisher:
        # as if these batches had been sent: their replies arrive in pieces
        publisher._inflight = deque(batches)
        publisher._pending = len(events)
        pos = 0
        for size in [*cuts, len(data)]:
            publisher._buf += data[pos : pos + size]
            pos += size
            while publisher._take_replies():
                pass
        assert publisher._pending == 0
        assert not publisher._inflight
        refused = [stream for ok, stream in entries if not ok]
        assert publisher.accepted == len(entries) - len(refused)
        assert publisher.errors.count == len(refused)
        assert dict(publisher.errors.by_stream) == {
            s: refused.count(s) for s in set(refused)
        }
        # the run of refusals in a row ends with the last entry's outcome
        trailing = len(entries) - 1 - max(
            (i for i, (ok, _) in enumerate(entries) if ok), default=-1
        )
        assert publisher.errors.consecutive == trailing
        publisher._inflight.clear()  # nothing was really sent: close without waiting


def test_replies_of_another_kind_are_parsed_not_counted(redis_url: str) -> None:
    # +OK and :1 are not XADD replies: the count check fails and hiredis reads them
    with RedisPublisher(redis_url) as publisher:
        publisher._inflight = deque([[Event(0, b"s", ()), Event(0, b"s", ()), Event(0, b"s", ())]])
        publisher._pending = 3
        publisher._buf += b"+OK\r\n:1\r\n" + OK
        assert publisher._take_replies()
        assert publisher.accepted == 3 and publisher._pending == 0


def test_refusals_in_a_real_pipeline_are_told_to_their_streams(redis_url: str) -> None:
    # keep_ids below the top: refused by Redis itself, among accepted entries
    with RedisPublisher(redis_url, keep_ids=True) as publisher:
        publisher.publish([Event(0, b"x", (b"f", b"1"), b"5-0"), Event(0, b"y", (b"f", b"1"), b"5-0")])
        publisher.flush()
        batch = [
            Event(0, b"x", (b"f", b"2"), b"6-0"),
            Event(0, b"y", (b"f", b"2"), b"4-0"),  # refused
            Event(0, b"x", (b"f", b"3"), b"3-0"),  # refused
            Event(0, b"y", (b"f", b"3"), b"7-0"),
        ] * 500
        publisher.publish(batch)
        publisher.flush()
    assert publisher.accepted == 2 + 2  # only the first 6-0 and 7-0 land; later ones repeat
    assert publisher.errors.count == len(batch) - 2
    assert publisher.errors.by_stream[b"y"] == 500 + 499
    assert any("equal or smaller" in m for m in publisher.errors.messages)


def test_hiredis_reads_the_same_replies() -> None:
    # the fixtures above are what Redis sends (checked against hiredis's own parse)
    reader = hiredis.Reader()
    reader.feed(OK + REFUSED)
    assert reader.gets() == b"1700000000000-0"
    assert isinstance(reader.gets(), hiredis.ReplyError)
