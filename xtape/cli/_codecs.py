"""``--codec GLOB=NAME``: the one option of every command that reads payloads."""

from __future__ import annotations

from typing import Annotated

from xtape.cli.common import stderr
from xtape.cli.decl import Opt

CodecOpt = Annotated[
    list[str] | None,
    Opt(
        "--codec",
        metavar="GLOB=NAME",
        help="Decode the payloads of streams matching GLOB with codec NAME (json, msgpack, faststream, "
        "taskiq, base64, raw, or an installed plugin's); NAME alone: every stream. Wins over a case "
        "file's codecs: and the catalog's codec:; default: detected (docs/codecs.md). Repeatable.",
        show_default=False,
    ),
]


def codec_pairs(values: list[str] | None) -> list[tuple[str, str]]:
    """The ``--codec`` values as ``(glob, name)`` pairs (an unknown name: exit 2)."""
    from xtape.codecs import parse_codec_options

    return parse_codec_options(values or [])


def say_codec(line: str) -> None:
    """What the resolver chose, one line per stream, on standard error."""
    stderr.print(f"xtape: {line}", markup=False, highlight=False)
