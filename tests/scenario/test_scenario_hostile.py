"""Hostile scenario files: alias bombs are refused before anything is expanded, and
validating never imports or runs code the scenario names (only a replay does)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.e2e import invoke, ok

from xtape.errors import RenderError, ScenarioError, YamlError
from xtape.scenario import (
    ScenarioSource,
    check_scenario,
    load_scenario,
    load_scenario_text,
    validate_scenario,
)
from xtape.yamlfile.load import MAX_ALIAS_NODES, MAX_DEPTH, load_yaml

# The classic "billion laughs", under variables: where the old loader accepted it.
BILLION_LAUGHS = """\
name: laughs
variables:
  lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
  lol1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
  lol2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
  lol3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
  lol4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
  lol5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
  lol6: &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
  lol7: &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]
  lol8: &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]
  lol9: &a9 [*a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8]
events:
  - stream: s
    payload: {laugh: "{{lol9}}"}
"""


def nested_bomb(levels: int = 9) -> str:
    """Ten aliases per level, in a payload (about 1.3 KB)."""
    lines = ["events:", "  - stream: s", "    payload:", "      l0: &l0 [a, b, c, d, e, f, g, h, i, j]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"      l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_under_variables_is_refused_at_the_alias_that_crosses_the_limit() -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml(BILLION_LAUGHS, "laughs.yaml")
    message = str(caught.value)
    line = int(message.split(":")[1])
    assert message.startswith(f"laughs.yaml:{line}: aliases expand to more than {MAX_ALIAS_NODES:,} nodes")
    assert 8 <= line <= 12  # lol6 (10^6 "lol"s) crosses 1,000,000
    assert "\n" not in message


@pytest.mark.timeout(60)
def test_ten_aliases_per_level_is_refused_by_validate_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(nested_bomb())
    assert path.stat().st_size < 1500

    result = invoke("validate", path)

    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"xtape: error: {path}:")
    assert "aliases expand to more than" in line


@pytest.mark.timeout(60)
def test_billion_laughs_never_reaches_a_dry_run(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)

    checked = validate_scenario(path)
    result = invoke("replay", path, "--dry-run")

    assert not checked.ok and "aliases expand" in str(checked.errors[0])
    assert result.exit_code == 2
    assert "aliases expand to more than" in result.stderr


def test_aliases_within_the_limit_still_load_and_are_shared() -> None:
    text = "base: &b {f: v}\nitems: [*b, *b, *b]\nmerged: {<<: *b, g: w}\n"
    data, _ = load_yaml(text, "x.yaml")
    assert data["items"] == [{"f": "v"}] * 3
    assert data["merged"] == {"f": "v", "g": "w"}


def test_alias_costs_are_counted_with_nesting() -> None:
    # A list of 999 items is 1000 nodes: 1000 aliases of it repeat exactly the limit.
    items = ", ".join(["x"] * 999)
    data, _ = load_yaml(f"a: &a [{items}]\nb: [{', '.join(['*a'] * 1000)}]\n", "x.yaml")
    assert len(data["b"]) == 1000
    refs = ", ".join(["*a"] * 1001)
    with pytest.raises(YamlError, match="aliases expand to more than"):
        load_yaml(f"a: &a [{items}]\nb: [{refs}]\n", "x.yaml")
    # ... counted with what nested aliases repeat: 10 x (1 + 100 x 1000) nodes.
    nested = f"a: &a [{items}]\nb: &b [{', '.join(['*a'] * 100)}]\nc: [{', '.join(['*b'] * 10)}]\n"
    with pytest.raises(YamlError, match=r"^x\.yaml:3: aliases expand"):
        load_yaml(nested, "x.yaml")


def test_a_long_text_repeated_by_aliases_counts_its_length() -> None:
    text = "x" * 1_000_000  # 10,001 nodes' worth: 100 copies pass, 101 do not
    ok_doc = f"a: &a {text}\nb: [{', '.join(['*a'] * 99)}]\n"
    assert len(load_yaml(ok_doc, "x.yaml")[0]["b"]) == 99
    with pytest.raises(YamlError, match=r"^x\.yaml:2: aliases expand to more than 1,000,000 nodes"):
        load_yaml(f"a: &a {text}\nb: [{', '.join(['*a'] * 101)}]\n", "x.yaml")


def test_recursive_and_undefined_aliases_are_refused_with_their_line() -> None:
    with pytest.raises(YamlError, match=r"^x\.yaml:2: invalid YAML: alias \*a refers to a node that contains it"):
        load_yaml("a: &a\n  - *a\n", "x.yaml")
    with pytest.raises(YamlError, match=r"^x\.yaml:2: invalid YAML: found undefined alias 'nope'"):
        load_yaml("a: 1\nb: *nope\n", "x.yaml")


# --------------------------------------------------------------------------- python generators

MARKER_MODULE = """\
from pathlib import Path
Path({marker!r}).write_text("imported")

def make(ctx):
    return {{"v": "1"}}
"""


_counter = iter(range(1_000_000))


@pytest.fixture()
def evil_module(tmp_path: Path) -> Iterator[Path]:
    """Modules ``evil_gen_mod`` and package ``evil_gen_pkg`` (renamed uniquely per test)
    that write ``ran.txt`` when imported; the scenario's folder is where they are found."""
    marker = tmp_path / "ran.txt"
    suffix = f"_{next(_counter)}"
    (tmp_path / f"evil_gen_mod{suffix}.py").write_text(MARKER_MODULE.format(marker=str(marker)))
    package = tmp_path / f"evil_gen_pkg{suffix}"
    package.mkdir()
    (package / "__init__.py").write_text(MARKER_MODULE.format(marker=str(marker)))
    (package / "sub.py").write_text("def make(ctx):\n    return {'v': '2'}\n")
    marker.with_name("suffix").write_text(suffix)
    yield marker
    for name in list(sys.modules):
        if name.endswith(suffix) or f"{suffix}." in name:
            del sys.modules[name]


def unique(ref: str, marker: Path) -> str:
    suffix = marker.with_name("suffix").read_text()
    return ref.replace("evil_gen_mod", f"evil_gen_mod{suffix}").replace("evil_gen_pkg", f"evil_gen_pkg{suffix}")


@pytest.mark.parametrize("ref", ["evil_gen_mod:make", "evil_gen_pkg.sub:make", "evil_gen_pkg:make"])
def test_validate_checks_a_python_generator_without_importing_it(
    tmp_path: Path, evil_module: Path, ref: str
) -> None:
    path = tmp_path / "gen.yaml"
    path.write_text(
        f"generators:\n  g: {{python: '{unique(ref, evil_module)}'}}\nevents:\n  - stream: s\n    generator: g\n"
    )

    result = invoke("validate", path)
    check_scenario(load_scenario(path))

    assert ok(result).stdout == f"ok  {path}: 1 event, 1 entry, 0.000 s\n"
    assert not evil_module.exists(), "validate ran the generator's module"


def test_only_replay_runs_the_python_generator(tmp_path: Path, evil_module: Path) -> None:
    path = tmp_path / "gen.yaml"
    ref = unique("evil_gen_mod:make", evil_module)
    path.write_text(f"generators:\n  g: {{python: '{ref}'}}\nevents:\n  - stream: s\n    generator: g\n")

    ok(invoke("validate", path))
    assert not evil_module.exists()
    ok(invoke("replay", path, "--dry-run"))
    assert evil_module.read_text() == "imported"


def test_a_python_field_directive_is_not_imported_by_validate_either(tmp_path: Path, evil_module: Path) -> None:
    path = tmp_path / "field.yaml"
    ref = unique("evil_gen_mod:make", evil_module)
    path.write_text(
        f"generators:\n  g:\n    id: {{python: '{ref}'}}\n    kind: order\n"
        "events:\n  - stream: s\n    generator: g\n"
    )
    ok(invoke("validate", path))
    assert not evil_module.exists()
    source = ScenarioSource(path, seed=1)  # what replay builds: imports, so it can run
    assert evil_module.exists()
    assert source.count == 1


def test_a_missing_module_or_package_is_still_reported_by_validate(tmp_path: Path, evil_module: Path) -> None:
    path = tmp_path / "gen.yaml"
    ref = unique("evil_gen_pkg.nope:make", evil_module)
    path.write_text(
        f"generators:\n  g: {{python: 'no_such_mod_xyz:make'}}\n  h: {{python: '{ref}'}}\n"
        "events:\n  - stream: s\n    generator: g\n  - stream: s\n    generator: h\n"
    )
    result = invoke("validate", path)
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"xtape: error: {path}:2: generators.g.python: cannot import python generator")
    assert "no_such_mod_xyz" in errors[0]
    assert errors[1].startswith(f"xtape: error: {path}:3: generators.h.python: cannot import")
    assert not evil_module.exists()


@pytest.mark.parametrize("ref", ["os:system;rm", "a b:c", ":f", "m:", "m:f:g", "1mod:f", "m:f()"])
def test_a_reference_that_is_not_module_colon_function_is_refused(tmp_path: Path, ref: str) -> None:
    path = tmp_path / "gen.yaml"
    path.write_text(f"generators:\n  g: {{python: {ref!r}}}\nevents:\n  - stream: s\n    generator: g\n")
    with pytest.raises(ScenarioError, match=r"gen\.yaml:2: generators\.g\.python: must be 'module:function'"):
        check_scenario(load_scenario(path))


def test_check_scenario_reports_a_missing_module_as_a_render_error(tmp_path: Path) -> None:
    path = tmp_path / "gen.yaml"
    path.write_text("generators:\n  g: {python: 'no_such_mod_xyz:make'}\nevents:\n  - stream: s\n    generator: g\n")
    with pytest.raises(RenderError, match="cannot import python generator 'no_such_mod_xyz:make'"):
        check_scenario(load_scenario(path))


def test_yaml_nested_deeper_than_the_limit_is_refused_at_its_line() -> None:
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(ScenarioError, match=rf"^x\.yaml:3: nested more than {MAX_DEPTH} levels deep"):
        load_scenario_text(f"events:\n  - stream: a\n    payload: {{f: {deep}}}\n", "x.yaml")


@pytest.mark.parametrize("levels", [400, 990, 5000])
def test_json_nested_too_deeply_is_one_error_line_not_a_traceback(tmp_path: Path, levels: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"events": [{"stream": "a", "payload": {"f": ' + "[" * levels + "]" * levels + "}}]}")

    result = invoke("validate", path)

    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"xtape: error: {path}: ") and "nested too deeply" in line
