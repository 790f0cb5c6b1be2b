"""Text helpers of the command line that need neither typer nor rich (the quick
``xtape info`` path uses them before either is imported)."""

from __future__ import annotations

import json
from typing import Any


def silence_stdout() -> None:
    """Point standard output at /dev/null: its reader went away (``xtape ... | head``),
    and nothing may be flushed to the closed pipe at exit."""
    import contextlib
    import os
    import sys

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def show_text(value: Any) -> str:
    """Text from a recording (names, marker texts, header values) for a terminal:
    control characters and bytes that are not UTF-8 escaped, so a stream name cannot
    move the cursor or fake a line."""
    from xtape.timeline import display_name

    if isinstance(value, bytes):
        return display_name(value)
    if isinstance(value, str):
        return display_name(value.encode("utf-8", "surrogateescape"))
    return display_name(json.dumps(value, ensure_ascii=False).encode())


def version_line() -> str:
    """``xtape --version``: the version, and whether the XADD packer was compiled."""
    from xtape import __version__

    try:  # (the C module alone: cheap, unlike the replay package)
        import xtape._speedups  # noqa: F401
    except ImportError:
        packer = "no; for a faster --max-speed, install a C compiler and reinstall xtape"
    else:
        packer = "yes"
    return f"xtape {__version__} (compiled XADD packer: {packer})"
