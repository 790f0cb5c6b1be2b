"""``--where EXPR`` (issue 21, item 1): a JMESPath expression on ``{stream, id, fields,
payload}`` selects entries for ``cat``, ``convert``, ``replay``, ``diff`` and ``cut``,
one implementation (:class:`xtape.shape.Where`); a bad expression is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from support.e2e import error_line, fields_of, invoke, ok
from support.shape import T0, entries_of, order, write_orders

from xtape.shape import Where
from xtape.timeline import Event
from xtape.transform import Transform


@pytest.fixture()
def rec(tmp_path: Path) -> Path:
    return write_orders(tmp_path / "orders.xtape", 60)


def _rejected(i: int) -> bool:
    return i % 3 == 1  # STATUSES[i % 3]


def test_where_sees_the_stream_the_id_the_fields_and_the_decoded_payload() -> None:
    flat = order(4)  # user eve, status rejected, amount 4
    assert Where("payload.payload.status == 'rejected'")(b"orders", b"1-0", flat)
    assert Where("fields.user == 'eve' && stream == 'orders' && id == '1-0'")(b"orders", b"1-0", flat)
    assert Where("payload.payload.user.id == 'eve'")(b"orders", b"1-0", flat)
    assert Where("to_number(fields.order_id) == null")(b"orders", b"1-0", flat)
    assert not Where("payload.payload.amount > `4`")(b"orders", b"1-0", flat)
    assert Where("payload.payload.amount >= `4`")(b"orders", b"1-0", flat)
    assert not Where("fields.missing")(b"orders", b"1-0", flat)
    # a function given the wrong type (a field this entry lacks) is false, not a failure
    assert not Where("length(fields.missing) > `1`")(b"orders", b"1-0", flat)


def test_where_with_a_codec_named_on_the_command_line() -> None:
    flat = [b"data", b'{"a":1}']
    assert Where("payload.data.a == `1`")(b"s", b"1-0", flat)  # JSON detected
    # --codec raw: no decoding, the payload is null (the fields are still there)
    assert not Where("payload.data.a == `1`", [("*", "raw")])(b"s", b"1-0", flat)
    assert Where("payload == null && fields.data == '{\"a\":1}'", [("*", "raw")])(b"s", b"1-0", flat)


def test_cat_where_prints_only_the_matching_entries(rec: Path) -> None:
    result = ok(invoke("cat", rec, "--where", "payload.payload.status == 'rejected'"))
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert ids == [f"{T0 + i}-0" for i in range(60) if _rejected(i)]
    # --limit counts the entries printed, after --where
    limited = ok(invoke("cat", rec, "--where", "fields.user == 'bob'", "-n", "2")).stdout.splitlines()
    assert [json.loads(line)["id"] for line in limited] == [f"{T0 + 1}-0", f"{T0 + 9}-0"]


@pytest.mark.parametrize(
    ("expression", "column", "what"),
    [
        ("payload.status == 'rejected", 19, "unclosed ' delimiter"),
        ("payload.status ==", 18, "ends too early"),
        ("fields.a ~ 1", 10, "unknown token ~"),
        ("fields.[", 9, "ends too early"),
    ],
)
@pytest.mark.parametrize("command", ["cat", "convert", "replay", "diff", "cut"])
def test_an_invalid_expression_is_one_line_naming_its_column(
    rec: Path, tmp_path: Path, command: str, expression: str, column: int, what: str
) -> None:
    args: list[object] = {
        "cat": ["cat", rec],
        "convert": ["convert", rec, "-o", tmp_path / "s.yaml"],
        "replay": ["replay", rec, "--dry-run"],
        "diff": ["diff", rec, rec],
        "cut": ["cut", rec, "-o", tmp_path / "cut.xtape"],
    }[command]
    line = error_line(invoke(*args, "--where", expression), 2)
    assert f"--where {expression!r}: invalid JMESPath at column {column}: " in line
    assert what in line
    assert not (tmp_path / "s.yaml").exists() and not (tmp_path / "cut.xtape").exists()


def test_replay_takes_codec_for_where(rec: Path) -> None:
    assert "--codec applies to replay with --where" in error_line(invoke("replay", rec, "--dry-run", "--codec", "json"), 2)
    shown = ok(invoke("replay", rec, "--dry-run", "--max-speed", "--codec", "raw", "--where", "payload == null"))
    assert "scheduled 60 events" in shown.stderr


def test_an_unknown_function_is_refused_before_reading(rec: Path) -> None:
    line = error_line(invoke("cat", rec, "--where", "lenght(fields.user) > `1`"), 2)
    assert "no function lenght() in JMESPath" in line
    assert "length" in line  # the known ones are listed


def test_convert_where_takes_only_the_matching_entries(rec: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.yaml"
    ok(invoke("convert", rec, "-o", out, "--where", "fields.user == 'ann'", "-q"))
    text = out.read_text()
    assert text.count("- stream:") == len([i for i in range(60) if i % 8 == 0])
    assert "user: bob" not in text


def test_diff_where_compares_only_the_matching_entries(tmp_path: Path) -> None:
    a = write_orders(tmp_path / "a.xtape", 30)
    # b: the same entries but one of bob's changed
    b = tmp_path / "b.xtape"
    entries = entries_of(a)
    from xtape.recording import RecordingWriter

    with RecordingWriter(b) as out:
        for stream, entry_id, flat, capture_ns in entries:
            if entry_id == b"%d-0" % (T0 + 9):  # bob's
                flat = (*flat[:-1], b"changed")
            out.write_entries(stream, [[entry_id, list(flat)]], capture_ns)
    assert invoke("diff", a, b, "-q").exit_code == 1
    assert ok(invoke("diff", a, b, "-q", "--where", "fields.user != 'bob'")).exit_code == 0
    assert invoke("diff", a, b, "-q", "--where", "fields.user == 'bob'").exit_code == 1


def test_replay_where_publishes_only_the_matching_entries(rec: Path, redis_url: str, r: redis.Redis) -> None:
    ok(invoke("replay", rec, "--url", redis_url, "--max-speed", "-q", "--where", "payload.payload.status == 'rejected'"))
    published = [flat for stream in (b"orders", b"payments") for flat in fields_of(r, stream)]
    assert sorted(flat[1] for flat in published) == sorted(f"o{i}".encode() for i in range(60) if _rejected(i))


def test_replay_where_that_keeps_nothing_is_an_error(rec: Path, redis_url: str, r: redis.Redis) -> None:
    line = error_line(invoke("replay", rec, "--url", redis_url, "-q", "--max-speed", "--where", "fields.nope"), 2)
    assert "nothing matched" in line and "--where" in line
    assert r.exists("orders", "payments") == 0


def test_the_transform_applies_where_to_scenario_events_without_ids() -> None:
    events = [Event.of(i, b"s", ((b"n", b"%d" % i),)) for i in range(5)]
    kept = list(Transform(keep=Where("to_number(fields.n) > `2` && id == null")).apply(events))
    assert [e.offset_ns for e in kept] == [3, 4]


@pytest.mark.parametrize("command", ["cat", "convert", "replay", "diff", "cut"])
def test_help_explains_where(command: str) -> None:
    text = " ".join(ok(invoke(command, "--help")).stdout.split())
    assert "--where EXPR" in text
    assert "JMESPath" in text and "payload" in text

