"""YAML out: a dumper people can read, quoting exactly what the core schema would retype."""

from __future__ import annotations

from typing import Any

import yaml

from xtape.yamlfile.core import use_core_schema


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, strings quoted only where needed."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


use_core_schema(_Dumper)


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
