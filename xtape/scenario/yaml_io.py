"""YAML in and out, safely: a loader that remembers lines, a dumper people can read.

Only YAML's standard tags are accepted (``!!python/...`` is refused), ``!!binary``
loads as ``bytes``, and plain dates stay strings (a payload field ``2024-01-01`` is the
text ``2024-01-01``, not a datetime). Duplicate keys in a mapping are an error instead of
YAML's silent "last one wins": a payload would lose a field without telling anyone.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader with the YAML 1.2 core schema (see ``_CORE_SCHEMA``)."""

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_use_core_schema(_Loader)


def load_yaml(text: str, path: str) -> tuple[Any, dict[Loc, int]]:
    """Parse ``text`` safely: the data, and the line of every key path in it.

    Raises :class:`ScenarioError` ``path:line: invalid YAML: ...`` on any YAML problem.
    """
    loader = _Loader(text)
    lines: dict[Loc, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        _walk(loader, node, (), lines, set(), path)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        line = max(1, min(line, text.count("\n") + (0 if text.endswith("\n") else 1)))
        raise scenario_error(
            SourceMap(path, {(): line}), (), f"invalid YAML: {_describe(error)}"
        ) from None
    except yaml.YAMLError as error:
        raise scenario_error(
            SourceMap(path, {(): 1}), (), f"invalid YAML: {_one_line(str(error))}"
        ) from None
    finally:
        loader.dispose()


def _walk(
    loader: Any, node: Node, loc: Loc, lines: dict[Loc, int], seen: set[int], path: str
) -> None:
    """Record the line of each key and item under ``node``; refuse duplicate keys."""
    if id(node) in seen:  # an alias: its lines are recorded where the anchor is
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        keys: set[object] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key: object = None
            if isinstance(key_node, ScalarNode):
                key = loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            try:
                duplicate = key in keys
                keys.add(key)
            except TypeError:  # an unhashable key: the constructor will complain
                continue
            if duplicate and key is not None:
                hint = " (a payload with repeated field names uses the list form: [[name, value], ...])"
                raise scenario_error(
                    SourceMap(path, {(): line}), (), f"duplicate key {key!r}{hint}"
                )
            lines.setdefault((*loc, key), line)
            _walk(loader, value_node, (*loc, key), lines, seen, path)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            lines.setdefault((*loc, index), item.start_mark.line + 1)
            _walk(loader, item, (*loc, index), lines, seen, path)


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
