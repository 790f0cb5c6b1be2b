"""``{{variable}}`` templates, compiled once and rendered per publish.

A placeholder that is the whole string keeps the variable's type (``"{{basePrice}}"`` with
``basePrice: 50000`` renders the int ``50000``); inside longer text the value is
substituted as text (numbers and booleans as JSON text, objects as compact JSON).
Compilation records every name used and where, so undefined variables are found before
anything is published.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xtape.scenario.context import RenderContext
from xtape.yamlfile.check import Loc

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Use:
    """A ``{{name}}`` found at ``loc`` while compiling."""

    name: str
    loc: Loc


class Node:
    """A compiled piece of payload: rendering it gives the value for one publish."""

    __slots__ = ()

    #: Whether every render gives the same value (so it can be computed once).
    constant = False

    def render(self, ctx: RenderContext) -> Any:
        raise NotImplementedError


class Const(Node):
    """A value with no placeholders (and no generators) in it."""

    __slots__ = ("value",)
    constant = True

    def __init__(self, value: Any) -> None:
        self.value = value

    def render(self, ctx: RenderContext) -> Any:
        return self.value


class Var(Node):
    """``"{{name}}"`` as the whole value: the variable itself, type kept."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def render(self, ctx: RenderContext) -> Any:
        return ctx.lookup(self.name)


class Text(Node):
    """Text with placeholders in it: ``"pos_{{index}}"``."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[tuple[bool, str], ...]) -> None:
        #: ``(is_placeholder, text_or_name)`` in order.
        self.parts = parts

    def render(self, ctx: RenderContext) -> str:
        return "".join(
            as_text(ctx.lookup(part)) if is_name else part for is_name, part in self.parts
        )


class TextOf(Node):
    """Any node rendered as text (for field names, which are always text)."""

    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node

    def render(self, ctx: RenderContext) -> Any:
        value = self.node.render(ctx)
        return value if isinstance(value, (str, bytes)) else as_text(value)


class MapNode(Node):
    """A mapping whose keys and values may hold placeholders."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[tuple[Node, Node], ...]) -> None:
        self.items = items

    def render(self, ctx: RenderContext) -> dict[Any, Any]:
        return {key.render(ctx): value.render(ctx) for key, value in self.items}


class PairsNode(Node):
    """A payload in list form: ``[[name, value], ...]`` (duplicate names kept)."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[tuple[Node, Node], ...]) -> None:
        self.items = items

    def render(self, ctx: RenderContext) -> list[tuple[Any, Any]]:
        return [(key.render(ctx), value.render(ctx)) for key, value in self.items]


class ListNode(Node):
    """A list whose items may hold placeholders."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[Node, ...]) -> None:
        self.items = items

    def render(self, ctx: RenderContext) -> list[Any]:
        return [item.render(ctx) for item in self.items]


def as_text(value: Any) -> str:
    """A value substituted into text: strings as they are, everything else as JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def compile_text(text: str, loc: Loc, uses: list[Use]) -> Node:
    """Compile one string: :class:`Const`, :class:`Var` (whole value) or :class:`Text`."""
    if "{{" not in text:
        return Const(text)
    whole = PLACEHOLDER.fullmatch(text)
    if whole is not None:
        uses.append(Use(whole.group(1), loc))
        return Var(whole.group(1))
    parts: list[tuple[bool, str]] = []
    last = 0
    for match in PLACEHOLDER.finditer(text):
        if match.start() > last:
            parts.append((False, text[last : match.start()]))
        parts.append((True, match.group(1)))
        uses.append(Use(match.group(1), loc))
        last = match.end()
    if not any(is_name for is_name, _ in parts):
        return Const(text)
    if last < len(text):
        parts.append((False, text[last:]))
    return Text(tuple(parts))


def compile_value(value: Any, loc: Loc, uses: list[Use]) -> Node:
    """Compile a payload value (scalars, nested mappings and lists) into a :class:`Node`."""
    if isinstance(value, str):
        return compile_text(value, loc, uses)
    if isinstance(value, Mapping):
        return mapping_node(
            [
                (compile_key(key, (*loc, key), uses), compile_value(item, (*loc, key), uses))
                for key, item in value.items()
            ]
        )
    if isinstance(value, list):
        return list_node([compile_value(item, (*loc, i), uses) for i, item in enumerate(value)])
    return Const(value)


def compile_key(key: Any, loc: Loc, uses: list[Use]) -> Node:
    """A field name: templates allowed, always rendered as text."""
    node = compile_text(key, loc, uses) if isinstance(key, str) else Const(key)
    return node if node.constant else TextOf(node)


def mapping_node(items: list[tuple[Node, Node]]) -> Node:
    """A :class:`MapNode`, folded into a :class:`Const` when nothing in it varies."""
    if all(key.constant and value.constant for key, value in items):
        return Const({key.render(_NO_CONTEXT): value.render(_NO_CONTEXT) for key, value in items})
    return MapNode(tuple(items))


def constant_value(node: Node) -> Any:
    """The value of a node whose :attr:`Node.constant` is true."""
    return node.render(_NO_CONTEXT)


def list_node(items: list[Node]) -> Node:
    """A :class:`ListNode`, folded into a :class:`Const` when nothing in it varies."""
    if all(item.constant for item in items):
        return Const([item.render(_NO_CONTEXT) for item in items])
    return ListNode(tuple(items))


def pairs_node(items: list[tuple[Node, Node]]) -> Node:
    """A :class:`PairsNode`, folded into a :class:`Const` when nothing in it varies."""
    if all(key.constant and value.constant for key, value in items):
        return Const([(key.render(_NO_CONTEXT), value.render(_NO_CONTEXT)) for key, value in items])
    return PairsNode(tuple(items))


def compile_payload(payload: Any, loc: Loc, uses: list[Use], *, template: bool = True) -> Node:
    """Compile an event's ``payload:`` (mapping or list of pairs)."""
    if not template or not has_braces(payload):
        return Const(payload)  # the payload itself, not a copy
    if isinstance(payload, list):
        return pairs_node(
            [
                (compile_key(name, (*loc, i), uses), compile_value(value, (*loc, i), uses))
                for i, (name, value) in enumerate(payload)
            ]
        )
    return compile_value(payload, loc, uses)


def has_braces(value: Any) -> bool:
    """Whether any text in ``value`` (keys included) contains ``{{``."""
    cls = value.__class__
    if cls is str:
        return "{{" in value
    if cls is dict:
        for key, item in value.items():
            if key.__class__ is str and "{{" in key:
                return True
            kind = item.__class__
            if kind is str:
                if "{{" in item:
                    return True
            elif (kind is dict or kind is list or kind is tuple) and has_braces(item):
                return True
        return False
    if cls is list or cls is tuple:
        return any(has_braces(item) for item in value)
    if isinstance(value, Mapping):
        return any(has_braces(key) or has_braces(item) for key, item in value.items())
    return False


_NO_CONTEXT: Any = None  # constant nodes never look at the context
