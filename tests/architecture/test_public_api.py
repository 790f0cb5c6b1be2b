"""The public API: a top level a user can hold in their head (fewer than 20 names,
``dir(xtape)`` showing exactly them), each name what it says even once every submodule
is imported, the verbs taking their source first, and the README's Python examples
running as written against a real Redis."""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from support.paths import ROOT

import xtape
from xtape.recording import RecordingWriter

README = ROOT / "README.md"
#: The URL the README's examples name; the tests put the session server's in its place.
README_URL = "redis://localhost:6379/0"


def test_the_top_level_has_fewer_than_20_names_and_dir_shows_exactly_them() -> None:
    assert len(xtape.__all__) < 20
    assert dir(xtape) == sorted(xtape.__all__)
    assert len(set(xtape.__all__)) == len(xtape.__all__)
    # no test helpers, codec internals or parsers at the top
    for name in ("RedisServer", "CodecResolver", "get_codec", "parse_start", "replay_into"):
        assert name not in dir(xtape)


def test_a_name_that_left_the_top_says_where_it_lives() -> None:
    with pytest.raises(AttributeError, match=r"from xtape\.server import RedisServer"):
        xtape.RedisServer  # noqa: B018
    with pytest.raises(AttributeError, match=r"from xtape\.codecs import CodecResolver"):
        xtape.CodecResolver  # noqa: B018
    with pytest.raises(AttributeError, match=r"xtape\.replay\(source, url, options\)"):
        xtape.replay_into  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        xtape.nothing  # type: ignore[attr-defined]  # noqa: B018


def test_record_replay_convert_and_diff_take_their_source_then_their_target() -> None:
    firsts = {
        name: list(inspect.signature(getattr(xtape, name)).parameters)[:3]
        for name in ("record", "replay", "convert", "diff_recordings")
    }
    assert firsts == {
        "record": ["url", "path", "options"],
        "replay": ["source", "url", "options"],
        "convert": ["path", "output", "options"],
        "diff_recordings": ["expected", "actual", "rules"],
    }


def test_record_options_take_the_start_as_the_text_from_takes() -> None:
    from xtape.capture import parse_start
    from xtape.errors import UsageError

    assert xtape.RecordOptions(["s"], start="start").start == parse_start("start")
    assert xtape.RecordOptions(["s"], start="-5m").start_spec.kind == "ago"
    assert xtape.RecordOptions(["s"]).start_spec.kind == "now"
    with pytest.raises(UsageError, match="invalid --from 'yesterday'"):
        xtape.RecordOptions(["s"], start="yesterday")


def test_replay_of_a_path_reports_what_opening_it_warned_about(tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    path = tmp_path / "gappy.xtape"
    with RecordingWriter(path) as writer:
        writer.write_entries(b"g", [[b"%d-0" % i, [b"i", b"%d" % i]] for i in range(1, 4)], 1)
        writer.write_gap(b"g", b"3-0", b"9-0", 5, 2)
    report = xtape.replay(path, redis_url, xtape.ReplayOptions(pacing=xtape.Pacing.max_speed()))
    assert report.published == 3 == r.xlen("g")
    assert any("1 gap" in warning for warning in report.warnings), report.warnings


# --------------------------------------------------------------------------- README


def readme_examples() -> list[str]:
    """The ``python`` code blocks of README's "Python API" section, in order."""
    text = README.read_text()
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_has_a_three_line_example_of_each_verb() -> None:
    examples = readme_examples()
    assert len(examples) == 5
    for code in examples:
        lines = [line for line in code.splitlines() if line.strip()]
        assert len(lines) == 3, code
        imported = re.match(r"from xtape import (.+)", lines[0])
        assert imported is not None, code
        assert set(imported.group(1).split(", ")) <= set(xtape.__all__), code
    verbs = [re.search(r"\b(record|replay|convert|diff_recordings|run_case)\(", code) for code in examples]
    assert [verb.group(1) if verb else None for verb in verbs] == [
        "record",
        "replay",
        "convert",
        "diff_recordings",
        "run_case",
    ]


def _answers(path: Path, ts: str) -> None:
    with RecordingWriter(path) as writer:
        writer.write_entries(
            b"answers", [[b"%d-0" % i, [b"id", b"%d" % i, b"ts", ts.encode()]] for i in range(1, 4)], 1
        )


def test_the_readme_examples_run_as_written_against_a_real_redis(
    tmp_path: Path, redis_url: str, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "examples" / "matcher", tmp_path / "examples" / "matcher")
    monkeypatch.chdir(tmp_path)
    with r.pipeline(transaction=False) as pipe:
        for i in range(1000):
            pipe.xadd(f"orders:{'eu' if i % 2 else 'us'}", {"n": str(i), "blob": b"\xff\x00"})
        pipe.execute()
    _answers(tmp_path / "golden.xtape", "1700000000")
    _answers(tmp_path / "actual.xtape", "1800000000")  # another run: only ts differs

    scopes: list[dict[str, object]] = []
    for code in readme_examples():
        scope: dict[str, object] = {}
        exec(code.replace(README_URL, redis_url), scope)  # (the README's own code)
        scopes.append(scope)
    recorded, replayed, converted, compared, tested = scopes

    assert recorded["stats"].entries == 1000  # type: ignore[attr-defined]
    assert replayed["report"].published == 1000  # type: ignore[attr-defined]
    assert r.xlen("orders:eu") + r.xlen("orders:us") == 2000
    assert converted["done"].events > 0  # type: ignore[attr-defined]
    assert xtape.load_scenario(tmp_path / "today.yaml").events[0].stream.startswith("orders:")
    assert compared["result"].same  # type: ignore[attr-defined]
    assert not xtape.diff_recordings("golden.xtape", "actual.xtape").same  # the rule mattered
    assert tested["result"].status == "same", tested["result"]


# --------------------------------------------------------------------------- every name works

#: Run in a fresh interpreter: imports every submodule first, then uses every name.
SCRIPT = r'''
import importlib, io, pkgutil, sys, types
from pathlib import Path

import xtape

for info in pkgutil.walk_packages(xtape.__path__, "xtape."):
    importlib.import_module(info.name)

from xtape import *  # noqa: F403 (what a user may write: every name in __all__)

root, tmp, url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
sample, scenario = root / "recordings/sample.xtape", root / "scenarios/smoke-test.yaml"
used = {}

def use(name, value):
    used[name] = value
    return value

shadowed = [n for n in xtape.__all__ if isinstance(getattr(xtape, n), types.ModuleType)]
assert not shadowed, shadowed
assert dir(xtape) == sorted(xtape.__all__), dir(xtape)

use("__version__", xtape.__version__.count("."))
use("Recording", sum(1 for _ in Recording(sample).entries()))
use("Event", Event(0, b"s", (b"f", b"v")).stream)
use("Pacing", Pacing.max_speed())
options = use("ReplayOptions", ReplayOptions(pacing=Pacing.max_speed()))
use("load_scenario", load_scenario(scenario).name)
report = use("replay", replay(scenario, url, options))
use("ReplayReport", isinstance(report, ReplayReport) and report.published)
use("Source", all(hasattr(Recording(sample), m) for m in vars(Source) if not m.startswith("_")))
use("ConvertOptions", ConvertOptions(limit=3).limit)
use("convert", convert(sample, tmp / "s.yaml", ConvertOptions(limit=3)).events)
use("DiffRules", DiffRules(match_by="id").match_by)
same = use("diff_recordings", diff_recordings(sample, sample))
use("XtapeError", str(XtapeError("message")))
recorded = use("RecordOptions", RecordOptions(["service.heartbeat"], start="start", count=1))
use("record", record(url, tmp / "r.xtape", recorded).entries)
case = use("load_case", load_case(root / "examples/matcher/case.yaml"))
result = use("run_case", run_case(case, url=url))

assert sorted(used) == sorted(xtape.__all__), set(xtape.__all__) ^ set(used)
assert used["replay"].published > 0 and same.same and result.status == "same", (used, result)
print("ok", len(used))
'''


def test_every_public_name_works_after_every_submodule_is_imported(tmp_path: Path, redis_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT), str(tmp_path), redis_url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ok", str(len(xtape.__all__))]


def test_a_submodule_import_keeps_the_function() -> None:
    script = (
        "import xtape.replay, xtape.convert\n"
        "from xtape import replay, convert\n"
        "import xtape\n"
        "print(type(replay).__name__, type(convert).__name__, type(xtape.replay).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.split() == ["function", "function", "function"]
