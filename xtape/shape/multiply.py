"""``replay --multiply N``: every event published N times, with its original timing.

Copy ``k`` (1 to N) of an event goes out at the same offset as the event,

* into a stream of its own, ``--copy-map`` (default ``{stream}:{n}``: ``orders`` ->
  ``orders:1`` ... ``orders:N``; ``{stream}`` is the name after ``--map``/``--prefix``),
* or, with ``--copy-into-same``, into the event's own stream;

with ``--copy-field NAME`` a field ``NAME`` = ``k`` added last, and the values of the
fields named by ``--copy-suffix FIELD`` (repeatable) ending in ``-k``, so the order and
user ids of the copies do not collide. An event's copies come one after the other, so
a replay stopped midway has published each copy as far as the others, give or take one.

The plain case (a map, no field changed) makes the copies with C-level calls: a copy
costs a tuple, not a Python step.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, repeat

from xtape.errors import UsageError
from xtape.timeline import Event

#: The default ``--copy-map``.
COPY_MAP = "{stream}:{n}"
#: More copies than this is a typo rather than a load test.
MAX_COPIES = 10_000


def _check_template(template: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as error:
        raise UsageError(f"--copy-map {template!r}: {error} (use {{{{ and }}}} for braces)") from None
    unknown = names - {"stream", "n"}
    if unknown:
        raise UsageError(
            f"--copy-map {template!r}: unknown placeholder {{{sorted(unknown)[0]}}}; "
            "use {stream} (the stream's name) and {n} (the copy's number, from 1)"
        )
    if "n" not in names:
        raise UsageError(
            f"--copy-map {template!r} has no {{n}}: every copy would go to the same stream "
            "(use --copy-into-same for that)"
        )


@dataclass(frozen=True)
class Multiply:
    """N copies of every event (see the module docstring)."""

    copies: int
    copy_map: str | None = None
    into_same: bool = False
    copy_field: str | None = None
    suffix_fields: tuple[str, ...] = ()
    _names: dict[bytes, tuple[bytes, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: Each target stream's copy number (a map only).
    _copy_of: dict[bytes, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.copies <= MAX_COPIES:
            raise UsageError(f"--multiply must be from 1 to {MAX_COPIES:,}, not {self.copies}")
        if self.into_same and self.copy_map is not None:
            raise UsageError("--copy-map and --copy-into-same exclude each other: give one")
        if not self.into_same:
            _check_template(self.template)
        if self.copy_field is not None and not self.copy_field:
            raise UsageError("--copy-field: give a field name")

    @property
    def template(self) -> str:
        return self.copy_map if self.copy_map is not None else COPY_MAP

    @property
    def changes_fields(self) -> bool:
        return self.copy_field is not None or bool(self.suffix_fields)

    def names(self, stream: bytes) -> tuple[bytes, ...]:
        """The streams copies 1 to N of an event of ``stream`` go to."""
        found = self._names.get(stream)
        if found is None:
            if self.into_same:
                found = (stream,) * self.copies
            else:
                text = stream.decode("utf-8", "surrogateescape")
                found = tuple(
                    self.template.format(stream=text, n=k).encode("utf-8", "surrogateescape")
                    for k in range(1, self.copies + 1)
                )
                for k, name in enumerate(found, 1):
                    self._copy_of.setdefault(name, k)
            if len(self._names) < 100_000:
                self._names[stream] = found
        return found

    def copy_of(self, stream: bytes) -> int | None:
        """The copy a target stream holds (None: not known, or copies into the same)."""
        return self._copy_of.get(stream)

    def apply(self, events: Iterable[Event]) -> Iterator[Event]:
        """Each event's N copies, one after the other."""
        if self.changes_fields:
            return self._changed(events)
        make = partial(tuple.__new__, Event)
        names = self.names
        return chain.from_iterable(
            map(make, zip(repeat(e[0]), names(e[1]), repeat(e[2]), repeat(e[3]))) for e in events
        )

    def _changed(self, events: Iterable[Event]) -> Iterator[Event]:
        suffixes = [b"-%d" % k for k in range(1, self.copies + 1)]
        numbers = [b"%d" % k for k in range(1, self.copies + 1)]
        wanted = {name.encode("utf-8", "surrogateescape") for name in self.suffix_fields}
        extra = None if self.copy_field is None else self.copy_field.encode("utf-8", "surrogateescape")
        new = tuple.__new__
        for event in events:
            offset, stream, flat, entry_id = event
            at = [i + 1 for i in range(0, len(flat) - 1, 2) if flat[i] in wanted]
            for k, name in enumerate(self.names(stream)):
                out: list[bytes] = list(flat)
                for i in at:
                    out[i] = out[i] + suffixes[k]
                if extra is not None:
                    out += (extra, numbers[k])
                yield new(Event, (offset, name, tuple(out), entry_id))

    def per_copy(self, published: int, by_stream: dict[bytes, int]) -> dict[int, int]:
        """Entries published per copy: from the target streams' counts (a map), else
        ``published`` shared out in the order the copies went (one after the other)."""
        if not self.into_same:
            counts = dict.fromkeys(range(1, self.copies + 1), 0)
            for name, count in by_stream.items():
                k = self._copy_of.get(name)
                if k is not None:
                    counts[k] += count
            return counts
        whole, rest = divmod(published, self.copies)
        return {k: whole + (k <= rest) for k in range(1, self.copies + 1)}



def multiply_from(
    copies: int | None,
    *,
    copy_map: str | None = None,
    into_same: bool = False,
    copy_field: str | None = None,
    suffix_fields: tuple[str, ...] = (),
) -> Multiply | None:
    """``--multiply`` and its ``--copy-*`` options (None: no ``--multiply``, and then
    none of them may be given)."""
    if copies is None:
        given = [
            option
            for option, value in (
                ("--copy-map", copy_map),
                ("--copy-into-same", into_same or None),
                ("--copy-field", copy_field),
                ("--copy-suffix", suffix_fields or None),
            )
            if value is not None
        ]
        if given:
            raise UsageError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} with --multiply N")
        return None
    return Multiply(copies, copy_map, into_same, copy_field, suffix_fields)
