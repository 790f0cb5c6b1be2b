"""The consoles the command line prints through: rich ``Console`` objects made on first
use, with the plain lines (errors, warnings, summaries) written without importing rich, and
standard error's lines turned into JSON objects with ``--log-format json``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from xtape.cli import logs

if TYPE_CHECKING:
    from rich.console import Console


class LazyConsole:
    """A rich ``Console`` made on its first use: most runs print nothing through rich
    (a plain ``cat`` writes its own bytes), and importing rich costs ~20 ms of every
    start (``bench/startup.py``)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)

    #: What rich drops from a plain string it prints (``rich.control.strip_control_codes``).
    _DROPPED = dict.fromkeys(map(ord, "\x07\x08\x0b\x0c\x0d"))

    def print(self, *objects: Any, **options: Any) -> None:
        """One plain line, ``print(text, markup=False)``, is written as rich writes it
        (held to it by ``tests/cli/test_cli_startup_refusals.py``) without importing rich:
        errors, warnings and summaries need no rich. Anything else is rich's."""
        text = objects[0] if len(objects) == 1 else None
        if self._console is None and options == {"markup": False} and type(text) is str and "\t" not in text:
            stream = sys.stderr if self._options.get("stderr") else sys.stdout
            stream.write(text.translate(self._DROPPED) + "\n")
            return
        self.__getattr__("print")(*objects, **options)


stdout: Console = LazyConsole(highlight=False, soft_wrap=True, emoji=False)  # type: ignore[assignment]


class _Stderr(LazyConsole):
    """Standard error's console: with ``--log-format json``, each line printed is a JSON
    object instead (:func:`xtape.cli.logs.emit_line`)."""

    def print(self, *objects: Any, **options: Any) -> None:
        if logs.json_mode():
            logs.emit_line(" ".join(str(o) for o in objects))
        else:
            super().print(*objects, **options)


stderr: Console = _Stderr(stderr=True, highlight=False, soft_wrap=True, emoji=False)  # type: ignore[assignment]
