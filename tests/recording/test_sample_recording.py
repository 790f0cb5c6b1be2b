"""The sample recording shipped in recordings/ stays readable, convertible and replayable."""

from __future__ import annotations

import json
from pathlib import Path

import redis
from support.e2e import invoke, ok
from support.paths import ROOT

from xtape.recording import Recording, summarize

SAMPLE = ROOT / "recordings" / "sample.xtape"


def test_sample_recording_is_complete_and_replays_byte_identical(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    info = summarize(SAMPLE)
    assert info.complete and info.truncated_bytes == 0 and info.entries > 100
    entries = list(Recording(SAMPLE).entries())

    report = json.loads(ok(invoke("replay", SAMPLE, "--max-speed", "--json", "--url", redis_url)).stdout)

    assert report["published"] == len(entries) == info.entries
    for stream in {e.stream for e in entries}:
        got = [entry[1] for entry in r.execute_command("XRANGE", stream, "-", "+")]
        assert got == [list(e.flat) for e in Recording(SAMPLE).events() if e.stream == stream]


def test_sample_recording_converts_to_a_valid_scenario(tmp_path: Path) -> None:
    out = tmp_path / "sample.yaml"
    ok(invoke("convert", SAMPLE, "-o", out, "--collapse-repeats"))
    assert "ok  " in ok(invoke("validate", out)).stdout
