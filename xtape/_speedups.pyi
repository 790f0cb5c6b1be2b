from collections.abc import Sequence

from xtape.timeline import Event

def pack_xadds(events: Sequence[Event], trim: tuple[bytes, ...], keep_ids: bool, /) -> bytes: ...
