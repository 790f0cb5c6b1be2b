"""Recordings and the catalog: ``validate REC --catalog`` (drift), ``infer`` (a catalog
from real traffic), ``convert --generators`` (a load scenario of its shape)."""

from __future__ import annotations

import json
from pathlib import Path

import redis
import yaml
from support.e2e import invoke, ok, write_recording
from support.paths import ROOT

from xtape.catalog import infer_catalog, load_catalog, validate_recording
from xtape.scenario import ScenarioSource, load_scenario, validate_scenario
from xtape.timeline import NS_PER_MS

SAMPLE = ROOT / "recordings" / "sample.xtape"
T0 = 1_700_000_000_000

CATALOG = """\
strict: true
streams:
  orders:
    fields:
      sym: {enum: [BTC, ETH]}
      qty: {type: number, minimum: 0}
      side: string
    required: [sym, qty]
"""


def orders(n: int, bad: dict[int, list[bytes]] | None = None) -> list[tuple[bytes, int, int, list[bytes]]]:
    out = []
    for i in range(n):
        flat = (bad or {}).get(i) or [b"sym", b"BTC" if i % 3 else b"ETH", b"qty", b"%d.5" % i, b"side", b"buy"]
        out.append((b"orders", T0 + i, 0, flat))
    return out


def test_a_recording_with_drifted_entries_is_summarized_per_stream_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CATALOG)
    entries = orders(
        10,
        {
            3: [b"sym", b"DOGE", b"qty", b"1"],
            5: [b"sym", b"BTC", b"qty", b"lots", b"venue", b"x"],
            7: [b"qty", b"1"],
            8: [b"sym", b"BTC", b"qty", b"-1"],
        },
    )
    entries += [(b"ordres", T0 + 50, 0, [b"a", b"1"]), (b"ordres", T0 + 51, 0, [b"a", b"2"])]
    rec = write_recording(tmp_path / "r.xtape", entries)

    result = invoke("validate", rec, "--catalog", tmp_path / "c.yaml")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"BAD {rec}: 12 entries on 2 streams checked against {tmp_path / 'c.yaml'}, 6 invalid",
        "  orders          10 entries  4 invalid",
        f"    {T0 + 3}-0: sym: expected one of \"BTC\", \"ETH\", got \"DOGE\"",
        f"    {T0 + 5}-0: qty: expected number, got \"lots\"; venue: unknown field 'venue' (not allowed by the catalog)",
        f"    {T0 + 7}-0: missing required field 'sym'",
        "  ordres           2 entries  2 invalid",
        f"    unknown stream 'ordres': not in the catalog {tmp_path / 'c.yaml'} (did you mean 'orders'?)",
    ]
    check = validate_recording(rec, load_catalog(tmp_path / "c.yaml"), examples=10)
    assert [s.invalid for s in check.streams] == [4, 2]
    assert check.streams[0].first[3] == (f"{T0 + 8}-0", "qty: -1 is less than the minimum of 0")


def test_a_recording_that_matches_its_catalog_exits_0(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CATALOG)
    rec = write_recording(tmp_path / "r.xtape", orders(20))
    result = ok(invoke("validate", rec, "--catalog", tmp_path / "c.yaml"))
    assert result.stdout.splitlines()[0] == f"ok  {rec}: 20 entries on 1 stream checked against {tmp_path / 'c.yaml'}, 0 invalid"


def test_validating_a_recording_needs_a_catalog(tmp_path: Path) -> None:
    rec = write_recording(tmp_path / "r.xtape", orders(2))
    result = invoke("validate", rec)
    assert result.exit_code == 2
    assert result.stderr == (
        f"xtape: error: {rec}: checking a recording needs a stream catalog: pass --catalog FILE "
        "(or write one with xtape infer)\n"
    )


def test_infer_on_the_sample_recording_writes_a_catalog_the_recording_satisfies(tmp_path: Path) -> None:
    out = tmp_path / "streams.yaml"
    result = ok(invoke("infer", SAMPLE, "-o", out))
    assert result.stderr == f"wrote {out}: 10 streams from 155 entries\n"
    text = out.read_text()
    assert text.startswith("# Stream catalog inferred by xtape")
    data = yaml.safe_load(text)
    names = list(data["streams"])
    assert names == sorted(names)  # stable order
    request = data["streams"]["prod:order.request"]
    assert request["fields"]["leverage"] == {"type": "integer", "enum": [10, 5, 3, 1, 2]}
    assert request["fields"]["isLong"] == {"type": "boolean"}
    assert request["fields"]["user"]["enum"][:2] == ["bob", "carol"]
    assert request["required"] == list(request["fields"])
    assert "# every entry; 5 values:" in text and "# 51 entries, 14.6/s" in text
    assert data["streams"]["prod:service.heartbeat"]["fields"]["instanceId"]["format"] == "uuid"
    ok(invoke("validate", SAMPLE, "--catalog", out))
    again = tmp_path / "again.yaml"
    ok(invoke("infer", SAMPLE, "-o", again))
    assert again.read_text() == text  # same recording, same file
    assert invoke("infer", SAMPLE, "-o", out).exit_code == 2  # exists: --force needed


def test_infer_marks_binary_fields_and_types_json_fields(tmp_path: Path) -> None:
    entries = []
    for i in range(12):
        flat = [
            b"blob", bytes([0xFF, i, 0x00]),
            b"meta", json.dumps({"px": i, "tags": ["a"]}).encode(),
            b"legs", b"[1,2]",
            b"price", b"%d.25" % i,
            b"mixed", b"7" if i < 6 else b"seven",
        ]  # fmt: skip
        entries.append((b"s", T0 + i, 0, flat))
    rec = write_recording(tmp_path / "r.xtape", entries)
    inferred = infer_catalog(rec)
    text = inferred.catalog_yaml()
    fields = yaml.safe_load(text)["streams"]["s"]["fields"]
    assert fields["blob"] == {"type": "binary"}
    assert "binary (not UTF-8), 3-3 bytes" in text
    assert fields["meta"]["type"] == "object" and fields["meta"]["examples"][0] == {"px": 0, "tags": ["a"]}
    assert fields["legs"]["type"] == "array"
    assert fields["price"]["type"] == "number"
    assert fields["mixed"]["type"] == "string"  # 7 then seven: text after all
    catalog_path = tmp_path / "streams.yaml"
    catalog_path.write_text(text)
    assert validate_recording(rec, load_catalog(catalog_path)).invalid == 0


def test_redacted_fields_stay_redacted(tmp_path: Path) -> None:
    digests = [b"redacted:" + (b"%032x" % (i * 7919)) for i in range(30)]
    entries = [(b"users", T0 + i, 0, [b"email", digests[i % 30], b"n", b"%d" % i]) for i in range(60)]
    rec = write_recording(tmp_path / "r.xtape", entries)
    inferred = infer_catalog(rec)
    text = inferred.catalog_yaml()
    email = yaml.safe_load(text)["streams"]["users"]["fields"]["email"]
    assert email == {"type": "string", "pattern": "^redacted:[0-9a-f]{32}$"}
    assert b"redacted:" not in text.replace("^redacted:", "").encode()  # no digest as an example
    assert "redacted by the recorder" in text
    generator = inferred.scenario()["generators"]["users"]["email"]
    assert generator == {"text": [32, 32], "chars": "0123456789abcdef", "prefix": "redacted:"}


def test_convert_generators_validates_against_infer_and_replays(tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    catalog = tmp_path / "streams.yaml"
    scenario = tmp_path / "load.yaml"
    ok(invoke("infer", SAMPLE, "-o", catalog))
    result = ok(invoke("convert", SAMPLE, "-o", scenario, "--generators"))
    assert result.stderr.startswith(f"wrote {scenario}: ")
    text = scenario.read_text()
    assert "generators:" in text and len(text.splitlines()) < 200  # compact
    loaded = load_scenario(scenario)
    assert loaded.generators["prod:order.response"]["status"] == {
        "choice": ["accepted", "rejected"], "weights": [35, 15]
    }
    assert loaded.generators["prod:price.update"]["price"]["decimals"] == 2
    # validates against the inferred catalog (found beside it), many seeds
    checked = ok(invoke("validate", scenario))
    assert checked.stdout.endswith(f"(catalog {catalog})\n")
    for seed in range(10):
        ScenarioSource(scenario, seed=seed, catalog=load_catalog(catalog))
    # one pass: each stream at its observed rate (within rounding), then replayed
    source = ScenarioSource(scenario, seed=1)
    counts: dict[bytes, int] = {}
    for event in source.timeline(0, lambda seq, off: T0 + off // NS_PER_MS):
        counts[event.stream] = counts.get(event.stream, 0) + 1
    window_s = source.duration_ms / 1000
    assert counts[b"prod:order.response"] / window_s > 50  # recorded at 100/s
    replayed = ok(invoke("replay", scenario, "--max-speed", "--seed", "1", "--json", "--url", redis_url))
    report = json.loads(replayed.stdout)
    assert report["published"] == sum(counts.values()) and report["errors"] == 0
    assert r.xlen("prod:order.response") == counts[b"prod:order.response"]
    # and what was published validates against the catalog
    assert validate_scenario(scenario, catalog=load_catalog(catalog)).errors == []


def test_convert_generators_refuses_options_it_does_not_use(tmp_path: Path) -> None:
    result = invoke("convert", SAMPLE, "-o", tmp_path / "x.yaml", "--generators", "--limit", "5")
    assert result.exit_code == 2
    assert result.stderr == "xtape: error: --generators cannot be combined with --limit\n"


def test_convert_generators_takes_stream_globs(tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    ok(invoke("convert", SAMPLE, "-o", out, "--generators", "-s", "*price*", "-q"))
    assert set(load_scenario(out).generators) == {"prod:price.update", "prod:price.mark"}


def test_convert_generators_of_one_stream_keeps_its_rate_as_repeat_and_interval(tmp_path: Path) -> None:
    entries = [(b"ticks", T0 + 20 * i, 0, [b"px", b"%d.5" % (100 + i % 7), b"side", b"buy" if i % 2 else b"sell"]) for i in range(101)]
    rec = write_recording(tmp_path / "r.xtape", entries)
    scenario = infer_catalog(rec).scenario()
    assert scenario["events"] == [{"stream": "ticks", "generator": True, "delay": 20, "repeat": 50, "interval": 20}]
    assert scenario["generators"]["ticks"] == {
        "px": {"choice": ["100.5", "101.5", "102.5", "103.5", "104.5", "105.5", "106.5"], "weights": [15, 15, 15, 14, 14, 14, 14]},
        "side": {"choice": ["sell", "buy"], "weights": [51, 50]},
    }
