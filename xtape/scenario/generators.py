"""Generators: payload builders that make varied, seeded data for ``generator:`` events.

A generator spec maps field names to field specs. A field spec is a literal (templates
allowed), nested mappings/lists of field specs, or a one-key directive::

    {choice: [a, b], weights: [7, 3]}   {int: [lo, hi]}    {float: [lo, hi], decimals: 2}
    {bool: 0.7}     {uuid: true}        {sequence: 1, prefix: "order_"}
    {text: [8, 12], chars: "0123456789abcdef", prefix: "k_"}   (random text of that length)
    {timestamp: true}                   {python: "module:function"}   {literal: value}

A whole generator may instead be ``{python: "module:function"}``: the callable gets the
:class:`RenderContext` and returns the payload (a mapping, or a list of pairs).
"""

from __future__ import annotations

import importlib
import math
import re
import sys
import uuid
from collections.abc import Callable, Mapping
from importlib.machinery import PathFinder
from pathlib import Path
from typing import Any

from xtape.errors import XtapeError
from xtape.scenario.context import RenderContext
from xtape.scenario.locations import SourceMap, render_error, scenario_error
from xtape.scenario.template import (
    Const,
    Node,
    Use,
    compile_text,
    list_node,
    mapping_node,
)
from xtape.yamlfile.check import Loc, show

#: Directive -> the other keys it accepts.
DIRECTIVES: dict[str, tuple[str, ...]] = {
    "choice": ("weights",),
    "int": (),
    "float": ("decimals",),
    "bool": (),
    "uuid": (),
    "sequence": ("prefix",),
    "text": ("chars", "prefix"),
    "timestamp": (),
    "python": (),
    "literal": (),
}

PythonFn = Callable[[RenderContext], Any]


class GeneratorFailed(Exception):
    """A ``{python: ...}`` callable failed or returned the wrong thing (located by the caller)."""


class Choice(Node):
    __slots__ = ("options", "weights")

    def __init__(self, options: tuple[Node, ...], weights: tuple[float, ...] | None) -> None:
        self.options = options
        self.weights = weights

    def render(self, ctx: RenderContext) -> Any:
        if self.weights is None:
            return self.options[ctx.rng.randrange(len(self.options))].render(ctx)
        return ctx.rng.choices(self.options, self.weights)[0].render(ctx)


class IntRange(Node):
    __slots__ = ("high", "low")

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def render(self, ctx: RenderContext) -> int:
        return ctx.rng.randint(self.low, self.high)


class FloatRange(Node):
    __slots__ = ("decimals", "high", "low")

    def __init__(self, low: float, high: float, decimals: int | None) -> None:
        self.low, self.high, self.decimals = low, high, decimals

    def render(self, ctx: RenderContext) -> float:
        value = ctx.rng.uniform(self.low, self.high)
        return value if self.decimals is None else round(value, self.decimals)


class Chance(Node):
    __slots__ = ("p",)

    def __init__(self, p: float) -> None:
        self.p = p

    def render(self, ctx: RenderContext) -> bool:
        return ctx.rng.random() < self.p


class Uuid(Node):
    __slots__ = ()

    def render(self, ctx: RenderContext) -> str:
        return str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))


class Sequence(Node):
    """Counts up from ``start`` each time it is rendered (per generator, across events)."""

    __slots__ = ("prefix", "start")

    def __init__(self, start: int, prefix: str | None) -> None:
        self.start, self.prefix = start, prefix

    def render(self, ctx: RenderContext) -> int | str:
        value: int = ctx.state.get(id(self), self.start)
        ctx.state[id(self)] = value + 1
        return value if self.prefix is None else f"{self.prefix}{value}"


class RandomText(Node):
    """Random text: ``prefix`` then ``low``..``high`` characters drawn from ``chars``."""

    __slots__ = ("chars", "high", "low", "prefix")

    def __init__(self, low: int, high: int, chars: str, prefix: str) -> None:
        self.low, self.high, self.chars, self.prefix = low, high, chars, prefix

    def render(self, ctx: RenderContext) -> str:
        rng = ctx.rng
        size = rng.randint(self.low, self.high)
        return self.prefix + "".join(rng.choices(self.chars, k=size))


#: What ``{text: ...}`` draws from unless ``chars:`` says otherwise.
TEXT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class Timestamp(Node):
    __slots__ = ()

    def render(self, ctx: RenderContext) -> int:
        return ctx.timestamp


class Python(Node):
    """A user's callable, given the context; ``payload=True`` when it builds the whole payload.

    ``fn`` is None when the scenario was only checked (its module was found, not imported):
    such a node refuses to render.
    """

    __slots__ = ("fn", "payload", "ref")

    def __init__(self, ref: str, fn: PythonFn | None, payload: bool) -> None:
        self.ref, self.fn, self.payload = ref, fn, payload

    def render(self, ctx: RenderContext) -> Any:
        if self.fn is None:
            raise GeneratorFailed(
                f"python generator {self.ref!r} was checked, not imported (compile with run_code=True)"
            )
        try:
            value = self.fn(ctx)
        except XtapeError:
            raise
        except Exception as error:
            raise GeneratorFailed(
                f"python generator {self.ref!r} failed: {type(error).__name__}: {error}"
            ) from error
        if self.payload and not isinstance(value, (Mapping, list)):
            raise GeneratorFailed(
                f"python generator {self.ref!r} returned {type(value).__name__}; "
                "expected a mapping of field: value (or a list of [name, value] pairs)",
            )
        return dict(value) if isinstance(value, Mapping) else value


class _Compiler:
    """Compiles the generator specs of one file (``source`` gives lines and the base dir)."""

    def __init__(self, source: SourceMap | None, uses: list[Use], run_code: bool) -> None:
        self.source = source
        self.uses = uses
        self.run_code = run_code

    def error(self, loc: Loc, message: str) -> XtapeError:
        return scenario_error(self.source, loc, message)

    def generator(self, spec: Mapping[Any, Any], loc: Loc) -> Node:
        if set(spec) == {"python"}:
            return self.python(spec["python"], (*loc, "python"), payload=True)
        return self.mapping(spec, loc)

    def mapping(self, spec: Mapping[Any, Any], loc: Loc) -> Node:
        items: list[tuple[Node, Node]] = []
        for key, value in spec.items():
            if not isinstance(key, (str, bytes)):
                raise self.error((*loc, key), f"field names must be strings (got {show(key)})")
            name = compile_text(key, (*loc, key), self.uses) if isinstance(key, str) else Const(key)
            items.append((name, self.field(value, (*loc, key))))
        return mapping_node(items)

    def field(self, spec: Any, loc: Loc) -> Node:
        if isinstance(spec, str):
            return compile_text(spec, loc, self.uses)
        if isinstance(spec, list):
            return list_node([self.field(item, (*loc, i)) for i, item in enumerate(spec)])
        if isinstance(spec, Mapping):
            directive = [key for key in spec if key in DIRECTIVES]
            if not directive:
                return self.mapping(spec, loc)
            return self.directive(directive[0], spec, loc)
        return Const(spec)

    def directive(self, kind: str, spec: Mapping[Any, Any], loc: Loc) -> Node:
        allowed = {kind, *DIRECTIVES[kind]}
        for key in spec:
            if key not in allowed:
                others = ", ".join(DIRECTIVES[kind]) or "none"
                raise self.error(
                    (*loc, key),
                    f"unknown option {key!r} for {kind}: (options: {others}; "
                    f"for a literal mapping use {{literal: ...}})",
                )
        arg = spec[kind]
        at = (*loc, kind)
        if kind == "choice":
            return self.choice(arg, spec.get("weights"), loc)
        if kind == "int":
            low, high = self.bounds(arg, at, ints=True)
            return IntRange(int(low), int(high))
        if kind == "float":
            low, high = self.bounds(arg, at, ints=False)
            decimals = spec.get("decimals")
            if decimals is not None and (
                isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0
            ):
                raise self.error((*loc, "decimals"), f"must be a whole number >= 0 (got {show(decimals)})")
            return FloatRange(float(low), float(high), decimals)
        if kind == "bool":
            p = 0.5 if arg is True else arg
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
                raise self.error(at, f"must be the probability of true, 0 to 1 (got {show(arg)})")
            return Chance(float(p))
        if kind == "sequence":
            return self.sequence(arg, spec, loc)
        if kind == "text":
            return self.random_text(arg, spec, loc)
        if kind in ("uuid", "timestamp"):
            if arg is not True:
                raise self.error(at, f"must be true (got {show(arg)})")
            return Uuid() if kind == "uuid" else Timestamp()
        if kind == "python":
            return self.python(arg, at, payload=False)
        return Const(arg)  # literal

    def sequence(self, arg: Any, spec: Mapping[Any, Any], loc: Loc) -> Node:
        at = (*loc, "sequence")
        prefix = spec.get("prefix")
        if isinstance(arg, bool) or not isinstance(arg, int):
            raise self.error(at, f"must be the whole number to start from (got {show(arg)})")
        if prefix is not None and not isinstance(prefix, str):
            raise self.error((*loc, "prefix"), f"must be a string (got {show(prefix)})")
        return Sequence(arg, prefix)

    def random_text(self, arg: Any, spec: Mapping[Any, Any], loc: Loc) -> Node:
        at = (*loc, "text")
        low, high = self.bounds(arg, at, ints=True)
        if low < 0:
            raise self.error(at, f"lengths must be >= 0 (got {show(arg)})")
        chars = spec.get("chars", TEXT_CHARS)
        prefix = spec.get("prefix", "")
        if not isinstance(chars, str) or not chars:
            raise self.error((*loc, "chars"), f"must be a non-empty string (got {show(chars)})")
        if not isinstance(prefix, str):
            raise self.error((*loc, "prefix"), f"must be a string (got {show(prefix)})")
        return RandomText(int(low), int(high), chars, prefix)

    def choice(self, options: Any, weights: Any, loc: Loc) -> Node:
        if not isinstance(options, list) or not options:
            raise self.error((*loc, "choice"), f"must be a non-empty list of options (got {show(options)})")
        nodes = tuple(self.field(item, (*loc, "choice", i)) for i, item in enumerate(options))
        if weights is None:
            return Choice(nodes, None)
        at = (*loc, "weights")
        if not isinstance(weights, list) or len(weights) != len(options):
            raise self.error(at, f"must be a list of {len(options)} numbers, one per option (got {show(weights)})")
        for weight in weights:
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
                raise self.error(at, f"weights must be numbers >= 0 (got {show(weight)})")
        if not sum(weights) > 0:
            raise self.error(at, "at least one weight must be > 0")
        return Choice(nodes, tuple(float(weight) for weight in weights))

    def bounds(self, arg: Any, loc: Loc, *, ints: bool) -> tuple[float, float]:
        kind = "whole numbers" if ints else "numbers"
        ok = isinstance(arg, list) and len(arg) == 2 and all(
            not isinstance(x, bool)
            and isinstance(x, (int,) if ints else (int, float))
            and math.isfinite(x)
            for x in arg
        )
        if not ok:
            raise self.error(loc, f"must be [low, high], two {kind} (got {show(arg)})")
        if arg[0] > arg[1]:
            raise self.error(loc, f"low must be <= high (got {show(arg)})")
        return arg[0], arg[1]

    def python(self, ref: Any, loc: Loc, *, payload: bool) -> Node:
        if not isinstance(ref, str) or not _REFERENCE.fullmatch(ref):
            raise self.error(loc, f"must be 'module:function' (got {show(ref)})")
        base = Path(self.source.path).parent if self.source is not None else None
        if not self.run_code:
            module = ref.partition(":")[0]
            if not module_exists(module, base):
                raise render_error(
                    self.source,
                    loc,
                    f"cannot import python generator {ref!r}: ModuleNotFoundError: "
                    f"no module named {module!r} (looked in the scenario's folder and sys.path)",
                )
            return Python(ref, None, payload)
        return Python(ref, import_callable(ref, base, self.source, loc), payload)


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
#: ``package.module:function`` or ``module:Class.method``.
_REFERENCE = re.compile(rf"{_NAME}(?:\.{_NAME})*:{_NAME}(?:\.{_NAME})*")


def module_exists(name: str, base: Path | None) -> bool:
    """Whether module ``name`` can be found, WITHOUT importing it or any package above it.

    ``importlib.util.find_spec("a.b")`` would import (run) package ``a``; this asks the
    path finder for each part in turn, reading directories only. The scenario's folder
    ``base`` is searched first, as when the generator is imported for a replay.
    """
    if name in sys.modules:
        return True
    parts = name.split(".")
    if parts[0] in sys.builtin_module_names:
        return len(parts) == 1
    search: list[str] = ([str(base)] if base is not None else []) + sys.path
    spec = None
    for depth in range(len(parts)):
        if depth:
            if spec is None or spec.submodule_search_locations is None:
                return False
            search = list(spec.submodule_search_locations)
        spec = PathFinder.find_spec(".".join(parts[: depth + 1]), search)
        if spec is None:
            return False
    return True


def import_callable(ref: str, base: Path | None, source: SourceMap | None, loc: Loc) -> PythonFn:
    """Import ``module:function``; the scenario's directory is searched first."""
    module_name, _, attr = ref.partition(":")
    added = base is not None and str(base) not in sys.path
    if added:
        sys.path.insert(0, str(base))
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except Exception as error:
        raise render_error(
            source, loc, f"cannot import python generator {ref!r}: {type(error).__name__}: {error}"
        ) from None
    finally:
        if added:
            sys.path.remove(str(base))
    if not callable(target):
        raise render_error(source, loc, f"python generator {ref!r} is not callable")
    fn: PythonFn = target
    return fn


def compile_generator(
    spec: Mapping[Any, Any],
    loc: Loc,
    uses: list[Use],
    source: SourceMap | None,
    *,
    run_code: bool = True,
) -> Node:
    """Compile one generator spec; the ``{{names}}`` it uses are appended to ``uses``.

    ``run_code=False`` (validating): a ``{python: ...}`` reference is checked (its syntax,
    and that its module exists) without importing anything, so no code of the scenario's
    runs; such a plan cannot render those nodes.
    """
    return _Compiler(source, uses, run_code).generator(spec, loc)
