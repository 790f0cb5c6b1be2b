"""Names a package exports without importing their modules until first used."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any


class _Package(types.ModuleType):
    """A package whose public names are never shadowed by its submodules.

    Importing a submodule (``import xtape.replay``) binds it on its package under its
    short name; where that name is a public export (the function ``xtape.replay``), the
    export stays, and the module is reached as ``from xtape.replay import ...`` (or
    ``sys.modules``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name in self.__dict__.get("_EXPORTS", ())
            and isinstance(value, types.ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
        ):
            return
        super().__setattr__(name, value)


def lazy_getattr(package: str, exports: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps a name to the module
    that defines it, imported on first use and the name kept in ``namespace``. The
    package's submodules never shadow these names (see :class:`_Package`)."""
    module_object = sys.modules[package]
    if type(module_object) is types.ModuleType:
        module_object.__class__ = _Package
    namespace["_EXPORTS"] = exports

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__


def public_dir(names: list[str]) -> Callable[[], list[str]]:
    """A module ``__dir__``: its public names (``__all__``), not its helpers."""

    def __dir__() -> list[str]:
        return sorted(names)

    return __dir__
