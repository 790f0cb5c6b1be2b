"""``--keep-ids``: checks, before anything is published, that every original id fits."""

from __future__ import annotations

from collections.abc import Iterable

from xtape.errors import KeepIdsConflict, KeepIdsOrder
from xtape.ids import MAX_PART, parse_id
from xtape.replay.publish import Publisher
from xtape.timeline import Event


def first_ids(events: Iterable[Event]) -> dict[bytes, bytes | None]:
    """Every stream a timeline publishes to, with the first id it publishes there
    (``None`` when that event has no id, so Redis generates one). One pass.

    It also checks that each stream's ids can all be published in order, raising
    :class:`KeepIdsOrder` before anything is sent where they cannot: ids must increase,
    and no event with an id may follow one without (Redis gives that one the current
    time, above any recorded id).
    """
    firsts: dict[bytes, bytes | None] = {}
    #: Per stream: the last id as a comparable tuple and as given; (None, None) after an
    #: event without an id.
    last: dict[bytes, tuple[tuple[int, int] | None, bytes | None]] = {}
    for event in events:
        stream = event.stream
        if stream not in firsts:
            firsts[stream] = event.id
        if event.id is None:
            last[stream] = (None, None)
            continue
        ms, seq = parse_id(event.id)
        if stream in last:
            previous, previous_id = last[stream]
            if previous is None:
                raise KeepIdsOrder(stream, event.id, None)
            fits = ms >= previous[0] if seq is None else (ms, seq) > previous
            if not fits:
                raise KeepIdsOrder(stream, event.id, previous_id)
        # After ``ms-*`` Redis picks the sequence: only a later ms (or another ``ms-*``) fits.
        last[stream] = ((ms, MAX_PART if seq is None else seq), event.id)
    return firsts


def check_keep_ids(firsts: dict[bytes, bytes | None], publisher: Publisher) -> None:
    """Raise :class:`KeepIdsConflict` unless every first id is above its stream's
    last generated id (a missing stream takes any id above ``0-0``)."""
    tops = publisher.stream_tops(firsts)
    for stream, first in firsts.items():
        if first is None:
            continue
        first_ms, first_seq = parse_id(first)
        top = tops.get(stream) or b"0-0"
        top_ms, top_seq = parse_id(top)
        fits = (
            first_ms >= top_ms
            if first_seq is None
            else (first_ms, first_seq) > (top_ms, top_seq or 0)
        )
        if not fits:
            raise KeepIdsConflict(stream, first, top)
