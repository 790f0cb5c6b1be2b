"""The public API: every name in ``xtape.__all__`` is what it says (a function is
callable, a class instantiates), even once every submodule is imported, so a submodule
named like a public function (``xtape.replay``, ``xtape.convert``) never shadows it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import xtape

ROOT = Path(__file__).resolve().parent.parent

#: Run in a fresh interpreter: imports every submodule first, then uses every name.
SCRIPT = r'''
import importlib, io, pkgutil, sys, types
from pathlib import Path

import xtape

for info in pkgutil.walk_packages(xtape.__path__, "xtape."):
    importlib.import_module(info.name)

from xtape import *  # noqa: F403 (what a user may write: every name in __all__)
from xtape import replay, ReplayOptions, convert

root, tmp, url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
sample, scenario = root / "recordings/sample.xtape", root / "scenarios/smoke-test.yaml"
used = {}

def use(name, value):
    used[name] = value
    return value

shadowed = [n for n in xtape.__all__ if isinstance(getattr(xtape, n), types.ModuleType)]
assert not shadowed, shadowed
assert "TYPE_CHECKING" not in dir(xtape) and set(dir(xtape)) >= set(xtape.__all__)

use("__version__", xtape.__version__.count("."))
use("Recording", sum(1 for _ in Recording(sample).entries()))
use("summarize", summarize(sample).entries)
with RecordingWriter(tmp / "w.xtape") as writer:
    writer.write_entries(b"s", [[b"1-1", [b"f", b"v"]]], 1)
use("RecordingWriter", writer.entries_written)
use("Event", Event(0, b"s", (b"f", b"v")).stream)
use("Pacing", Pacing.max_speed())
use("Transform", Transform(streams=("*",)))
options = use("ReplayOptions", ReplayOptions(pacing=Pacing.max_speed()))
use("load_scenario", load_scenario(scenario).name)
use("Scenario", Scenario.model_validate({"events": [{"stream": "s", "payload": {"a": 1}}]}).events[0].stream)
source = use("ScenarioSource", ScenarioSource(scenario))
use("Source", all(hasattr(source, m) for m in vars(Source) if not m.startswith("_")))
publisher = use("MemoryPublisher", MemoryPublisher())
use("replay", replay(source, url, options).published)
use("PrintPublisher", PrintPublisher(io.StringIO()).verbose)
use("open_source", type(open_source(sample)).__name__)
dry = ReplayOptions(pacing=Pacing.max_speed(), dry_run=True)
use("RedisPublisher", RedisPublisher(url).close())
use("ReplayReport", ReplayReport("source", "1x").published)
use("ConvertOptions", ConvertOptions(limit=3).limit)
use("convert", convert(sample, tmp / "s.yaml", ConvertOptions(limit=3)).events)
use("DiffRules", DiffRules(match_by="id").match_by)
same = use("diff_recordings", diff_recordings(sample, sample))
use("DiffResult", DiffResult("a", "b", DiffRules()).expected)
use("infer_catalog", infer_catalog(sample).entries)
catalog = use("load_catalog", load_catalog(root / "scenarios/streams.yaml"))
use("Catalog", Catalog([]).streams)
use("validate_recording", validate_recording(sample, catalog).path)
use("XtapeError", str(XtapeError("message")))
codec = use("get_codec", get_codec("json"))
use("Codec", isinstance(codec, Codec))
use("CodecResolver", CodecResolver([("s", "json")]).codec(b"s", [(b"a", b"1")]))
use("RecordOptions", RecordOptions(["nothing*"], duration_s=0.2).patterns)
stats = use("record", record(url, tmp / "r.xtape", RecordOptions(["nothing*"], duration_s=0.2)))
use("RedisServer", RedisServer(port=1).url)
case = use("load_case", load_case(root / "examples/matcher/case.yaml"))
use("RegressionCase", RegressionCase(case.path, "n", case.source, (), case.golden, DiffRules()).name)
result = use("run_case", run_case(case, url=url))
use("CaptureResult", CaptureResult(tmp / "c.xtape", ReplayReport("s", "1x"), stats, "settled").stop_reason)
captured = replay_and_capture(scenario, ["nothing*"], tmp / "c.xtape", url=url, options=options, settle_s=0.2)
use("replay_and_capture", captured.stop_reason)

assert sorted(used) == sorted(xtape.__all__), set(xtape.__all__) ^ set(used)
assert used["replay"] > 0 and same.same and result.status == "same", (used, result)
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
