"""Rules and renderers with homes (issue 19 item 7): diff rules are named objects in a
registry, ``DiffRules.with_options`` lays command-line options over a rules file,
``DiffResult`` and ``ReplayReport`` read their JSON back, the report forms are renderer
functions in ``xtape.report``, and the modules involved form no import cycle and import
no private name of another module."""

from __future__ import annotations

import ast
import json
from dataclasses import fields, replace
from pathlib import Path

import pytest
from support.diff import ORDERS, pair
from support.paths import ROOT

from xtape.diff import DiffResult, DiffRules, diff_recordings
from xtape.diff.rule_kinds import BY_FIELD, RULES
from xtape.errors import DiffRulesError, InvalidReport, UsageError
from xtape.plot.report import parse_report
from xtape.replay.report import Lateness, ReplayReport
from xtape.report.as_json import replay_json
from xtape.report.diff_html import render_html
from xtape.report.diff_text import render_text
from xtape.report.replay_text import lateness_line, refused_lines, replay_lines, summary_line

ROOT = ROOT / "xtape"

# --------------------------------------------------------------------------- diff rules


def test_every_diff_rule_is_one_registry_entry_and_a_file_key() -> None:
    assert {f.name for f in fields(DiffRules)} == set(BY_FIELD) and len(BY_FIELD) == len(RULES)
    assert list(DiffRules().to_dict()) == [r.keys[0] for r in RULES]
    with pytest.raises(DiffRulesError) as caught:
        DiffRules.from_mapping({"nope": 1}, where="rules.yaml")
    listed = str(caught.value).split("known: ", 1)[1]
    assert all(r.keys[0] in listed for r in RULES)


def test_with_options_lays_command_line_options_over_a_rules_file() -> None:
    base = DiffRules.from_mapping(
        {"ignore_fields": ["ts"], "tolerance": {"qty": 1}, "json_fields": ["body"], "codecs": {"a*": "json"}},
        where="rules.yaml",
    )
    rules = base.with_options(
        ignore_fields=["trace*"],
        tolerances=["price=1%"],
        json_fields=["meta"],
        ignore_paths=["meta.id", "headers.x"],
        codecs=["b*=msgpack"],
        compare_ids=True,
        time_tolerance="5ms",
        max_reported=0,
        window=None,
        streams=[],
    )
    assert rules.ignore_fields == ("ts", "trace*")
    assert {k: str(v) for k, v in rules.tolerances.items()} == {"qty": "1", "price": "1%"}
    assert rules.paths == {"meta": ("id",), "": ("headers.x",)}
    assert rules.codecs == (("b*", "msgpack"), ("a*", "json"))
    assert (rules.compare_ids, rules.time_tolerance, rules.max_reported, rules.window) == (True, 0.005, 0, base.window)
    assert base.with_options(match_by="orderId").order == "key"
    assert DiffRules(match_by="orderId").with_options(order="multiset").order == "multiset"
    with pytest.raises(UsageError, match="--match-by and --unordered exclude each other"):
        base.with_options(match_by="orderId", order="multiset")
    with pytest.raises(UsageError, match="invalid --tolerance"):
        base.with_options(tolerances=["price"])


# --------------------------------------------------------------------------- results and reports


def test_a_diff_result_reads_its_json_form_back(tmp_path: Path) -> None:
    changed = [list(o) for o in ORDERS]
    changed[1][3] = b"\xff\x00"
    changed[2] = [b"orderId", b"o2", b"body", b'{"a": 1, "b": [1, 2]}']
    exp = [*ORDERS[:2], [b"orderId", b"o2", b"body", b'{"a": 2, "b": [1]}'], *ORDERS[3:]]
    e, a = pair(tmp_path, {b"orders": exp, b"gone": ORDERS[:1]}, {b"orders": changed[:-1], b"new\xfe": ORDERS[:1]})
    result = diff_recordings(e, a, DiffRules(json_fields=("body",), tolerances={"price": "1%"}))
    data = json.loads(json.dumps(result.to_dict()))

    back = DiffResult.from_dict(data)

    assert back.to_dict() == result.to_dict()
    assert render_text(back) == render_text(result)
    assert render_html(back) == render_html(result)


def _report(**changes: object) -> ReplayReport:
    report = ReplayReport(
        source="in.xtape",
        pacing="speed 1x",
        published=1200,
        errors=2,
        error_messages=["WRONGTYPE x"],
        streams={"a": 1000, "b": 200},
        iterations=2,
        duration_s=2.5,
        lateness=Lateness(0.12, 0.4, 1.5),
        reconnects=1,
    )
    return replace(report, **changes)  # type: ignore[arg-type]


def test_a_replay_report_reads_its_json_form_back_and_refuses_what_is_not_one() -> None:
    report = _report(streams={"a": 1000, "b\\xff": 200}, warnings=["w"])
    back = ReplayReport.from_dict(json.loads(replay_json(report, seed=7)))
    assert back == report
    with pytest.raises(ValueError, match="it has no 'duration_s'"):
        ReplayReport.from_dict({"pacing": "x", "published": 1})
    with pytest.raises(InvalidReport, match=r"r\.json: not a replay --json report: lateness\.p50_ms is not a number"):
        parse_report('{"pacing": "x", "published": 1, "duration_s": 1, "lateness": {"p50_ms": "a"}}', "r.json")


def test_the_replay_text_is_a_renderer() -> None:
    report = _report(interrupted=True)
    assert replay_lines(report, seed=7) == [
        "published 1200 events to 2 streams in 2.500 s (480/s, speed 1x, 2 passes)",
        "lateness vs schedule: p50 0.12 ms, p99 0.40 ms, max 1.50 ms",
        "seed: 7 (pass --seed 7 to repeat these events)",
        "errors: 2 entries refused by Redis",
        "  WRONGTYPE x",
        "reconnects: 1 (entries Redis had not confirmed were sent again)",
        "interrupted: stopped early by Ctrl-C or SIGTERM",
    ]
    assert replay_lines(report, dry_run=True)[0].startswith("scheduled 1200 events")
    assert refused_lines(report) == ["xtape: error: 2 entries refused by Redis", "  WRONGTYPE x"]
    assert summary_line(report) == "replay (speed 1x): 1,200 published in 2.500 s (480/s), 2 refused, 1 reconnects, interrupted"
    assert lateness_line(ReplayReport(source="x", pacing="max speed")).startswith("lateness: none measured")


# --------------------------------------------------------------------------- structure


def _imports() -> dict[str, set[str]]:
    """Module -> the xtape modules it imports (anywhere in it, TYPE_CHECKING included).
    A package's ``__init__`` only re-exports its modules: it is left out, arrows and all."""
    modules = {".".join(p.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__"): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            found.update(t for t in targets if t in modules and t != name)
        graph[name] = found
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    return {k: v - packages for k, v in graph.items() if k not in packages}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected parts of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = set()
            while True:
                w = stack.pop()
                part.add(w)
                if w == v:
                    break
            if len(part) > 1:
                out.append(part)

    for v in graph:
        if v not in index:
            visit(v)
    return out


HOMES = ("xtape.diff", "xtape.report", "xtape.catalog", "xtape.cli", "xtape.plot", "xtape.regress", "xtape.replay.report")


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert [sorted(part) for part in _cycles(_imports())] == []


def test_no_module_there_imports_a_private_name_of_another() -> None:
    private = []
    for path in ROOT.rglob("*.py"):  # (every module of xtape, not only the report homes)
        module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("xtape"):
                private += [f"{module}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    assert private == []


def test_no_module_is_over_500_lines() -> None:
    """A module a newcomer can read in one sitting: past 500 lines, split it by idea."""
    sizes = {str(path.relative_to(ROOT.parent)): len(path.read_text(encoding="utf-8").splitlines())
             for path in ROOT.rglob("*.py")}  # fmt: skip
    assert {name: n for name, n in sizes.items() if n > 500} == {}
    assert len(sizes) > 150  # (the walk found the package)
