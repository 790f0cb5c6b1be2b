"""Timeline transforms: which events a replay publishes (or a conversion takes), and
under which stream names.

Applied the same way to every source, in this order:

1. ``--since`` / ``--until``: keep events with ``since <= offset < until`` (offsets of
   the source's timeline) and shift them by ``-since``, so the window starts at 0 and
   events keep their spacing (including a quiet stretch before the first one);
2. ``--stream GLOB`` (repeatable): keep events whose *source* stream name matches
   any glob (``fnmatch``, case-sensitive);
3. ``--map SRC=DST`` (repeatable): rename streams matching ``SRC`` (a name or a glob)
   to ``DST``; each ``*`` in ``DST`` takes what the ``*`` at the same place in ``SRC``
   matched (``orders:*=test:orders:*``). Maps are tried in the order given; the first
   whose ``SRC`` matches wins;
4. ``--where EXPR`` and ``--sample SHARE`` (:mod:`xtape.shape`): keep the events the
   expression holds true for and that are in the sample (both see the *source* names);
5. ``--prefix P``: put ``P`` in front of every (possibly mapped) name;
6. ``--multiply N``: each event N times (:class:`xtape.shape.Multiply`), under the
   names made so far.

Names given as text are compared with stream names as bytes through UTF-8 with
``surrogateescape``, so any byte name can be matched and produced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xtape.errors import UsageError
from xtape.timeline import Event
from xtape.units import match_any, parse_seconds, seconds_to_ns

if TYPE_CHECKING:
    from xtape.shape import Multiply
    from xtape.shape.where import EntryTest


def text_name(name: bytes) -> str:
    """A stream name as the text globs are matched against (lossless)."""
    return name.decode("utf-8", "surrogateescape")


def byte_name(name: str) -> bytes:
    """The inverse of :func:`text_name`."""
    return name.encode("utf-8", "surrogateescape")


def parse_map(text: str) -> tuple[str, str]:
    """``"SRC=DST"`` -> ``("SRC", "DST")`` (split at the first ``=``); checks that ``DST``
    has no ``*`` or exactly as many as ``SRC``."""
    src, sep, dst = text.partition("=")
    if not sep or not src or not dst:
        raise UsageError(f"--map expects SRC=DST with two stream names, not {text!r}")
    _check_stars(src, dst)
    return src, dst


def _check_stars(src: str, dst: str) -> None:
    stars = dst.count("*")
    if stars and stars != src.count("*"):
        raise UsageError(
            f"--map {src}={dst}: DST has {stars} '*' and SRC has {src.count('*')}; "
            "each '*' in DST takes what the '*' at the same place in SRC matched"
        )


def _glob_regex(glob: str) -> re.Pattern[str]:
    """``glob`` (``*``, ``?``, ``[abc]``, ``[!abc]``) as a regex with one group per ``*``."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        ch = glob[i]
        i += 1
        if ch == "*":
            out.append("(.*)")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            j = i + 1 if i < n and glob[i] == "!" else i
            j = j + 1 if j < n and glob[j] == "]" else j  # a leading ] is literal, as in fnmatch
            end = glob.find("]", j)
            if end < 0:
                out.append(re.escape(ch))
                continue
            body = glob[i:end]
            i = end + 1
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def window_ns(since: float | None, until: float | None) -> tuple[int | None, int | None]:
    """``--since``/``--until`` in seconds, checked, as the timeline's nanoseconds."""
    if since is not None and not since >= 0:  # (also refuses NaN)
        raise UsageError("--since must not be negative")
    if until is not None and not until > (since or 0):
        raise UsageError("--until must be after --since (and after the start)")
    return (
        None if since is None else seconds_to_ns(since),
        None if until is None else seconds_to_ns(until),
    )


@dataclass(frozen=True)
class NameMap:
    """One ``--map SRC=DST``: an exact name or a glob, and the name to publish under."""

    src: str
    dst: str
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_stars(self.src, self.dst)
        regex = _glob_regex(self.src) if any(c in self.src for c in "*?[") else None
        object.__setattr__(self, "_regex", regex)

    def rename(self, name: str) -> str | None:
        """The new name for ``name``, or ``None`` when ``SRC`` does not match it."""
        if self._regex is None:
            return self.dst if name == self.src else None
        match = self._regex.fullmatch(name)
        if match is None:
            return None
        if "*" not in self.dst:
            return self.dst
        parts = self.dst.split("*")
        groups = match.groups()
        return parts[0] + "".join(g + p for g, p in zip(groups, parts[1:], strict=True))


@dataclass(frozen=True)
class Transform:
    """A stream filter, renames and a time window; :meth:`apply` runs it on a timeline.

    The window, ``since`` and ``until``, is in seconds from the timeline's start (the
    API's unit); :attr:`since_ns` and :attr:`until_ns` are the same in the timeline's
    nanoseconds."""

    streams: tuple[str, ...] = ()
    maps: tuple[tuple[str, str], ...] = ()
    prefix: str = ""
    since: float | None = None
    until: float | None = None
    #: ``--where`` and ``--sample`` as one test of an entry (:func:`xtape.shape.entry_filter`).
    keep: EntryTest | None = None
    multiply: Multiply | None = None
    since_ns: int | None = field(default=None, init=False, repr=False, compare=False)
    until_ns: int | None = field(default=None, init=False, repr=False, compare=False)
    _targets: dict[bytes, bytes | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _renames: tuple[NameMap, ...] = field(init=False, repr=False, compare=False)
    #: Indexes of the maps that renamed at least one stream so far.
    _used: set[int] = field(default_factory=set, init=False, repr=False, compare=False)

    @classmethod
    def parse(
        cls,
        *,
        streams: Sequence[str] = (),
        maps: Sequence[str] = (),
        prefix: str = "",
        since: str | None = None,
        until: str | None = None,
        where: str | None = None,
        sample: str | None = None,
        sample_by: str | None = None,
        seed: int | None = None,
        codecs: Sequence[tuple[str, str]] = (),
        multiply: Multiply | None = None,
    ) -> Transform:
        """A transform from option texts: ``maps`` as ``SRC=DST``, ``since``/``until`` as
        durations (``2m``, ``1500ms``), ``where``/``sample``/``sample_by``/``seed`` as
        :func:`xtape.shape.selection` takes them."""
        keep = None
        if where is not None or sample is not None or sample_by is not None:
            from xtape.shape import selection

            keep = selection(where=where, sample=sample, sample_by=sample_by, seed=seed, codecs=codecs)
        return cls(
            streams=tuple(streams),
            maps=tuple(parse_map(m) for m in maps),
            prefix=prefix,
            since=None if since is None else parse_seconds(since, option="--since"),
            until=None if until is None else parse_seconds(until, option="--until"),
            keep=keep,
            multiply=multiply,
        )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_renames", tuple(NameMap(src, dst) for src, dst in self.maps))
        sources = [src for src, _ in self.maps]
        duplicated = sorted({s for s in sources if sources.count(s) > 1})
        if duplicated:
            raise UsageError(f"--map gives more than one target for {', '.join(duplicated)}")
        since_ns, until_ns = window_ns(self.since, self.until)
        object.__setattr__(self, "since_ns", since_ns)
        object.__setattr__(self, "until_ns", until_ns)

    @property
    def is_identity(self) -> bool:
        return self.selects_only and self.multiply is None

    @property
    def selects_only(self) -> bool:
        """Whether every event goes through as it is (nothing left out or renamed)."""
        return not (self.streams or self.maps or self.prefix or self.keep) and (
            self.since_ns is None and self.until_ns is None
        )

    @property
    def filtered(self) -> bool:
        """Whether events may be left out (a selection that can leave nothing)."""
        return bool(self.streams or self.keep) or self.since_ns is not None or self.until_ns is not None

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
            mapped = name
            for index, rename in enumerate(self._renames):
                new = rename.rename(name)
                if new is not None:
                    mapped = new
                    self._used.add(index)
                    break
            result = (
                stream if mapped == name and not self.prefix else byte_name(self.prefix + mapped)
            )
        if len(self._targets) < 100_000:
            self._targets[stream] = result
        return result

    def unused_maps(self) -> list[str]:
        """The ``SRC=DST`` of each map that renamed no stream so far (after a pass, the
        maps whose ``SRC`` matched nothing the timeline published)."""
        return [f"{src}={dst}" for i, (src, dst) in enumerate(self.maps) if i not in self._used]

    def apply(self, events: Iterable[Event]) -> Iterator[Event]:
        """The events to publish, renamed and shifted (lazily, one pass)."""
        out = iter(events) if self.selects_only else self._apply(events)  # as they are: no Python frame per event
        return out if self.multiply is None else self.multiply.apply(out)

    def _apply(self, events: Iterable[Event]) -> Iterator[Event]:
        since = self.since_ns or 0
        until = self.until_ns
        target = self.target
        keep = self.keep
        if keep is not None:
            from xtape.shape.where import new_pass

            new_pass(keep)
        for event in events:
            offset = event.offset_ns
            if offset < since or (until is not None and offset >= until):
                continue
            stream = target(event.stream)
            if stream is None:
                continue
            if keep is not None and not keep(event.stream, event.id, event.flat):
                continue
            if stream is event.stream and not since:
                yield event
            else:
                yield event._replace(offset_ns=offset - since, stream=stream)
