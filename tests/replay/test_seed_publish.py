"""Every snippet of the seed document publishes into a real Redis as written, through
the command users run (``xtape replay -f FILE``), with the fields the renderer makes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from support.e2e import invoke, ok
from support.seed import SNIPPETS

from xtape.scenario import ScenarioSource
from xtape.timeline import NS_PER_MS


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_seed_snippet_publishes_as_written(
    name: str, tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(SNIPPETS[name])
    # What the scenario makes, without {{timestamp}} (that depends on when it runs).
    expected = list(ScenarioSource(path, seed=5).timeline(0, lambda seq, off: off // NS_PER_MS))

    result = ok(invoke("replay", "-f", path, "--max-speed", "--seed", "5", "--json", "--url", redis_url))

    report = json.loads(result.stdout)
    assert report["published"] == len(expected) and report["errors"] == 0
    for stream in {e.stream for e in expected}:
        got = [entry[1] for entry in r.execute_command("XRANGE", stream, "-", "+")]
        want = [list(e.flat) for e in expected if e.stream == stream]
        assert len(got) == len(want)
        for got_flat, want_flat in zip(got, want, strict=True):
            names = got_flat[0::2]
            assert names == want_flat[0::2]
            # every value is the rendered one, except the scheduled timestamp
            for n, g, w in zip(names, got_flat[1::2], want_flat[1::2], strict=True):
                if n != b"timestamp":
                    assert g == w, (stream, n)
