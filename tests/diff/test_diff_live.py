"""``xtape diff EXPECTED --url URL``: a recording against live streams on a real
redis-server, read back through the recorder (``--from start`` until idle)."""

from __future__ import annotations

from pathlib import Path

import redis
from support.e2e import invoke, xadd

from xtape.diff import DiffRules, diff_live
from xtape.recording import Recording, RecordingWriter
from xtape.report.diff_text import render_text

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
    assert not diff_live(g, redis_url, DiffRules(), idle=0.3).same
    result = diff_live(g, redis_url, DiffRules(match_by="orderId"), streams=["order.*"], idle=0.3)
    assert result.same, render_text(result)


def test_live_without_a_server_is_trouble_exit_2(tmp_path: Path) -> None:
    result = invoke("diff", golden(tmp_path / "g.xtape"), "--url", "redis://127.0.0.1:1/0", "--idle", "200ms")
    assert result.exit_code == 2
    assert result.stderr.startswith("xtape: error: cannot reach Redis at redis://127.0.0.1:1/0")
    assert result.stderr.count("\n") == 1


def _accounts(r: redis.Redis, *entries: tuple[bytes, bytes, bytes]) -> None:
    for user, name, secret in entries:
        xadd(r, b"acct", [b"user", user, name, secret, b"note", b"n-" + user])


def _secrets_in(path: Path) -> list[bytes]:
    found = [v for _, _, fields in _flat_entries(path) for v in fields if b"hunter" in v]
    return found + ([b"raw"] if b"hunter" in path.read_bytes() else [])


def _flat_entries(path: Path) -> list[tuple[object, object, list[bytes]]]:
    return [(e.stream, e.id, [b for pair in e.fields for b in pair]) for e in Recording(path).entries()]


def test_live_diff_applies_the_recordings_redaction_and_compares_redacted_fields_by_presence(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    _accounts(r, (b"u1", b"password", b"hunter1"), (b"u2", b"Passcode", b"hunter2"))
    rec = tmp_path / "acct.xtape"
    record = invoke("record", "acct", "-o", rec, "--url", redis_url, "--from", "start", "--until-idle", "300ms",
                    "--redact", "pass*", "-q")  # fmt: skip
    assert record.exit_code == 0, record.output
    assert _secrets_in(rec) == []
    _accounts(r, (b"u3", b"password", b"hunter3"))  # live has one more entry
    saved, html = tmp_path / "live.xtape", tmp_path / "report.html"
    result = invoke("diff", rec, "--url", redis_url, "--idle", "300ms", "--save-actual", saved, "--html", html)
    assert result.exit_code == 1, result.output
    assert "hunter" not in result.output
    assert "differs: 1 of 1 stream (0 changed, 0 missing, 1 extra; 2 same)" in result.stdout
    assert "1 extra" in result.stdout and "redacted:" in result.stdout
    assert "hunter" not in html.read_text()
    assert _secrets_in(saved) == []
    assert [f[3][:9] for _, _, f in _flat_entries(saved)] == [b"redacted:"] * 3
    as_json = invoke("diff", rec, "--url", redis_url, "--idle", "300ms", "--json")
    assert "hunter" not in as_json.stdout


def test_live_diff_with_a_shared_key_file_compares_redacted_values(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    key = tmp_path / "redact.key"
    key.write_text("0123456789abcdef0123456789abcdef\n")
    _accounts(r, (b"u1", b"password", b"hunter1"), (b"u2", b"password", b"hunter2"))
    rec = tmp_path / "acct.xtape"
    record = invoke("record", "acct", "-o", rec, "--url", redis_url, "--from", "start", "--until-idle", "300ms",
                    "--redact", "pass*", "--redact-key-file", key, "-q")  # fmt: skip
    assert record.exit_code == 0, record.output
    assert Recording(rec).header.options["redaction"] == "hmac-sha256, key from a file"
    r.delete(b"acct")
    _accounts(r, (b"u1", b"password", b"hunter1"), (b"u2", b"password", b"hunter9"))  # u2's changed
    by_value = invoke("diff", rec, "--url", redis_url, "--idle", "300ms", "--redact-key-file", key)
    assert by_value.exit_code == 1, by_value.output
    assert "hunter" not in by_value.output
    assert "#1" in by_value.stdout and "password" in by_value.stdout and "#0" not in by_value.stdout
    by_presence = invoke("diff", rec, "--url", redis_url, "--idle", "300ms")
    assert by_presence.exit_code == 0, by_presence.output
    other = tmp_path / "other.key"
    other.write_text("another key, long enough to use\n")
    assert invoke("diff", rec, "--url", redis_url, "--idle", "300ms", "--redact-key-file", other).exit_code == 0
    short = tmp_path / "short.key"
    short.write_text("abc")
    line = invoke("diff", rec, "--url", redis_url, "--redact-key-file", short).stderr
    assert "holds 3 bytes: give at least 16" in line
