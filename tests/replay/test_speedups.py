"""The compiled XADD packer (xtape/_speedups.c) writes exactly what hiredis writes.

Every replay's bytes go through it, so it is checked against ``hiredis.pack_command``
on arbitrary bytes (duplicates, empty values, non-UTF-8, NUL, large values), with and
without trimming and kept ids, and end to end into a real Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys

import hiredis
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from support.streams import xrange_raw

from xtape.replay import RedisPublisher
from xtape.replay.resp import COMPILED, pack_xadds, pack_xadds_hiredis
from xtape.timeline import Event

try:
    from xtape._speedups import pack_xadds as c_pack
except ImportError:  # pragma: no cover - the test below says why that is wrong here
    c_pack = None  # type: ignore[assignment]

needs_c = pytest.mark.skipif(c_pack is None, reason="xtape._speedups was not compiled")

ids = st.one_of(st.none(), st.from_regex(rb"\A[0-9]{1,20}-[0-9]{1,20}\Z"))
fields = st.lists(st.binary(max_size=300), max_size=12)
events = st.lists(
    st.builds(
        Event,
        st.integers(0, 10**12),
        st.binary(min_size=1, max_size=40),
        st.one_of(fields.map(tuple), fields),
        ids,
    ),
    max_size=30,
)
trims = st.sampled_from([(), (b"MAXLEN", b"~", b"1000"), (b"MINID", b"=", b"0-1")])


def test_the_compiled_packer_is_built_by_the_install() -> None:
    # optional=true lets an install without a C compiler fall back to hiredis; the
    # project's own set-up installs one, so here a missing module is a broken build.
    if os.environ.get("XTAPE_NO_SPEEDUPS_OK"):
        pytest.skip("XTAPE_NO_SPEEDUPS_OK is set")
    assert COMPILED, "xtape._speedups did not compile: check gcc and the Python headers"


@needs_c
@settings(max_examples=300, deadline=None)
@given(events, trims, st.booleans())
def test_c_packer_writes_what_hiredis_writes(
    batch: list[Event], trim: tuple[bytes, ...], keep_ids: bool
) -> None:
    assert c_pack is not None
    assert c_pack(batch, trim, keep_ids) == pack_xadds_hiredis(batch, trim, keep_ids)


@needs_c
def test_c_packer_on_large_values_and_many_digits() -> None:
    big = bytes(range(256)) * 4096  # 1 MiB, every byte value
    batch = [
        Event(0, "zamówienia.ü".encode() + b"\xff", (b"", big, b"", b"", b"a", b"1"), b"1-1"),
        Event(1, b"s", (b"k" * 9, b"v" * 10, b"k" * 99, b"v" * 100, b"k" * 999, b"v" * 1000)),
        Event(2, b"s", ()),  # no fields: Redis refuses it, the bytes must still be right
    ]
    for keep_ids in (False, True):
        assert c_pack(batch, (), keep_ids) == pack_xadds_hiredis(batch, (), keep_ids)
    assert c_pack([], (), False) == b""


@needs_c
@pytest.mark.parametrize(
    ("bad", "what"),
    [
        (Event(0, "text", (b"a", b"b")), "stream name"),
        (Event(0, b"s", ("a", b"b")), "field"),
        (Event(0, b"s", (b"a", bytearray(b"b"))), "field"),
        (Event(0, b"s", b"ab"), "field"),
        (Event(0, b"s", (b"a", b"b"), "1-1"), "id"),
        ((0, b"s"), "4-tuple"),
    ],
)
def test_c_packer_refuses_what_is_not_bytes(bad: object, what: str) -> None:
    with pytest.raises(TypeError, match=what):
        c_pack([bad], (), True)  # type: ignore[list-item]


def test_pack_xadds_falls_back_to_hiredis_for_text() -> None:
    # an event built by hand with text: hiredis encodes it as UTF-8, as before
    batch = [Event(0, "s", ("név", "é"), None)]  # type: ignore[arg-type]
    expected = hiredis.pack_command(("XADD", "s", "*", "név", "é"))
    assert pack_xadds(batch) == expected


def test_published_entries_are_byte_identical(redis_url: str, r: redis.Redis) -> None:
    flat = (b"a", b"", b"a", b"\xff\x00\r\n$3\r\n", b"", b"x" * 70_000)
    batch = [Event(0, "strumień".encode(), flat), Event(0, b"plain", (b"k", b"v"), b"5-5")]
    with RedisPublisher(redis_url) as publisher:
        publisher.publish(batch)
        publisher.flush()
        assert publisher.errors.count == 0
    [(_, got)] = xrange_raw(r, "strumień".encode())
    assert tuple(got) == flat
    [(plain_id, plain)] = xrange_raw(r, b"plain")
    assert plain == [b"k", b"v"] and plain_id != b"5-5"  # not keep_ids: a new id


#: Sequences that run code while the packer reads them (issue 16 item 18): each case
#: prints what the packer did; run in a child, so that a crash is a failed test.
HOSTILE = r'''
import sys
from xtape._speedups import pack_xadds as c_pack
from xtape.replay.resp import pack_xadds, pack_xadds_hiredis
from xtape.timeline import Event

def outcome(batch, check=None):
    try:
        got = c_pack(batch, (), False)
    except TypeError as exc:
        return "TypeError: " + str(exc)
    return "ok" if check is None or got == check else "WRONG BYTES"

case = sys.argv[1]
if case == "grows-another":  # reading the second event's fields grows the first's
    first = [b"f", b"v"]
    class Grower(list):
        def __iter__(self):
            first.extend([b"x" * 1000] * 2000)
            return super().__iter__()
    batch = [Event(0, b"s", first), Event(1, b"s", Grower([b"g", b"w"]))]
    before = pack_xadds_hiredis([Event(0, b"s", tuple(first))], (), False)
    print(outcome(batch))
    del first[2:]
    fallback = pack_xadds(batch)  # what a replay does: hiredis packs it
    print("fallback", fallback.startswith(before) and fallback.endswith(b"$1\r\ng\r\n$1\r\nw\r\n"))
elif case == "clears-events":  # reading fields empties the list of events
    class Clearer:
        def __len__(self): batch.clear(); return 2
        def __iter__(self): batch.clear(); return iter([b"a", b"b"])
        def __getitem__(self, i): batch.clear(); return [b"a", b"b"][i]
    batch = [Event(0, b"s", [b"f", b"v"]), Event(1, b"s", Clearer())] + [Event(2, b"s", [b"k", b"v"])] * 100
    print(outcome(batch), len(batch))
elif case == "list-subclass":  # __len__ and __iter__ disagree with the list itself
    class Liar(list):
        def __len__(self): return 10**6
        def __iter__(self): return iter([b"x"] * 10**5)
    print(outcome([Event(0, b"s", Liar([b"a", b"b"]))]))
elif case == "generator-events":  # events made lazily, mutating a shared list as they go
    shared = [b"a", b"1"]
    def events():
        for i in range(50):
            yield Event(i, b"s", shared)
            shared.extend([b"b", b"2" * 100])
    final = (b"a", b"1") + (b"b", b"2" * 100) * 50  # every event holds the one list, as it ends
    print(outcome(events(), pack_xadds_hiredis([Event(i, b"s", final) for i in range(50)], (), False)))
'''


@needs_c
@pytest.mark.parametrize(
    ("case", "printed"),
    [
        ("grows-another", "TypeError: pack_xadds: fields are not a list or tuple\nfallback True"),
        ("clears-events", "TypeError: pack_xadds: fields are not a list or tuple 102"),
        ("list-subclass", "TypeError: pack_xadds: fields are not a list or tuple"),
        ("generator-events", "ok"),
    ],
)
def test_c_packer_holds_against_sequences_that_change_while_read(case: str, printed: str) -> None:
    done = subprocess.run([sys.executable, "-c", HOSTILE, case], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.strip() == printed
