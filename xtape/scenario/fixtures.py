"""The built-in fixture generators shipped as package data (``xtape/data/fixtures.yaml``).

They make ``generator: true`` work for the trading streams of the seed scenarios without
a ``generators:`` section. A scenario's own generators win over these.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from xtape.errors import ScenarioError
from xtape.scenario.generators import compile_generator
from xtape.scenario.locations import SourceMap
from xtape.scenario.template import Node, Use
from xtape.yamlfile.load import load_yaml

FIXTURES_PATH = "<xtape built-in fixtures>"


@cache
def builtin_generators() -> dict[str, Node]:
    """Stream name -> compiled built-in generator."""
    # The file beside the package (not importlib.resources, 0.003 s to import: xtape,
    # with its compiled module, is never imported from a zip).
    text = (Path(__file__).resolve().parent.parent / "data" / "fixtures.yaml").read_text("utf-8")
    data, lines = load_yaml(text, FIXTURES_PATH)
    source = SourceMap(FIXTURES_PATH, lines)
    compiled: dict[str, Node] = {}
    for name, spec in data["generators"].items():
        uses: list[Use] = []
        compiled[name] = compile_generator(spec, ("generators", name), uses, source)
        if any(use.name not in {"index", "timestamp", "iteration"} for use in uses):
            raise ScenarioError(FIXTURES_PATH, None, f"built-in generator {name!r} uses a variable")
    return compiled
