"""The RESP of a batch of ``XADD`` commands: the per-entry work of a replay.

:func:`pack_xadds` writes ``XADD stream [trim...] id|* f1 v1 f2 v2 ...`` for every event
of a batch into one bytes object, ready for ``sendall``. It uses the C function of
``xtape._speedups`` (a copy of each name and value behind its length) where that
module was compiled at install time, and :func:`hiredis.pack_command` per event
otherwise; both give the same bytes (``tests/replay/test_speedups.py``). hiredis spends about
70 ns per argument, 0.9 us for an entry of eight fields: alone that capped a max-speed
replay near 600,000 entries/s, below what one Redis takes (see ``bench/replay.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import hiredis

from xtape.timeline import Event

PackFn = Callable[[Sequence[Event], tuple[bytes, ...], bool], bytes]

_c_pack: PackFn | None
try:
    from xtape._speedups import pack_xadds as _c_pack
except ImportError:  # not compiled (no C compiler at install time)
    _c_pack = None

#: Whether the compiled packer is in use (``bench/replay.py`` prints it).
COMPILED = _c_pack is not None
#: What ``replay --max-speed`` says once when it is not (``xtape --version`` tells too).
FALLBACK_NOTE = (
    "the compiled XADD packer is not installed (no C compiler when xtape was installed), "
    "so --max-speed packs with hiredis, several times slower per entry; to get it, install "
    "a C compiler and the Python headers (Debian/Ubuntu: apt-get install gcc python3-dev) "
    "and reinstall xtape (pip install --force-reinstall --no-deps --no-binary xtape xtape, "
    "or pip install -e . in a checkout)"
)


def pack_xadds_hiredis(
    events: Sequence[Event], trim: tuple[bytes, ...] = (), keep_ids: bool = False
) -> bytes:
    """:func:`pack_xadds` with ``hiredis.pack_command``, one event at a time."""
    pack: Callable[[tuple[bytes, ...]], bytes] = hiredis.pack_command  # type: ignore[assignment]
    out: list[bytes] = []
    append = out.append
    for event in events:
        the_id = event.id if keep_ids and event.id is not None else b"*"
        append(pack((b"XADD", event.stream, *trim, the_id, *event.flat)))
    return b"".join(out)


def pack_xadds(
    events: Sequence[Event], trim: tuple[bytes, ...] = (), keep_ids: bool = False
) -> bytes:
    """The RESP of one ``XADD`` per event: ``trim`` (e.g. ``MAXLEN ~ N``) after the
    stream name, the event's own id with ``keep_ids`` (where it has one), else ``*``."""
    if _c_pack is not None:
        try:
            return _c_pack(events, trim, keep_ids)
        except TypeError:
            pass  # not bytes somewhere (an event made by hand): hiredis says what
    return pack_xadds_hiredis(events, trim, keep_ids)
