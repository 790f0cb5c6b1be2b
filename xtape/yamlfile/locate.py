"""The lines of a few key paths of a YAML file, found in a light second pass.

A big file is loaded without a line for every value (see :mod:`xtape.yamlfile.load`);
when an error names a few places, :func:`locate` walks the parse events again for
them, building nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import yaml
from yaml.events import (
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from xtape.yamlfile.check import Loc
from xtape.yamlfile.core import plain_scalar
from xtape.yamlfile.load import Parser

_NO_KEY = object()


def locate(text: str, wanted: Iterable[Loc]) -> dict[Loc, int]:
    """The lines of the ``wanted`` key paths (those found) and of their ancestors.

    A second, light pass over the parse events, for the few locations an error names:
    nothing is built, so a big file costs no memory here.
    """
    prefixes: set[Loc] = set()
    for loc in wanted:
        prefixes.update(loc[:end] for end in range(len(loc) + 1))
    parser = Parser(text)
    walker = _Walker(parser.get_event, prefixes)
    try:
        walker.document()
    except yaml.YAMLError:
        pass
    finally:
        parser.dispose()
    return walker.found


class _Walker:
    """Walks the parse events into the wanted key paths only, noting their lines."""

    def __init__(self, get: Callable[[], Any], prefixes: set[Loc]) -> None:
        self.get = get
        self.prefixes = prefixes
        self.found: dict[Loc, int] = {}

    def document(self) -> None:
        get = self.get
        get()
        if get().__class__ is DocumentStartEvent:
            event = get()
            self.found[()] = event.start_mark.line + 1
            self.walk(event, ())

    def skip(self, event: Any) -> None:
        if event.__class__ not in (MappingStartEvent, SequenceStartEvent):
            return
        depth = 1
        while depth:
            cls = self.get().__class__
            if cls is MappingStartEvent or cls is SequenceStartEvent:
                depth += 1
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                depth -= 1

    def walk(self, event: Any, loc: Loc) -> None:
        cls = event.__class__
        if cls is MappingStartEvent:
            self.mapping(loc)
        elif cls is SequenceStartEvent:
            self.sequence(loc)

    def mapping(self, loc: Loc) -> None:
        get = self.get
        while True:
            key_event = get()
            if key_event.__class__ is MappingEndEvent:
                return
            key: object = _NO_KEY
            if key_event.__class__ is ScalarEvent:
                plain = key_event.tag is None and key_event.implicit[0]
                key = plain_scalar(key_event.value) if plain else key_event.value
            else:
                self.skip(key_event)
            child = (*loc, key)
            value_event = get()
            try:
                hit = key is not _NO_KEY and child in self.prefixes
            except TypeError:
                hit = False
            if hit:
                self.found.setdefault(child, key_event.start_mark.line + 1)
                self.walk(value_event, child)
            else:
                self.skip(value_event)

    def sequence(self, loc: Loc) -> None:
        index = 0
        while True:
            item = self.get()
            if item.__class__ is SequenceEndEvent:
                return
            child = (*loc, index)
            if child in self.prefixes:
                self.found.setdefault(child, item.start_mark.line + 1)
                self.walk(item, child)
            else:
                self.skip(item)
            index += 1
