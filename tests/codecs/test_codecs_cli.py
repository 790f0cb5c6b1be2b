"""Codecs wired into the commands that show, compare and convert payloads, on real
FastStream messages (a FastStream app process publishes; a FastStream subscriber process
consumes what xtape replays)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from support.codecs import FRAMEWORKS, faststream_publish, recording_of
from support.e2e import invoke, wait_for


@pytest.fixture
def two_faststream_recordings(redis_url: str, r: redis.Redis, tmp_path: Path) -> tuple[Path, Path]:
    """Two recordings of a real FastStream app: the second with order 2's total changed."""
    faststream_publish(redis_url, "orders", 4)
    expected = recording_of(r, tmp_path / "expected.xtape", b"orders")
    r.delete("orders")
    faststream_publish(redis_url, "orders", 4, bump=2)
    actual = recording_of(r, tmp_path / "actual.xtape", b"orders")
    return expected, actual


def test_diff_of_faststream_recordings_names_the_body_path_not_a_blob(
    two_faststream_recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    expected, actual = two_faststream_recordings
    result = invoke("diff", expected, actual, "--html", tmp_path / "report.html")
    assert result.exit_code == 1
    assert "codec for stream 'orders': faststream (detected)" in result.stderr
    out = result.stdout
    assert "      total: 25 -> 26" in out
    assert "headers.correlation_id:" in out  # FastStream makes a new one per message
    assert "base64" not in out and "not JSON" not in out and "__data__" not in out
    html = (tmp_path / "report.html").read_text()
    assert '<td class="v">total</td><td class="v exp">25</td><td class="v act">26</td>' in html

    quiet = invoke("diff", expected, actual, "--ignore-path", "headers.correlation_id")
    assert quiet.exit_code == 1
    changed = [line.strip() for line in quiet.stdout.splitlines() if line.startswith("      ")]
    assert changed == ["total: 25 -> 26"]
    assert invoke("diff", expected, actual, "--ignore-path", "headers.correlation_id", "--ignore-path", "total").exit_code == 0
    assert invoke("diff", expected, actual, "--ignore-path", "headers.*", "--tolerance", "total=1").exit_code == 0
    raw = invoke("diff", expected, actual, "--codec", "orders=raw")
    assert raw.exit_code == 1 and "total:" not in raw.stdout and "base64" in raw.stdout


def test_cat_decode_prints_the_decoded_payloads(two_faststream_recordings: tuple[Path, Path]) -> None:
    expected, _ = two_faststream_recordings
    result = invoke("cat", expected, "--decode")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["value"]["body"]["total"] for line in lines] == [5, 15, 25, 35]
    assert lines[0]["codec"] == "faststream" and lines[0]["stream"] == "orders"
    assert lines[0]["value"]["headers"]["content-type"] == "application/json"
    assert lines[0]["value"]["body"]["note"] == "café"
    assert "codec for stream 'orders': faststream (detected)" in result.stderr
    forced = invoke("cat", expected, "--decode", "--codec", "orders=base64")
    assert forced.exit_code == 0
    first = json.loads(forced.stdout.splitlines()[0])
    assert first["codec"] is None and "fields" in first  # not base64: shown as fields
    undecoded = json.loads(invoke("cat", expected).stdout.splitlines()[0])
    assert "base64" in json.dumps(undecoded["fields"])  # without --decode: as before


def test_convert_of_faststream_writes_readable_payloads_and_replays_the_same_bytes(
    two_faststream_recordings: tuple[Path, Path], tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    _, actual = two_faststream_recordings  # (the stream holds what this one recorded)
    scenario = tmp_path / "orders.yaml"
    result = invoke("convert", actual, "-o", scenario)
    assert result.exit_code == 0, result.output
    assert "codec for stream 'orders': faststream (detected)" in result.stderr
    text = scenario.read_text()
    assert "!!binary" not in text and "__data__" not in text
    assert "codecs:\n  orders: faststream\n" in text
    assert "total: 26" in text and "correlation_id:" in text and "note: café" in text
    originals = [flat for _, flat in r.execute_command("XRANGE", "orders", "-", "+")]
    r.delete("orders")
    assert invoke("replay", scenario, "--url", redis_url, "--max-speed").exit_code == 0
    replayed = [list(flat) for _, flat in r.execute_command("XRANGE", "orders", "-", "+")]
    assert len(replayed) == 4
    assert replayed == [list(flat) for flat in originals]  # byte-identical envelopes


def test_an_edited_converted_scenario_is_consumed_by_a_real_faststream_subscriber(
    two_faststream_recordings: tuple[Path, Path], tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    expected, _ = two_faststream_recordings
    scenario = tmp_path / "orders.yaml"
    assert invoke("convert", expected, "-o", scenario).exit_code == 0
    edited = scenario.read_text().replace("total: 35", "total: 36")
    scenario.write_text(edited)
    r.delete("orders")
    received = tmp_path / "received.jsonl"
    log = (tmp_path / "service.log").open("wb")
    service = subprocess.Popen(
        [sys.executable, str(FRAMEWORKS / "faststream_app.py"), "consume", redis_url, "orders", str(received)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        def group_ready() -> bool:
            try:
                groups = r.execute_command("XINFO", "GROUPS", "orders")
                return any(b"svc" in list(group) for group in groups)
            except redis.ResponseError:
                return False

        wait_for(group_ready, timeout=60, what="the FastStream subscriber's group")
        assert invoke("replay", scenario, "--url", redis_url, "--max-speed").exit_code == 0
        wait_for(lambda: received.exists() and len(received.read_text().splitlines()) == 4,
                 timeout=60, what="4 messages consumed")
    finally:
        service.terminate()
        try:
            service.wait(timeout=30)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
        log.close()
    got = [json.loads(line) for line in received.read_text().splitlines()]
    assert [g["body"]["total"] for g in got] == [5, 15, 25, 36]
    assert got[0]["body"]["lines"][3] == {"sku": "s3", "line_total": 3}
    assert all(len(g["correlation_id"]) == 36 for g in got)  # the recorded ones, decoded by FastStream


def test_infer_and_validate_apply_schemas_to_the_decoded_body(
    two_faststream_recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    expected, _ = two_faststream_recordings
    catalog = tmp_path / "streams.yaml"
    inferred = invoke("infer", expected, "-o", catalog)
    assert inferred.exit_code == 0, inferred.output
    text = catalog.read_text()
    assert "    codec: faststream" in text and "__data__" not in text
    assert "      total: {type: integer" in text and "      lines:" in text
    checked = invoke("validate", expected, "--catalog", catalog)
    assert checked.exit_code == 0, checked.output
    assert "0 invalid" in checked.stdout
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        "streams:\n  orders:\n    codec: faststream\n    fields:\n      total: {type: integer, maximum: 20}\n"
    )
    bad = invoke("validate", expected, "--catalog", strict)
    assert bad.exit_code == 1
    assert "2 invalid" in bad.stdout and "total" in bad.stdout
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("streams:\n  orders:\n    codec: protobuf\n")
    refused = invoke("validate", expected, "--catalog", unknown)
    assert refused.exit_code == 2 and "unknown codec 'protobuf'" in refused.stderr


def test_a_case_file_chooses_codecs_and_test_codec_overrides_it(
    two_faststream_recordings: tuple[Path, Path], tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    expected, actual = two_faststream_recordings
    scenario = tmp_path / "inputs.yaml"
    assert invoke("convert", actual, "-o", scenario).exit_code == 0
    case = tmp_path / "case.yaml"
    case.write_text(
        f"input: {{scenario: {scenario.name}, max_speed: true}}\noutputs: [orders]\n"
        f"golden: {expected.name}\ncodecs: {{orders: raw}}\nsettle: 300ms\nexpect: 4\n"
        "diff: {ignore_paths: [headers.correlation_id]}\n"
    )
    r.delete("orders")  # each run starts from a server without the case's streams
    raw = invoke("test", case, "--url", redis_url)
    assert raw.exit_code == 1, raw.output
    r.delete("orders")
    assert "total: 25 -> 26" not in raw.stdout and "base64" in raw.stdout
    decoded = invoke("test", case, "--url", redis_url, "--codec", "orders=faststream")
    assert decoded.exit_code == 1, decoded.output
    assert "orders: 1 difference (payloads decoded: faststream)" in decoded.stdout
    assert "      total: 25 -> 26" in decoded.stdout and "base64" not in decoded.stdout
    case.write_text(case.read_text().replace("codecs: {orders: raw}", "codecs: {orders: protobuf}"))
    invalid = invoke("test", case, "--url", redis_url)
    assert invalid.exit_code == 2 and "codecs.orders: unknown codec 'protobuf'" in invalid.stdout
