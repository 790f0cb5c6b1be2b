"""``xtape diff EXPECTED --url URL``: a recording against live streams on a real
redis-server, read back through the recorder (``--from start`` until idle)."""

from __future__ import annotations

from pathlib import Path

import redis
from e2e_support import invoke, xadd

from xtape.diff import DiffRules, diff_live
from xtape.recording import Recording, RecordingWriter

ENTRIES = [
    [b"orderId", b"o1", b"price", b"10.00", b"bin", b"\xff\x00"],
    [b"orderId", b"o2", b"price", b"11.00", b"dup", b"1", b"dup", b""],
    [b"orderId", b"o3", b"price", b"12.00"],
]


def golden(path: Path) -> Path:
    with RecordingWriter(path) as writer:
        writer.write_entries(b"order.accepted", [[b"1-%d" % i, f] for i, f in enumerate(ENTRIES)], 1)
    return path


def test_live_streams_equal_to_the_recording_exit_0(tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    for flat in ENTRIES:
        xadd(r, b"order.accepted", flat)
    xadd(r, b"unrelated", [b"x", b"1"])
    result = invoke("diff", golden(tmp_path / "g.xtape"), "--url", redis_url, "--idle", "300ms")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "same: 1 stream, 3 entries compared" in result.stdout
    assert "(live: order.accepted)" in result.stdout
    assert "unrelated" not in result.stdout


def test_live_streams_that_differ_exit_1_naming_the_field(tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    xadd(r, b"order.accepted", ENTRIES[0])
    xadd(r, b"order.accepted", [b"orderId", b"o2", b"price", b"11.50", b"dup", b"1", b"dup", b""])
    xadd(r, b"order.accepted", ENTRIES[2])
    xadd(r, b"order.accepted", [b"orderId", b"o4", b"price", b"1"])
    saved = tmp_path / "actual.xtape"
    result = invoke(
        "diff", golden(tmp_path / "g.xtape"), "--url", redis_url, "--idle", "300ms", "--save-actual", saved
    )
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert 'price: "11.00" -> "11.50"' in result.stdout
    assert "+ extra    #3" in result.stdout
    assert sum(1 for _ in Recording(saved).entries()) == 4


def test_live_library_call_with_globs_and_rules(tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    for flat in reversed(ENTRIES):
        xadd(r, b"order.accepted", flat)
    g = golden(tmp_path / "g.xtape")
    assert not diff_live(g, redis_url, DiffRules(), idle_s=0.3).same
    result = diff_live(g, redis_url, DiffRules(match_by="orderId"), streams=["order.*"], idle_s=0.3)
    assert result.same, result.render_text()


def test_live_without_a_server_is_trouble_exit_2(tmp_path: Path) -> None:
    result = invoke("diff", golden(tmp_path / "g.xtape"), "--url", "redis://127.0.0.1:1/0", "--idle", "200ms")
    assert result.exit_code == 2
    assert result.stderr.startswith("xtape: error: cannot reach Redis at redis://127.0.0.1:1/0")
    assert result.stderr.count("\n") == 1
