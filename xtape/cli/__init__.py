"""The ``xtape`` command line: parse, call the library, render output and errors.

One module per group of commands; :mod:`._base` holds the app, its help formatting and
what the commands share. Nothing here holds logic of its own. Every expected failure is
an ``XtapeError``, printed as one line on stderr with exit code 1 (runtime) or 2
(input/usage). Only this package imports typer.
"""

from __future__ import annotations

# Importing a command module registers its commands on the app, in this order (the
# order ``xtape --help`` lists them: the timeline's flow, then the checks).
# isort: off
from xtape.cli import record, inspect, convert, replay, validate, regress, demo  # noqa: F401
# isort: on
from xtape.cli._base import app, main

__all__ = ["app", "main"]
