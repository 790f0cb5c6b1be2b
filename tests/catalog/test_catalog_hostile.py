"""Hostile catalogs: schemas whose regexes backtrack, whose ``$ref``s reach out, whose
size explodes, and catalogs found beside a scenario that would run Python."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import fastjsonschema
import pytest
from support.catalog import errors_of
from support.e2e import error_line, invoke, write_recording

from xtape.catalog import load_catalog_text, validate_recording

T0 = 1_700_000_000_000
EVIL = "^(a+)+$"  # backtracks 2**n steps on "a"*n + "b"


# --------------------------------------------------------------------------- ReDoS


def test_a_backtracking_pattern_runs_in_linear_time_in_validate(tmp_path: Path) -> None:
    """On a backtracking engine "a"*40 + "b" takes 2**40 steps (hours); RE2 is linear.
    Run in a child process so that the old engine cannot hang the test run."""
    catalog = tmp_path / "streams.yaml"
    catalog.write_text(
        "streams:\n"
        f"  s:\n    fields:\n      name: {{type: string, pattern: '{EVIL}'}}\n"
        f"  p:\n    schema: {{patternProperties: {{'{EVIL}': {{type: integer}}}}, additionalProperties: false}}\n"
    )
    hostile = b"a" * 40 + b"b"
    rec = write_recording(
        tmp_path / "r.xtape",
        [(b"s", T0, 0, [b"name", hostile]), (b"s", T0 + 1, 0, [b"name", b"aaaa"]), (b"p", T0 + 2, 0, [hostile, b"1"])],
    )
    started = time.monotonic()
    try:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("xtape")), "validate", str(rec), "--catalog", str(catalog)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("validate did not finish in 60 s: the pattern backtracks")
    assert time.monotonic() - started < 30  # a generous bound for a loaded machine (start-up included)
    assert done.returncode == 1, done.stderr
    assert f"    {T0}-0: name: \"{'a' * 40}b\" does not match the pattern '{EVIL}'" in done.stdout
    assert "2 invalid" in done.stdout.splitlines()[0]
    assert f"{T0 + 2}-0: {'a' * 40}b: unknown field '{'a' * 40}b'" in done.stdout


def test_a_backtracking_pattern_is_checked_fast_in_the_library() -> None:
    catalog = load_catalog_text(f"streams:\n  s:\n    fields:\n      name: {{type: string, pattern: '{EVIL}'}}\n")
    spec = catalog.lookup("s")
    assert spec is not None
    started = time.monotonic()
    assert not spec.is_valid([b"name", b"a" * 40 + b"b"])
    assert [m for _, m in spec.check([b"name", b"a" * 40 + b"b"])] == [
        f"\"{'a' * 40}b\" does not match the pattern '{EVIL}'"
    ]
    assert spec.is_valid([b"name", b"a" * 40])
    assert time.monotonic() - started < 5


def test_a_backtracking_pattern_does_not_hang_compiling_a_schema() -> None:
    """fastjsonschema itself matches required names against patternProperties with
    Python's re while it compiles a closed object: such a schema is not compiled so."""
    code = textwrap.dedent(f"""\
        import time
        from xtape.catalog import load_catalog_text
        started = time.monotonic()
        catalog = load_catalog_text(
            "streams:\\n  s:\\n    schema: {{patternProperties: {{'{EVIL}': {{}}}}, "
            "additionalProperties: false, required: ['{'a' * 40}b']}}\\n"
        )
        print(catalog.lookup("s").is_valid([b"x", b"1"]), round(time.monotonic() - started))
    """)
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("compiling the schema did not finish in 60 s: its pattern backtracks")
    assert done.returncode == 0, done.stderr
    valid, seconds = done.stdout.split()
    assert valid == "False" and int(seconds) < 5


def test_format_regex_means_re2_compiles_it() -> None:
    catalog = load_catalog_text("streams:\n  s:\n    fields:\n      rule: {type: string, format: regex}\n")
    spec = catalog.lookup("s")
    assert spec is not None
    assert spec.is_valid([b"rule", b"^a+$"])
    assert not spec.is_valid([b"rule", b"(a)\\1"])  # Python's re compiles it; RE2 runs no backreference
    assert [m for _, m in spec.check([b"rule", b"(a)\\1"])] == ["'(a)\\\\1' is not a 'regex'"]


@pytest.mark.parametrize(
    ("schema", "where"),
    [
        ("{fields: {x: {type: string, pattern: '(a)\\1'}}}", "streams.s.fields.x.pattern"),
        ("{schema: {patternProperties: {'^(?=x)': {}}}}", "streams.s.schema.patternProperties"),
    ],
)
def test_a_pattern_re2_cannot_run_is_one_line_naming_its_place(tmp_path: Path, schema: str, where: str) -> None:
    (tmp_path / "streams.yaml").write_text(f"streams:\n  s: {schema}\n")
    line = error_line(invoke("validate", tmp_path / "streams.yaml"), 2)
    assert f"streams.yaml:2: {where}" in line
    assert "cannot be used" in line and "no backreferences or lookaround" in line


# --------------------------------------------------------------------------- $ref


@pytest.mark.parametrize(
    ("schema", "shown"),
    [
        ("{$ref: 'ftp://example.invalid/s.json'}", "'ftp://example.invalid/s.json'"),
        ("{$id: 'ftp://example.invalid/root.json', properties: {a: {$ref: 'other.json'}}}",
         "'other.json (that is ftp://example.invalid/other.json)'"),
        ("{properties: {a: {$id: 'gopher://example.invalid/x'}, b: {$ref: 'gopher://example.invalid/y'}}}",
         "'gopher://example.invalid/y'"),
        ("{properties: {a: {$ref: 'other.json#/x'}}}", "'other.json#/x'"),
    ],
)  # fmt: skip
def test_a_reference_outside_the_schema_is_refused_before_any_resolver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schema: str, shown: str
) -> None:
    touched: list[str] = []

    def resolver(*args: object, **kwargs: object) -> None:
        touched.append(repr(args))
        raise AssertionError("a resolver was reached")

    monkeypatch.setattr(urllib.request, "urlopen", resolver)
    monkeypatch.setattr(fastjsonschema.ref_resolver, "resolve_remote", resolver)
    monkeypatch.setattr(fastjsonschema, "compile", resolver)
    [message] = errors_of(f"streams:\n  a:\n    schema: {schema}\n", tmp_path)
    assert message.startswith("streams.yaml:3: streams.a.schema")
    assert f"$ref {shown} is not followed: only references inside the schema (#/...) are" in message
    assert touched == []


def test_references_inside_the_schema_still_work(tmp_path: Path) -> None:
    catalog = load_catalog_text(
        textwrap.dedent("""\
        streams:
          a:
            schema:
              $id: https://example.com/a.json
              definitions: {n: {type: integer}}
              properties: {x: {$ref: '#/definitions/n'}, y: {$ref: '#/definitions/n'}}
        """)
    )
    assert catalog.check("a", [b"x", b"1", b"y", b"2"]) == ()
    assert [m for _, m in catalog.check("a", [b"x", b"q"]) or ()] == ['expected integer, got "q"']


# --------------------------------------------------------------------------- size


def test_a_huge_schema_is_checked_once_and_compiled_only_when_used(tmp_path: Path) -> None:
    """20,000 patterned properties shared by two streams: checked once, not compiled to
    Python (seconds and gigabytes), and a stream no entry uses is never compiled."""
    import json

    props = {f"field_{i:05d}": {"type": "string", "pattern": f"^v{i}_[a-z]+$"} for i in range(20_000)}
    (tmp_path / "big.json").write_text(json.dumps({"type": "object", "properties": props}))
    (tmp_path / "streams.yaml").write_text("streams:\n  s1: {schema: big.json}\n  s2: {schema: big.json}\n")
    rec = write_recording(
        tmp_path / "r.xtape",
        [(b"s1", T0, 0, [b"field_00007", b"v7_abc"]), (b"s1", T0 + 1, 0, [b"field_00008", b"nope"])],
    )
    code = textwrap.dedent(f"""\
        import time
        from xtape.catalog import load_catalog, validate_recording
        started = time.process_time()
        catalog = load_catalog({str(tmp_path / 'streams.yaml')!r})
        check = validate_recording({str(rec)!r}, catalog)
        print(check.invalid, check.streams[0].first[0][1])
        print(catalog.lookup('s2')._validate is None)
        print(time.process_time() - started, end=" ")
    """)
    # Its peak RSS as seen by a small parent: started straight from this test process, it
    # would count this process's peak too (Linux carries it across exec), which another
    # test (a million-entry batch) may have raised to 500 MB.
    parent = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    child = [sys.executable, "-c", parent, sys.executable, "-c", code]
    done = subprocess.run(child, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    first, unused, cost = done.stdout.splitlines()
    assert first == "1 field_00008: \"nope\" does not match the pattern '^v8_[a-z]+$'"
    assert unused == "True"
    seconds, rss_kb = cost.split()
    assert float(seconds) < 8  # was 17 s of CPU
    assert int(rss_kb) < 400_000  # was 2.2 GB


def test_a_schema_beyond_the_bound_is_refused_in_one_line(tmp_path: Path) -> None:
    import json

    from xtape.catalog.safe import MAX_NODES

    props = {f"f{i}": {"type": "string"} for i in range(MAX_NODES + 1)}
    (tmp_path / "big.json").write_text(json.dumps({"type": "object", "properties": props}))
    [message] = errors_of("streams:\n  s: {schema: big.json}\n", tmp_path)
    assert message == f"streams.yaml:2: streams.s.schema: the schema holds more than {MAX_NODES:,} objects: too big to check entries against"


def test_validate_recording_gives_the_same_verdicts_compiled_or_interpreted(tmp_path: Path) -> None:
    """Past CODEGEN_MAX_NODES the schema is interpreted: same verdicts, same messages."""
    from xtape.catalog import safe

    text = "streams:\n  s:\n    fields: {n: {type: integer, minimum: 1}, t: {type: string, pattern: '^x'}}\n    required: [n]\n"
    entries = [(b"s", T0, 0, [b"n", b"0", b"t", b"y"]), (b"s", T0 + 1, 0, [b"n", b"3", b"t", b"xy"])]
    rec = write_recording(tmp_path / "r.xtape", entries)
    compiled = validate_recording(rec, load_catalog_text(text))
    safe._COMPILED.clear()
    old = safe.CODEGEN_MAX_NODES
    safe.CODEGEN_MAX_NODES = 0
    try:
        interpreted = validate_recording(rec, load_catalog_text(text))
    finally:
        safe.CODEGEN_MAX_NODES = old
        safe._COMPILED.clear()
    assert compiled.invalid == interpreted.invalid == 1
    assert compiled.streams[0].first == interpreted.streams[0].first


# --------------------------------------------------------------------------- trust


def _evil_folder(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "checkout"
    folder.mkdir()
    marker = tmp_path / "imported.marker"
    (folder / "scenario.yaml").write_text(
        "name: s\nevents:\n  - stream: position.opened\n    payload: {size: lots}\n"
    )
    (folder / "streams.yaml").write_text("streams:\n  position.opened:\n    model: evilmod:M\n")
    (folder / "evilmod.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "from pydantic import BaseModel\nclass M(BaseModel):\n    size: int\n"
    )
    return folder, marker


def _xtape(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "XTAPE_CATALOG"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("xtape")), *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=cwd, env=env,
    )  # fmt: skip


def test_a_catalog_found_beside_a_scenario_never_imports_python(tmp_path: Path) -> None:
    folder, marker = _evil_folder(tmp_path)
    done = _xtape("validate", folder / "scenario.yaml", cwd=tmp_path)
    assert not marker.exists(), "validate imported a module named by a catalog it only found"
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ok  {folder / 'scenario.yaml'}: 1 event")
    assert done.stderr.splitlines() == [
        f"xtape: warning: {folder / 'streams.yaml'}:3: streams['position.opened'].model: not checked: "
        "Python models need --catalog (a catalog found, not named, never imports code)"
    ]
    done = _xtape("replay", folder / "scenario.yaml", "--dry-run", cwd=folder)  # found in the cwd too
    assert not marker.exists()
    assert done.returncode == 0 and "not checked: Python models need --catalog" in done.stderr
    # a glob that picks up the catalog itself does not trust it either
    done = _xtape("validate", folder / "streams.yaml", cwd=tmp_path)
    assert not marker.exists()
    assert done.returncode == 0 and "not checked: Python models need --catalog" in done.stderr


def test_a_catalog_named_with_catalog_runs_its_model(tmp_path: Path) -> None:
    folder, marker = _evil_folder(tmp_path)
    done = _xtape("validate", folder / "scenario.yaml", "--catalog", folder / "streams.yaml", cwd=tmp_path)
    assert marker.exists()
    assert done.returncode == 2  # the model wants a number: size is checked, and fails
    assert "events[0].payload.size" in done.stderr
