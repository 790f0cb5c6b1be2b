"""YAML in, safely: a loader built for big and hostile files.

Only YAML's standard tags are accepted (``!!python/...`` is refused), ``!!binary``
loads as ``bytes``, and plain dates stay strings (a payload field ``2024-01-01`` is the
text ``2024-01-01``, not a datetime). Duplicate keys in a mapping are an error instead of
YAML's silent "last one wins": a payload would lose a field without telling anyone.

The loader builds Python data straight from libyaml's parse events (PyYAML's composer
and constructor took ~35 s on a 200,000-event file; this takes about 1.4x a bare walk
over the events). Aliases are shared, not copied, and what they would repeat is counted
against :data:`MAX_ALIAS_NODES` before anything is expanded. Lines are recorded only on
request (:func:`load_yaml`); :func:`xtape.yamlfile.locate.locate` finds the lines of a
few key paths later, in a second pass that builds nothing.

Every problem is a :class:`~xtape.errors.YamlError` ``path:line: invalid YAML: ...``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from sys import intern
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from xtape.errors import YamlError
from xtape.yamlfile.check import Loc
from xtape.yamlfile.core import INT_TAG, RESOLVABLE, plain_scalar, yaml_int

#: libyaml's parser where PyYAML has it (its pure-Python one otherwise).
Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_NON_SPECIFIC = (None, "!")
_PLAIN_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_SET = "tag:yaml.org,2002:set"

#: Aliases may repeat at most this many nodes in total: each alias counts every node of
#: what it refers to (nested aliases included; a scalar is one node plus one per 100
#: characters, so repeating a long text costs its length). Counted while the file is
#: read, before anything is expanded, so an "alias bomb" (billion laughs) is refused at
#: once, with the line of the alias that crossed the limit.
MAX_ALIAS_NODES = 1_000_000

#: Mappings and lists may nest at most this deep (a scenario needs a handful of levels;
#: far deeper ones would only exhaust the stack of whatever walks them).
MAX_DEPTH = 100


class _Constructor(SafeConstructor):
    """For explicitly tagged scalars (``!!binary``, ``!!timestamp``...): safe tags only."""

    def construct_yaml_int(self, node: ScalarNode) -> int:
        return yaml_int(str(self.construct_scalar(node)))


_Constructor.add_constructor(INT_TAG, _Constructor.construct_yaml_int)  # type: ignore[type-var]


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
        self.parser = Parser(text)
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
        if tag not in _PLAIN_COLLECTION_TAGS and tag != _SET:
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
                    key = text if text and text[0] not in RESOLVABLE else plain_scalar(text)
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
                if value_event.implicit[0] and (not text or text[0] in RESOLVABLE):
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
        if merges or tag == _SET:
            return _merged(result, merges, tag)
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
                if item.implicit[0] and (not text or text[0] in RESOLVABLE):
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


def _merged(result: dict[Any, Any], merges: list[dict[Any, Any]] | None, tag: str) -> Any:
    """A mapping with what its merge keys (``<<``) bring in, as a set for ``!!set``."""
    if merges:
        merged: dict[Any, Any] = {}
        for source in merges:
            merged.update(source)
        merged.update(result)
        result = merged
    return set(result) if tag == _SET else result


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
    :class:`YamlError` ``path:line: invalid YAML: ...`` on any YAML problem.
    """
    builder = _Builder(text, lines, progress)
    try:
        return builder.document()
    except _Refused as error:
        raise YamlError(path, error.line, error.message) from None
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


def _invalid(path: str, line: int, message: str) -> YamlError:
    return YamlError(path, line, f"invalid YAML: {message}")


def load_yaml(text: str, path: str) -> tuple[Any, dict[Loc, int]]:
    """Parse ``text`` safely: the data, and the line of every key path in it.

    Raises :class:`YamlError` ``path:line: invalid YAML: ...`` on any YAML problem.
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
    except YamlError as exc:
        raise error(name, exc.line, exc.reason) from None


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
