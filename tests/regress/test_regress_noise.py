"""Noise found rather than guessed (issue 17 item 4) and latency measured and guarded
(item 5), with the service of tests/support/regress.py."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.regress import write_case

from xtape.errors import CaseError
from xtape.regress import junit_xml, load_case, run_case
from xtape.regress.case import LatencyLimit
from xtape.regress.golden import read_meta
from xtape.regress.latency import Latency, check, measure

pytestmark = pytest.mark.slow


def test_update_finds_the_noise_stores_it_with_the_golden_and_later_runs_ignore_it(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, count=5, env={"NOISY": "1"}))

    updated = run_case(case, update=True)

    assert updated.status == "updated", updated.summary() + updated.details()
    assert updated.noise == ["id", "meta.at[*]", "meta.trace"]
    assert "  noise (ignored from now on): id, meta.at[*], meta.trace" in updated.figures()
    meta = read_meta(tmp_path / "golden.xtape")
    assert meta["runs"] == 2 and ["id", ""] in meta["noise"]
    assert run_case(case).status == "same"
    # --no-noise: the generated values are differences again
    plain = run_case(case, noise=False)
    assert plain.status == "differs" and "out: 5 changed" in plain.summary()


def test_a_real_change_in_a_field_that_is_not_noise_still_fails(tmp_path: Path) -> None:
    run_case(load_case(write_case(tmp_path, count=5, env={"NOISY": "1"})), update=True)
    case = load_case(write_case(tmp_path, count=5, env={"NOISY": "1", "VERSION": "2"}, correlate_by="n"))

    result = run_case(case)

    assert result.status == "differs"
    assert 'meta.v: "1" -> "2"' in result.details()
    assert '~ changed  #2 id ' in result.details() and '(n "2")' in result.details()  # its correlate_by key
    assert result.latency[b"out"].count == 5  # paired by n


def test_the_case_diff_rules_apply_on_top_of_the_noise(tmp_path: Path) -> None:
    run_case(load_case(write_case(tmp_path, count=3, env={"NOISY": "1"})), update=True)
    case = load_case(write_case(tmp_path, count=3, env={"NOISY": "1", "VERSION": "2"}, diff={"ignore_fields": ["meta"]}))

    assert run_case(case).status == "same"


def test_latency_is_measured_stored_and_a_guard_fails_a_slowed_service(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, count=6))
    updated = run_case(case, update=True, runs=1)
    golden = read_meta(tmp_path / "golden.xtape")["latency"]["out"]
    assert updated.latency[b"out"].count == 6 and golden["count"] == 6
    # Slowed by 300 ms on two inputs: the values still match, the guard fails.
    slowed = load_case(write_case(tmp_path, count=6, env={"SLOW": "1,4", "SLOW_S": "0.3"}, latency={"p99": "150ms"}))

    result = run_case(slowed)

    assert result.diff is not None and result.diff.same
    assert result.status == "differs"
    assert "latency of out: p99 " in result.summary() and "is above the limit of 150 ms" in result.summary()
    assert result.latency[b"out"].p99 >= 300
    junit = ET.fromstring(junit_xml([result]).split("\n", 1)[1])
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert float(props["latency.out.p99"]) >= 300 and props["latency.out.count"] == "6"


def test_latency_pairs_by_correlate_by_and_guards_against_the_golden() -> None:
    inputs = {b"in": [(b"1000-0", [b"k", b"a"]), (b"1010-0", [b"k", b"b"])]}
    outputs = {b"out": [(b"1050-0", [b"body", b'{"k": "b"}']), (b"1200-0", [b"body", b'{"k": "a"}'])]}

    figures = measure(inputs, outputs, correlate_by="k")
    assert figures == {}  # the outputs have no field k: nothing is paired by it
    figures = measure(inputs, {b"out": [(b"1050-0", [b"k", b"b"]), (b"1200-0", [b"k", b"a"])]}, "k")
    assert figures[b"out"] == Latency(2, 40.0, 200.0, 200.0)
    by_path = measure({b"in": [(b"1000-0", [b"body", b'{"k": "a"}'])]}, {b"out": [(b"1007-0", [b"body", b'{"k": "a"}'])]}, "body.k")
    assert by_path[b"out"].max == 7.0

    breaches = check(figures, {"p99": LatencyLimit(factor=2)}, {b"out": Latency(2, 40, 90, 90)})
    assert breaches[0] == "latency of out: p99 200 ms is above the limit of 180 ms (2x the golden's: 90 ms)"
    assert check(figures, {"p99": LatencyLimit(factor=3)}, {b"out": Latency(2, 40, 90, 90)}) == []


def test_latency_guards_in_a_case_file(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, latency={"p99": "2x", "max": "1s"}))
    assert case.latency == {"p99": LatencyLimit(factor=2.0), "max": LatencyLimit(latency=1.0)}
    with pytest.raises(CaseError, match=r"latency\.p50: expected a factor above 0"):
        load_case(write_case(tmp_path, latency={"p50": "-2x"}))
    with pytest.raises(CaseError, match=r"latency\.p90: unknown key"):
        load_case(write_case(tmp_path, latency={"p90": "1s"}))


def test_a_payload_with_a_random_part_inside_is_not_taken_as_noise(tmp_path: Path) -> None:
    from xtape.recording.writer import RecordingWriter
    from xtape.regress.noise import find_noise

    def envelope(cid: bytes, total: bytes) -> bytes:  # FastStream's binary envelope, in shape
        return b"\x89BIN\r\n\x1a\n\x00\x01correlation_id" + cid + b'content-type application/json{"total": ' + total + b"}"

    runs = []
    for i, cid in enumerate((b"6f1c0e7e-2b1d-4d7a-9c55-0b1e8e2f0a11", b"a9d3f2c4-7e6b-4f0e-8a1d-3c5b7e9f1d22")):
        path = tmp_path / f"run{i}.xtape"
        with RecordingWriter(path) as writer:
            writer.write_entries(b"out", [[b"1-0", [b"__data__", envelope(cid, b"10.5"), b"id", cid]]], 1)
        runs.append(path)
    unresolved: set[str] = set()

    noise = find_noise(runs, unresolved=unresolved)

    assert noise == [("id", "")]  # a short random value is noise
    assert unresolved == {"__data__"}  # the envelope is not: ignoring it would ignore "total"
