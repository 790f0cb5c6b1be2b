"""Timeline transforms: which events a replay publishes (or a conversion takes), and
under which stream names.

Applied the same way to every source, in this order:

1. ``--since`` / ``--until``: keep events with ``since <= offset < until`` (offsets of
   the source's timeline) and shift them by ``-since``, so the window starts at 0 and
   events keep their spacing (including a quiet stretch before the first one);
2. ``--stream GLOB`` (repeatable): keep events whose *source* stream name matches
   any glob (``fnmatch``, case-sensitive);
3. ``--map SRC=DST`` (repeatable): rename stream ``SRC`` (exact name) to ``DST``;
4. ``--prefix P``: put ``P`` in front of every (possibly mapped) name.

Names given as text are compared with stream names as bytes through UTF-8 with
``surrogateescape``, so any byte name can be matched and produced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from xtape.errors import UsageError
from xtape.timeline import Event
from xtape.units import match_any


def text_name(name: bytes) -> str:
    """A stream name as the text globs are matched against (lossless)."""
    return name.decode("utf-8", "surrogateescape")


def byte_name(name: str) -> bytes:
    """The inverse of :func:`text_name`."""
    return name.encode("utf-8", "surrogateescape")


def parse_map(text: str) -> tuple[str, str]:
    """``"SRC=DST"`` -> ``("SRC", "DST")`` (split at the first ``=``)."""
    src, sep, dst = text.partition("=")
    if not sep or not src or not dst:
        raise UsageError(f"--map expects SRC=DST with two stream names, not {text!r}")
    return src, dst


@dataclass(frozen=True)
class Transform:
    """A stream filter, renames and a time window; :meth:`apply` runs it on a timeline."""

    streams: tuple[str, ...] = ()
    maps: tuple[tuple[str, str], ...] = ()
    prefix: str = ""
    since_ns: int | None = None
    until_ns: int | None = None
    _targets: dict[bytes, bytes | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        sources = [src for src, _ in self.maps]
        duplicated = sorted({s for s in sources if sources.count(s) > 1})
        if duplicated:
            raise UsageError(f"--map gives more than one target for {', '.join(duplicated)}")
        if self.since_ns is not None and self.since_ns < 0:
            raise UsageError("--since must not be negative")
        if self.until_ns is not None and self.until_ns <= (self.since_ns or 0):
            raise UsageError("--until must be after --since (and after the start)")

    @property
    def is_identity(self) -> bool:
        return not (self.streams or self.maps or self.prefix) and (
            self.since_ns is None and self.until_ns is None
        )

    @property
    def shift_ns(self) -> int:
        """How much earlier every kept event is played than its source offset."""
        return self.since_ns or 0

    def target(self, stream: bytes) -> bytes | None:
        """The name ``stream`` is published under, or ``None`` when it is filtered out."""
        try:
            return self._targets[stream]
        except KeyError:
            pass
        name = text_name(stream)
        result: bytes | None = None
        if not self.streams or match_any(stream, self.streams):
            mapped = dict(self.maps).get(name, name)
            result = (
                stream if mapped == name and not self.prefix else byte_name(self.prefix + mapped)
            )
        if len(self._targets) < 100_000:
            self._targets[stream] = result
        return result

    def apply(self, events: Iterable[Event]) -> Iterator[Event]:
        """The events to publish, renamed and shifted (lazily, one pass)."""
        if self.is_identity:
            yield from events
            return
        since = self.since_ns or 0
        until = self.until_ns
        target = self.target
        for event in events:
            offset = event.offset_ns
            if offset < since or (until is not None and offset >= until):
                continue
            stream = target(event.stream)
            if stream is None:
                continue
            if stream is event.stream and not since:
                yield event
            else:
                yield event._replace(offset_ns=offset - since, stream=stream)
