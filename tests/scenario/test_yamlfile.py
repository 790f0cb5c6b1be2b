"""The bottom layer for YAML files: it stands below every reader (imports nothing of
theirs), raises a neutral ``path:line:`` error, shares the core schema with the
converter's writer, and holds the one checker the readers use."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import xtape.convert_yaml
import xtape.yamlfile
from xtape.errors import CaseError, LocatedError, ScenarioError, YamlError
from xtape.yamlfile.check import Checker, MappedLines, dotted, kind, show
from xtape.yamlfile.core import NOT_TEXT, plain_scalar
from xtape.yamlfile.load import load_yaml

LAYER = Path(xtape.yamlfile.__file__).parent


def test_the_yaml_layer_imports_nothing_of_the_readers_above_it() -> None:
    imported: set[str] = set()
    for file in LAYER.glob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name.split(".")[0] == "xtape"}
    assert ours - {"xtape.errors"} == {n for n in ours if n.startswith("xtape.yamlfile.")}
    assert len(LAYER.joinpath("load.py").read_text().splitlines()) < 500


def test_the_loader_raises_a_neutral_located_error() -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml("a: 1\na: 2\n", "f.yaml")
    assert str(caught.value).startswith("f.yaml:2: duplicate key 'a'")
    assert isinstance(caught.value, LocatedError) and not isinstance(caught.value, ScenarioError)
    assert (caught.value.path, caught.value.line) == ("f.yaml", 2)


def test_the_converter_quotes_by_the_core_schema_the_loader_reads_by() -> None:
    assert xtape.convert_yaml.NOT_TEXT is NOT_TEXT
    for text in ("5", "-1.5e3", "true", "Null", "~", "0x1F", "0o7", ".inf", "yes", "12:30", "a"):
        assert bool(NOT_TEXT.fullmatch(text)) == (plain_scalar(text) != text), text
    assert NOT_TEXT.fullmatch("<<")  # a merge key, as a mapping key


def test_the_checker_keeps_every_problem_in_file_order_at_the_nearest_line() -> None:
    lines = MappedLines({("a",): 2, ("a", "b"): 3, ("c",): 7})
    check: Checker[CaseError] = Checker("f.yaml", lines, CaseError)
    check.add(("c", 0), f"must be text (got {show([1, 2])})")
    check.add(("a", "b", "x"), "unknown key", named=("a", "b"))
    check.add(("z",), f"expected a mapping, got {kind(None)}")
    assert len(check) == 3
    assert [str(e) for e in check.errors()] == [
        "f.yaml: z: expected a mapping, got nothing",
        "f.yaml:3: a.b: unknown key",
        "f.yaml:7: c[0]: must be text (got a list of 2)",
    ]
    inner: Checker[CaseError] = Checker("f.yaml", lines, CaseError, name=dotted, base=("a",))
    assert str(inner.problem(("b", 0), "bad")) == "f.yaml:3: a.b.0: bad"
    assert show([1], sizes=False) == "a list" and show("x" * 100).endswith("...")
