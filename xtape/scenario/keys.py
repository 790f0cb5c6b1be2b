"""The tables of a scenario's keys: each key of an event and of a file, its check and
its default (docs/architecture.md, "Adding a scenario key").

The light checker that loading a file runs (:mod:`.model`) and the pydantic models of
:mod:`.spec` are both built from these tables, so they accept the same keys and say the
same about a bad value. Nothing here imports pydantic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from xtape.scenario import values

#: The check of a key's value: a function that returns the value (maybe normalised) or
#: raises :func:`values.fail`.
Check: TypeAlias = Callable[[Any], Any]

_REQUIRED: Any = object()


@dataclass(frozen=True)
class Key:
    """One key of a table: its check, and its default (a ``factory`` makes a fresh one);
    a key with neither is required. ``check`` None: checked by the code that reads it."""

    check: Check | None
    default: Any = _REQUIRED
    factory: Callable[[], Any] | None = None

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED and self.factory is None

    def make_default(self) -> Any:
        return self.factory() if self.factory is not None else self.default


#: The keys of one ``events:`` entry (docs/architecture.md, "Adding a scenario key").
EVENT_TABLE: dict[str, Key] = {
    "stream": Key(values.stream),
    "payload": Key(values.payload, None),
    "generator": Key(values.generator, None),
    "delay": Key(values.milliseconds, 0),
    "repeat": Key(values.repeat, 1),
    "interval": Key(values.milliseconds, 0),
    "variables": Key(values.variables, factory=dict),
    "id": Key(values.entry_id, None),
    #: ``template: false`` publishes the payload exactly as written (no ``{{...}}``).
    "template": Key(values.template, True),
    #: The codec that encodes this event's payload (wins over the scenario's ``codecs:``;
    #: ``raw``: the payload is fields, as ``encoding`` says).
    "codec": Key(values.codec_name, None),
}

#: The top-level keys of a scenario file.
HEAD_TABLE: dict[str, Key] = {
    "name": Key(values.text, None),
    "description": Key(values.text, None),
    "variables": Key(values.variables, factory=dict),
    "generators": Key(values.generators, factory=dict),
    "encoding": Key(values.encoding, "fields"),
    #: Stream glob -> the codec that encodes those events' payloads (docs/codecs.md).
    "codecs": Key(values.codecs, factory=dict),
    "events": Key(None),  # a non-empty list, each checked by check_event
}


