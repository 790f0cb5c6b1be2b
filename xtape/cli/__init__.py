"""The ``xtape`` command line: parse, call the library, render output and errors.

One module per group of commands; :mod:`.common` holds the app, its help formatting and
what the commands share. Nothing here holds logic of its own. Every expected failure is
an ``XtapeError``, printed as one line on stderr with exit code 1 (runtime) or 2
(input/usage). Only this package imports typer.

Importing this package imports nothing heavy: :func:`main` runs a plain command line
without typer (:mod:`._info` for ``info``, :mod:`.quick` for the others), and the typer
``app`` is built on first use.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xtape.cli.typer_app import app

__all__ = ["app", "main"]

#: The command modules: importing one registers its commands on the app. ``xtape
#: --help`` lists them in this order (the timeline's flow, then the checks).
COMMAND_MODULES = ("record", "inspect", "convert", "interop", "replay", "validate", "regress", "demo")

#: Which module registers each command: ``xtape cat ...`` imports that module only (a
#: quicker start); a command not named here imports them all. Held true by
#: ``tests/cli/test_cli_startup.py``.
COMMAND_MODULE = {
    "record": "record",
    "info": "inspect",
    "cat": "inspect",
    "plot": "inspect",
    "merge": "inspect",
    "cut": "inspect",
    "check": "inspect",
    "convert": "convert",
    "export": "interop",
    "import": "interop",
    "replay": "replay",
    "validate": "validate",
    "infer": "validate",
    "test": "regress",
    "diff": "regress",
    "demo": "demo",
}


def _app(command: str | None = None) -> Any:
    """The typer app with every command registered, in :data:`COMMAND_MODULES`' order
    (whatever order the modules were imported in); with ``command``, one that
    :data:`COMMAND_MODULE` knows, only that command."""
    module = COMMAND_MODULE.get(command or "")
    for name in COMMAND_MODULES if module is None else (module,):
        import_module(f"xtape.cli.{name}")
    from xtape.cli.typer_app import build

    return build(None if module is None else [command or ""], order=[f"xtape.cli.{name}" for name in COMMAND_MODULES])


def __getattr__(name: str) -> Any:
    if name == "app":
        globals()["app"] = typer_app = _app()
        return typer_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: usage errors as one line, exit codes as documented.

    A plain command line is parsed and run without typer (:mod:`.quick`); ``--help``,
    a usage error or anything unusual goes to typer (:mod:`.typer_app`), which parses
    it as always."""
    argv = sys.argv[1:]
    if argv == ["--version"]:  # (without typer: a quicker start)
        from xtape.cli._text import version_line

        sys.stdout.write(version_line() + "\n")
        sys.exit(0)
    from xtape.cli.logs import chosen_format

    code = None
    if argv[:1] == ["info"] and chosen_format(argv) == "text":  # (JSON: the quick parser's)
        from xtape.cli._info import quick_main

        code = quick_main(argv)
    if code is None and argv and argv[0] in COMMAND_MODULE:
        from xtape.cli.quick import run_quick

        import_module(f"xtape.cli.{COMMAND_MODULE[argv[0]]}")
        code = run_quick(argv)
    if code is not None:
        from xtape.cli.common import finish

        finish(code)
    command = argv[0] if argv else None
    _app(command)
    from xtape.cli.typer_app import main as run

    run()
