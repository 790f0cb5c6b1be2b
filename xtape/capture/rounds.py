"""The streams a recorder records, and one round of reading them.

:class:`Rounds` keeps each stream's cursor (``states``), the streams to read next
(``dirty``: named by a hint, or not finished last round) in the order they were found,
and reads them: one MULTI per round over (up to :data:`STREAMS_PER_ROUND` of) the dirty
streams, with the continuity checks of :mod:`.cursors` before each XREAD. What a round
finds besides entries (a gap, a stream deleted or recreated, a key that is no longer a
stream) goes to the :class:`~xtape.capture.journal.Journal`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xtape.capture.cursors import Loss, Recreated, StreamInfo, StreamState
from xtape.capture.hints import Changes
from xtape.capture.journal import Journal, RecordStats
from xtape.capture.server_reader import StreamReader
from xtape.errors import CommandRefused, RuntimeFailure
from xtape.recording.records import by_id

#: At most this many streams per round (the rest stay dirty for the next ones).
STREAMS_PER_ROUND = 1000

#: What a round read: entries per stream, the XINFO of each stream checked, and the
#: capture time.
Read = tuple[dict[bytes, list[Any]], dict[bytes, StreamInfo], int]


class Rounds:
    """The streams recorded and their rounds (see the module docstring)."""

    def __init__(self, journal: Journal, stats: RecordStats) -> None:
        self.journal = journal
        self.stats = stats
        self.states: dict[bytes, StreamState] = {}
        #: Streams to read in the next rounds.
        self.dirty: set[bytes] = set()
        #: Discovery order of the streams: rounds read them in that order.
        self.order: dict[bytes, int] = {}

    def track(self, name: bytes) -> None:
        """Read the stream ``name`` (its state just set in ``states``) from now on."""
        self.order.setdefault(name, len(self.order))
        self.dirty.add(name)

    def apply(self, changes: Changes, note: Callable[[bytes], None]) -> None:
        """Take in the server's hints: streams named become dirty, other keys are
        ``note``\\ d for discovery; after a flush every stream is checked again."""
        if not changes:
            return
        if changes.flushed:
            # FLUSHALL/FLUSHDB (of some database): check every stream before trusting it.
            self.journal.flushed()
            self.recheck()
        for key in changes.keys:
            if key in self.states:
                self.dirty.add(key)
            else:
                note(key)

    def recheck(self, *, failover: bool | None = None) -> None:
        """Check every stream again before trusting its cursor (after a restart, a flush,
        a failover: losses found are of unknown size); ``failover`` set where given."""
        for state in self.states.values():
            state.broken = True
            if failover is not None:
                state.failover = failover
        self.dirty.update(self.states)

    def read(
        self,
        reader: StreamReader,
        count: int,
        keys_per_read: int,
        time_ns: Callable[[], int],
        shown_url: str,
    ) -> Read | None:
        """One MULTI: check and read (up to a limit of) the dirty streams; None when
        there is nothing to write."""
        self.dirty.intersection_update(self.states)
        names = sorted(self.dirty, key=self.order.__getitem__)[:STREAMS_PER_ROUND]
        batch_states = [self.states[n] for n in names]
        self.dirty.difference_update(names)
        replies = reader.read_round(batch_states, count, keys_per_read)
        capture_ns = time_ns()
        if replies.states is not None:
            # (a cluster: replies come per slot) the streams not read this round (a slot
            # on the move) stay dirty
            if len(replies.states) != len(batch_states):
                read = {s.name for s in replies.states}
                self.dirty.update(s.name for s in batch_states if s.name not in read)
            batch_states = replies.states
        if any(isinstance(r, CommandRefused) for r in replies.reads):
            self._drop_non_streams(reader, batch_states, shown_url)
            return None
        batches: dict[bytes, list[Any]] = {}
        for reply in replies.reads:
            for name, entries in reply or ():
                batches[bytes(name)] = entries
        infos: dict[bytes, StreamInfo] = {}
        for state, reply, present in zip(batch_states, replies.infos, replies.present, strict=True):
            if not isinstance(reply, list):
                if state.name in batches or state.cursor == b"0-0":
                    continue
                self._recreated(state, "it was deleted", capture_ns, reread=False)
                continue
            info = infos[state.name] = StreamInfo.parse(reply)
            outcome = state.check(info, present)
            if isinstance(outcome, Recreated):
                batches.pop(state.name, None)
                self._recreated(state, outcome.why, capture_ns, reread=True)
            elif isinstance(outcome, Loss):
                self.journal.gap(state.name, outcome.after_id, outcome.before_id, outcome.lost, capture_ns)
        self.dirty.update(name for name, e in batches.items() if len(e) >= count)
        return (batches, infos, capture_ns) if batches else None

    def _recreated(self, state: StreamState, why: str, capture_ns: int, *, reread: bool) -> None:
        """A stream deleted (and maybe created again): name it in a marker, start over."""
        self.journal.stream_gone(state, why, capture_ns, reread=reread)
        state.restart_from_zero()
        if reread:
            self.dirty.add(state.name)

    def _drop_non_streams(
        self, reader: StreamReader, states: list[StreamState], shown_url: str
    ) -> None:
        kinds = reader.types([s.name for s in states])
        dropped = False
        for state, kind in zip(states, kinds, strict=True):
            if kind not in (b"stream", b"none"):
                name = state.name
                self.journal.not_a_stream(name, kind)
                self.stats.streams[name] = self.states.pop(name).recorded
                self.dirty.discard(name)
                dropped = True
            else:
                self.dirty.add(state.name)
        if not dropped:
            raise RuntimeFailure(f"XREAD failed on {shown_url}")


def trim_to(batches: dict[bytes, list[Any]], remaining: int) -> None:
    """Keep only the ``remaining`` oldest entries (by id) of one round, across streams."""
    total = sum(len(e) for e in batches.values())
    if total <= remaining:
        return
    names = list(batches)
    keep: dict[bytes, int] = {}
    for i, _ in by_id([batches[name] for name in names]):
        if remaining <= 0:
            break
        keep[names[i]] = keep.get(names[i], 0) + 1
        remaining -= 1
    for name in batches:
        del batches[name][keep.get(name, 0) :]
