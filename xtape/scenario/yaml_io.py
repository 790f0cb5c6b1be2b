"""YAML in and out, safely: a loader built for big and hostile files, a dumper people can read.

Only YAML's standard tags are accepted (``!!python/...`` is refused), ``!!binary``
loads as ``bytes``, and plain dates stay strings (a payload field ``2024-01-01`` is the
text ``2024-01-01``, not a datetime). Duplicate keys in a mapping are an error instead of
YAML's silent "last one wins": a payload would lose a field without telling anyone.

The loader builds Python data straight from libyaml's parse events (PyYAML's composer
and constructor took ~35 s on a 200,000-event file; this takes about 1.4x a bare walk
over the events). Aliases are shared, not copied, and what they would repeat is counted
against :data:`MAX_ALIAS_NODES` before anything is expanded. Lines are recorded only on
request (:func:`load_yaml`); :func:`locate` finds the lines of a few key paths later, in
a second pass that builds nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from sys import intern
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from xtape.errors import ScenarioError
from xtape.scenario.locations import Loc, SourceMap, scenario_error

_MERGE_TAG = "tag:yaml.org,2002:merge"

#: YAML 1.2 core schema (what JavaScript's js-yaml reads), not PyYAML's YAML 1.1: only
#: true/false are booleans (``yes``, ``no``, ``on``, ``off`` stay text), ``12:30`` is
#: text not 750, ``007`` is 7 not octal, ``1e3`` is a number, and dates stay text.
#: The loader and the dumper share it, so the dumper quotes exactly what would be retyped.
_CORE_SCHEMA: list[tuple[str, re.Pattern[str], str]] = [
    ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
    ("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+.0123456789",
    ),
    (_MERGE_TAG, re.compile(r"^(?:<<)$"), "<"),
]


def _use_core_schema(cls: Any) -> None:
    cls.yaml_implicit_resolvers = {}
    for tag, regexp, first in _CORE_SCHEMA:
        cls.add_implicit_resolver(tag, regexp, list(first))
    cls.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])


_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_NON_SPECIFIC = (None, "!")
_PLAIN_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")

#: Aliases may repeat at most this many nodes in total: each alias counts every node of
#: what it refers to (nested aliases included; a scalar is one node plus one per 100
#: characters, so repeating a long text costs its length). Counted while the file is
#: read, before anything is expanded, so an "alias bomb" (billion laughs) is refused at
#: once, with the line of the alias that crossed the limit.
MAX_ALIAS_NODES = 1_000_000

#: Mappings and lists may nest at most this deep (a scenario needs a handful of levels;
#: far deeper ones would only exhaust the stack of whatever walks them).
MAX_DEPTH = 100

_PATTERNS = {tag: regexp for tag, regexp, _ in _CORE_SCHEMA}
_INT_RE = _PATTERNS["tag:yaml.org,2002:int"]
_FLOAT_RE = _PATTERNS["tag:yaml.org,2002:float"]
_WORDS: dict[str, object] = {
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    "~": None, "null": None, "Null": None, "NULL": None, "": None,
}
_NUMERIC_START = frozenset("-+.0123456789")


def _int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


def plain_scalar(text: str) -> Any:
    """A plain (unquoted, untagged) scalar under the YAML 1.2 core schema (``_CORE_SCHEMA``)."""
    if text in _WORDS:
        return _WORDS[text]
    if text and text[0] in _NUMERIC_START:
        if _INT_RE.match(text):
            return _int(text)
        if _FLOAT_RE.match(text):
            return _float(text)
    return text


class _Constructor(SafeConstructor):
    """For explicitly tagged scalars (``!!binary``, ``!!timestamp``...): safe tags only."""

    def construct_yaml_int(self, node: ScalarNode) -> int:
        return _int(str(self.construct_scalar(node)))


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)  # type: ignore[type-var]


class _Refused(Exception):
    """A document xtape will not build (line is 1-based)."""

    def __init__(self, message: str, line: int, *, syntax: bool = True) -> None:
        super().__init__(message)
        self.message = f"invalid YAML: {message}" if syntax else message
        self.line = line


def _is_merge_key(event: Any) -> bool:
    return (
        event.__class__ is ScalarEvent
        and event.value == "<<"
        and event.tag is None
        and event.implicit[0]
        and event.anchor is None
    )


#: First characters of the plain scalars that may resolve to something other than text.
_RESOLVABLE = frozenset("tTfF~nN-+.0123456789")


def _size(value: Any, memo: dict[int, int]) -> int:
    """How many nodes ``value`` has once expanded (shared parts counted each time); a
    long scalar counts one more node per 100 characters (see :data:`MAX_ALIAS_NODES`)."""
    cls = value.__class__
    if cls is str or cls is bytes:
        return 1 + len(value) // 100
    if cls is dict or cls is list or cls is set or cls is tuple:
        key = id(value)
        found = memo.get(key)
        if found is None:
            if cls is dict:
                found = 1 + sum(_size(k, memo) + _size(v, memo) for k, v in value.items())
            else:
                found = 1 + sum(_size(item, memo) for item in value)
            memo[key] = found
        return found
    return 1


class _Builder:
    """Builds Python data straight from libyaml's parse events (no node tree).

    YAML 1.2 core schema for plain scalars, safe constructors for tagged ones, merge keys,
    duplicate keys refused, aliases shared (not copied) and the nodes they repeat counted
    against :data:`MAX_ALIAS_NODES` before anything is expanded. With ``lines`` it
    records the line of every key path.
    """

    def __init__(
        self,
        text: str,
        lines: dict[Loc, int] | None,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.parser = _Parser(text)
        self.get = self.parser.get_event
        self.lines = lines
        self.progress = progress
        self.total = len(text)
        self.anchors: dict[str, Any] = {}
        self.open: set[str] = set()
        self.depth = 0
        self.sizes: dict[int, int] = {}
        self.aliased = 0  # nodes repeated by aliases
        self.constructor: _Constructor | None = None

    def document(self) -> Any:
        get = self.get
        get()  # stream start
        event = get()
        if event.__class__ is StreamEndEvent:
            return None
        value = self.node(get(), () if self.lines is not None else None)
        get()  # document end
        event = get()
        if event.__class__ is not StreamEndEvent:
            raise _Refused(
                "expected a single document in the stream, but found another document",
                event.start_mark.line + 1,
            )
        return value

    def node(self, event: Any, loc: Loc | None) -> Any:
        cls = event.__class__
        if cls is AliasEvent:
            return self.alias(event)
        anchor = event.anchor
        if anchor is not None:
            if anchor in self.anchors or anchor in self.open:
                raise _Refused(f"found duplicate anchor {anchor!r}", event.start_mark.line + 1)
            self.open.add(anchor)
        if cls is ScalarEvent:
            tag = event.tag
            if tag in _NON_SPECIFIC:
                value = plain_scalar(event.value) if event.implicit[0] else event.value
            elif tag == _STR:
                value = event.value
            else:
                value = self.tagged_scalar(event)
        else:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Refused(
                    f"nested more than {MAX_DEPTH} levels deep (xtape reads at most that)",
                    event.start_mark.line + 1,
                    syntax=False,
                )
            if cls is MappingStartEvent:
                value = self.mapping(event, loc)
            else:
                value = self.sequence(event, loc)
            self.depth -= 1
        if anchor is not None:
            self.open.discard(anchor)
            self.anchors[anchor] = value
        return value

    def alias(self, event: Any) -> Any:
        name = event.anchor
        line = event.start_mark.line + 1
        if name in self.open:
            raise _Refused(f"alias *{name} refers to a node that contains it (recursive)", line)
        if name not in self.anchors:
            raise _Refused(f"found undefined alias {name!r}", line)
        value = self.anchors[name]
        self.aliased += _size(value, self.sizes)
        if self.aliased > MAX_ALIAS_NODES:
            raise _Refused(
                f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (at *{name}); "
                "xtape refuses such documents (an alias bomb?): write the data out or use repeat:",
                line,
                syntax=False,
            )
        return value

    def tagged_scalar(self, event: Any) -> Any:
        if self.constructor is None:
            self.constructor = _Constructor()
        node = ScalarNode(event.tag, event.value, event.start_mark, event.end_mark, event.style)
        return self.constructor.construct_object(node, deep=True)

    def mapping(self, event: Any, loc: Loc | None) -> Any:
        tag = event.tag
        if tag not in _PLAIN_COLLECTION_TAGS and tag != "tag:yaml.org,2002:set":
            raise _Refused(_unsupported(tag), event.start_mark.line + 1)
        get = self.get
        node = self.node
        lines = self.lines
        result: dict[Any, Any] = {}
        merges: list[dict[Any, Any]] | None = None
        key: Any
        value: Any
        while True:
            key_event = get()
            cls = key_event.__class__
            if cls is ScalarEvent and key_event.anchor is None and key_event.tag is None:
                text = key_event.value
                if key_event.implicit[0]:
                    if text == "<<":
                        merges = self.merge(node(get(), None), key_event, merges)
                        continue
                    key = text if text and text[0] not in _RESOLVABLE else plain_scalar(text)
                else:
                    key = text
            elif cls is MappingEndEvent:
                break
            else:
                key = node(key_event, None)
            if key.__class__ is str:
                key = intern(key)  # the same few keys, thousands of times: one copy
            try:
                duplicate = key in result
            except TypeError:
                raise _Refused(
                    "found an unhashable key (a mapping or list as a key)", key_event.start_mark.line + 1
                ) from None
            if duplicate and key is not None:
                hint = " (a payload with repeated field names uses the list form: [[name, value], ...])"
                raise _Refused(f"duplicate key {key!r}{hint}", key_event.start_mark.line + 1, syntax=False)
            value_event = get()
            if (
                value_event.__class__ is ScalarEvent
                and value_event.anchor is None
                and value_event.tag is None
            ):
                text = value_event.value
                if value_event.implicit[0] and (not text or text[0] in _RESOLVABLE):
                    value = plain_scalar(text)
                else:
                    value = text
                if lines is not None and loc is not None:
                    lines.setdefault((*loc, key), key_event.start_mark.line + 1)
            elif lines is not None and loc is not None:
                child = (*loc, key)
                lines.setdefault(child, key_event.start_mark.line + 1)
                value = node(value_event, child)
            else:
                value = node(value_event, None)
            result[key] = value
        if merges:
            merged: dict[Any, Any] = {}
            for source in merges:
                merged.update(source)
            merged.update(result)
            result = merged
        if tag == "tag:yaml.org,2002:set":
            return set(result)
        return result

    @staticmethod
    def merge(value: Any, key_event: Any, merges: list[dict[Any, Any]] | None) -> list[dict[Any, Any]]:
        found = merges if merges is not None else []
        if isinstance(value, dict):
            found.append(value)
        elif isinstance(value, list) and all(isinstance(item, dict) for item in value):
            found.extend(reversed(value))
        else:
            raise _Refused(
                "expected a mapping or list of mappings for merging (<<)", key_event.start_mark.line + 1
            )
        return found

    def sequence(self, event: Any, loc: Loc | None) -> Any:
        tag = event.tag
        pairs = tag in ("tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs")
        if tag not in _PLAIN_COLLECTION_TAGS and not pairs:
            raise _Refused(_unsupported(tag), event.start_mark.line + 1)
        get = self.get
        node = self.node
        lines = self.lines
        progress = self.progress
        result: list[Any] = []
        append = result.append
        index = 0
        while True:
            item = get()
            cls = item.__class__
            if cls is ScalarEvent and item.anchor is None and item.tag is None:
                text = item.value
                if item.implicit[0] and (not text or text[0] in _RESOLVABLE):
                    append(plain_scalar(text))
                else:
                    append(text)
                if lines is not None and loc is not None:
                    lines.setdefault((*loc, index), item.start_mark.line + 1)
            elif cls is SequenceEndEvent:
                break
            else:
                if progress is not None and not index & 1023:
                    progress(item.start_mark.index, self.total)
                if lines is not None and loc is not None:
                    child = (*loc, index)
                    lines.setdefault(child, item.start_mark.line + 1)
                    append(node(item, child))
                else:
                    append(node(item, None))
            index += 1
        if pairs:
            out: list[tuple[Any, Any]] = []
            for entry in result:
                if not isinstance(entry, dict) or len(entry) != 1:
                    raise _Refused(
                        f"expected a list of single-key mappings for {tag}", event.start_mark.line + 1
                    )
                out.extend(entry.items())
            return out
        return result


def _unsupported(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"unsupported tag {shown!r} (xtape loads YAML safely: only standard tags like !!binary are allowed)"


def read_yaml(
    text: str,
    path: str,
    *,
    lines: dict[Loc, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """Parse ``text`` safely into plain data (see the module docstring).

    With ``lines``, the line of every key path is recorded in it. ``progress(done, total)``
    is called now and then with how much of the text is read. Raises
    :class:`ScenarioError` ``path:line: invalid YAML: ...`` on any YAML problem.
    """
    builder = _Builder(text, lines, progress)
    try:
        return builder.document()
    except _Refused as error:
        raise scenario_error(SourceMap(path, {(): error.line}), (), error.message) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        line = max(1, min(line, text.count("\n") + (0 if text.endswith("\n") else 1)))
        raise _invalid(path, line, _describe(error)) from None
    except yaml.YAMLError as error:
        raise _invalid(path, 1, _one_line(str(error))) from None
    except (ValueError, TypeError, OverflowError) as error:  # a tagged scalar that is not one
        raise _invalid(path, 1, _one_line(str(error))) from None
    finally:
        builder.parser.dispose()


def _invalid(path: str, line: int, message: str) -> ScenarioError:
    return scenario_error(SourceMap(path, {(): line}), (), f"invalid YAML: {message}")


def load_yaml(text: str, path: str) -> tuple[Any, dict[Loc, int]]:
    """Parse ``text`` safely: the data, and the line of every key path in it.

    Raises :class:`ScenarioError` ``path:line: invalid YAML: ...`` on any YAML problem.
    """
    lines: dict[Loc, int] = {}
    return read_yaml(text, path, lines=lines), lines


def load_yaml_file(
    path: str | Path, what: str, error: Callable[[str, int | None, str], Exception]
) -> tuple[Any, dict[Loc, int]]:
    """:func:`load_yaml` of a file (``what``: "rules file", "case file", for messages);
    every problem, from reading to YAML, is raised as ``error(path, line, message)``."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(name, None, f"cannot read the {what}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise error(name, None, f"the {what} is not UTF-8 text") from None
    try:
        return load_yaml(text, name)
    except ScenarioError as exc:
        raise error(name, exc.line, exc.reason) from None


_NO_KEY = object()


def locate(text: str, wanted: Iterable[Loc]) -> dict[Loc, int]:
    """The lines of the ``wanted`` key paths (those found) and of their ancestors.

    A second, light pass over the parse events, for the few locations an error names:
    nothing is built, so a big file costs no memory here.
    """
    prefixes: set[Loc] = set()
    for loc in wanted:
        prefixes.update(loc[:end] for end in range(len(loc) + 1))
    found: dict[Loc, int] = {}
    parser = _Parser(text)
    get = parser.get_event

    def skip(event: Any) -> None:
        if event.__class__ not in (MappingStartEvent, SequenceStartEvent):
            return
        depth = 1
        while depth:
            cls = get().__class__
            if cls is MappingStartEvent or cls is SequenceStartEvent:
                depth += 1
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                depth -= 1

    def walk(event: Any, loc: Loc) -> None:
        cls = event.__class__
        if cls is MappingStartEvent:
            while True:
                key_event = get()
                if key_event.__class__ is MappingEndEvent:
                    return
                key: object = _NO_KEY
                if key_event.__class__ is ScalarEvent:
                    tag = key_event.tag
                    plain = tag is None and key_event.implicit[0]
                    key = plain_scalar(key_event.value) if plain else key_event.value
                else:
                    skip(key_event)
                child = (*loc, key)
                value_event = get()
                try:
                    hit = key is not _NO_KEY and child in prefixes
                except TypeError:
                    hit = False
                if hit:
                    found.setdefault(child, key_event.start_mark.line + 1)
                    walk(value_event, child)
                else:
                    skip(value_event)
        elif cls is SequenceStartEvent:
            index = 0
            while True:
                item = get()
                if item.__class__ is SequenceEndEvent:
                    return
                child = (*loc, index)
                if child in prefixes:
                    found.setdefault(child, item.start_mark.line + 1)
                    walk(item, child)
                else:
                    skip(item)
                index += 1

    try:
        get()
        if get().__class__ is DocumentStartEvent:
            event = get()
            found[()] = event.start_mark.line + 1
            walk(event, ())
    except yaml.YAMLError:
        pass
    finally:
        parser.dispose()
    return found


def _describe(error: yaml.MarkedYAMLError) -> str:
    problem = error.problem or "cannot parse"
    if "could not determine a constructor for the tag" in problem:
        tag = problem.rsplit(" ", 1)[-1].strip("'")
        tag = tag.replace("tag:yaml.org,2002:", "!!")
        return f"unsupported tag {tag!r} (xtape loads YAML safely: only standard tags like !!binary are allowed)"
    if error.context:
        return _one_line(f"{error.context}: {problem}")
    return _one_line(problem)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, strings quoted only where needed."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_use_core_schema(_Dumper)


_SPECIAL = frozenset("\r\x85\u2028\u2029\ufeff\t")


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style: str | None = None
    if any(ch in _SPECIAL or (not ch.isprintable() and ch != "\n") for ch in data):
        style = '"'
    elif "\n" in data:
        style = "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any] | tuple[Any, ...]) -> yaml.SequenceNode:
    pair = len(data) == 2 and all(isinstance(part, (str, bytes)) for part in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=pair or None)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(tuple, _represent_list)


def dump_scenario_yaml(data: Any) -> str:
    """A scenario (plain data: dicts, lists, str, bytes, numbers) as readable YAML.

    Safe dumper only; block style in the order given; strings that YAML would read back as
    another type (``"5"``, ``"true"``, ``"null"``) are quoted; ``bytes`` become ``!!binary``;
    ``[name, value]`` pairs are written on one line.
    """
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 20,
    )


def dump_flow(data: Any) -> str:
    """``data`` on one line in YAML flow style (``{type: string, enum: [a, b]}``), quoted
    where the core schema would read it back as another type."""
    text = yaml.dump(
        data, Dumper=_Dumper, default_flow_style=True, allow_unicode=True, width=1 << 20, sort_keys=False
    )
    return text.removesuffix("\n...\n").rstrip("\n")
