"""``xtape diff`` and :mod:`xtape.diff` on real recordings written by RecordingWriter:
what is reported (summary, position, id, field-level diff), under which rules, with
which exit code, and in bounded memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.diff import ORDERS, Flat, pair, write
from support.e2e import invoke
from typer.testing import CliRunner

from xtape.cli import app
from xtape.diff import DiffRules, diff_recordings
from xtape.errors import DiffRulesError, UsageError
from xtape.recording import RecordingWriter
from xtape.report.diff_text import render_text


def run(*args: object) -> tuple[int, str, str]:
    result = invoke("diff", *args)
    return result.exit_code, result.stdout, result.stderr


# --------------------------------------------------------------------------- basics


def test_identical_recordings_are_same_and_exit_0(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": ORDERS})
    code, out, err = run(e, a)
    assert (code, err) == (0, "")
    assert "orders" in out and "same" in out
    assert out.rstrip().endswith("same: 1 stream, 6 entries compared")
    result = diff_recordings(e, a)
    assert result.same and result.streams[0].same == 6


def test_missing_entry_is_named_with_position_and_id(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": ORDERS[:2] + ORDERS[3:]})
    result = diff_recordings(e, a)
    s = result.streams[0]
    assert (s.same, s.missing, s.extra, s.changed) == (5, 1, 0, 0)
    d = s.differences[0]
    assert d.kind == "missing" and d.expected is not None and d.expected[0] == 2
    code, out, _ = run(e, a)
    assert code == 1
    assert "- missing  #2 id 1700000000000-2" in out
    assert 'orderId="o2"' in out


def test_extra_entry_is_named_as_the_actual_side(tmp_path: Path) -> None:
    extra: Flat = [b"orderId", b"zz", b"price", b"1", b"ts", b"9"]
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": [*ORDERS[:4], extra, *ORDERS[4:]]})
    s = diff_recordings(e, a).streams[0]
    assert (s.same, s.missing, s.extra, s.changed) == (6, 0, 1, 0)
    code, out, _ = run(e, a)
    assert code == 1
    assert "+ extra    #4 id 1700000000000-4 (actual)" in out


def test_changed_field_gives_a_field_level_diff(tmp_path: Path) -> None:
    changed = [list(f) for f in ORDERS]
    changed[3][3] = b"999.00"
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": changed})
    s = diff_recordings(e, a).streams[0]
    assert (s.same, s.changed) == (5, 1)
    (f,) = s.differences[0].fields
    assert (f.kind, f.name, f.expected, f.actual) == ("changed", b"price", b"103.00", b"999.00")
    code, out, _ = run(e, a)
    assert code == 1
    assert "~ changed  #3 id 1700000000000-3" in out
    assert 'price: "103.00" -> "999.00"' in out


def test_a_long_run_of_extra_entries_resynchronises(tmp_path: Path) -> None:
    inserted = [[b"orderId", b"x%d" % i, b"price", b"0", b"ts", b"0"] for i in range(40)]
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": [*ORDERS[:3], *inserted, *ORDERS[3:]]})
    s = diff_recordings(e, a).streams[0]
    assert (s.same, s.extra, s.missing, s.changed) == (6, 40, 0, 0)
    assert [d.actual[0] for d in s.differences if d.actual] == list(range(3, 43))


def test_ids_are_ignored_unless_compare_ids(tmp_path: Path) -> None:
    other_ids = {b"orders": [b"1800000000000-%d" % i for i in range(6)]}
    e = write(tmp_path / "e.xtape", {b"orders": ORDERS})
    a = write(tmp_path / "a.xtape", {b"orders": ORDERS}, ids=other_ids)
    assert run(e, a)[0] == 0
    code, out, _ = run(e, a, "--compare-ids")
    assert code == 1
    assert "id: 1700000000000-0 -> 1800000000000-0" in out


def test_ignore_field_glob(tmp_path: Path) -> None:
    shifted = [[*f[:5], b"x" + f[5]] for f in ORDERS]
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": shifted})
    assert run(e, a)[0] == 1
    assert run(e, a, "--ignore-field", "t*")[0] == 0


def test_stream_glob_selects_streams(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"orders": ORDERS, b"audit": [[b"a", b"1"]]}, {b"orders": ORDERS, b"audit": [[b"a", b"2"]]})
    assert run(e, a)[0] == 1
    code, out, _ = run(e, a, "--stream", "ord*")
    assert code == 0
    assert "audit" not in out


def test_a_stream_missing_from_actual_is_reported_as_such(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"orders": ORDERS, b"fills": ORDERS[:2]}, {b"orders": ORDERS})
    result = diff_recordings(e, a)
    fills = next(s for s in result.streams if s.name == b"fills")
    assert (fills.status, fills.missing) == ("missing stream", 2)


# --------------------------------------------------------------------------- bytes


def test_duplicate_field_names_compare_by_occurrence(tmp_path: Path) -> None:
    e, a = pair(
        tmp_path,
        {b"s": [[b"a", b"1", b"a", b"2", b"b", b""], [b"a", b"1", b"a", b"2"]]},
        {b"s": [[b"a", b"1", b"a", b"3", b"b", b""], [b"a", b"1"]]},
    )
    s = diff_recordings(e, a).streams[0]
    first, second = s.differences
    assert [(f.kind, f.name, f.occurrence, f.expected, f.actual) for f in first.fields] == [
        ("changed", b"a", 1, b"2", b"3")
    ]
    assert [(f.kind, f.name, f.occurrence) for f in second.fields] == [("missing", b"a", 1)]
    code, out, _ = run(e, a)
    assert code == 1
    assert 'a[1]: "2" -> "3"' in out
    assert 'a[1]: "2" -> (no such field)' in out


def test_duplicates_are_not_collapsed(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"s": [[b"a", b"1", b"a", b"1"]]}, {b"s": [[b"a", b"1"]]})
    assert not diff_recordings(e, a).same


def test_non_utf8_and_empty_values_compare_exactly_and_render_base64(tmp_path: Path) -> None:
    e, a = pair(
        tmp_path,
        {b"s": [[b"bin\xff", b"\x00\x80\xfe", b"empty", b""], [b"k", b"\xff"]]},
        {b"s": [[b"bin\xff", b"\x00\x80\xff", b"empty", b""], [b"k", b"\xff"]]},
    )
    s = diff_recordings(e, a).streams[0]
    assert (s.same, s.changed) == (1, 1)
    (f,) = s.differences[0].fields
    assert (f.name, f.expected, f.actual) == (b"bin\xff", b"\x00\x80\xfe", b"\x00\x80\xff")
    code, out, _ = run(e, a)
    assert code == 1
    assert r"bin\xff: base64:AID+ -> base64:AID/" in out
    code, out, _ = run(e, a, "--json")
    data = json.loads(out)
    field = data["streams"][0]["differences"][0]["fields"][0]
    assert field["field"] == {"base64": "Ymlu/w=="}
    assert field["expected"] == {"base64": "AID+"}
    assert field["actual"] == {"base64": "AID/"}
    e2 = write(tmp_path / "e2.xtape", {b"s": [[b"e", b""]]})
    a2 = write(tmp_path / "a2.xtape", {b"s": [[b"e", b"x"]]})
    code, out, _ = run(e2, a2)
    assert 'e: "" -> "x"' in out


# --------------------------------------------------------------------------- order


REORDERED: list[Flat] = [ORDERS[i] for i in (1, 0, 2, 5, 3, 4)]


def test_reordered_entries_differ_in_strict_order(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": REORDERED})
    assert run(e, a)[0] == 1


def test_reordered_entries_match_by_key(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": REORDERED})
    code, out, _ = run(e, a, "--match-by", "orderId")
    assert code == 0, out
    changed = [list(f) for f in REORDERED]
    changed[0][3] = b"1.00"  # o1's price
    a2 = write(tmp_path / "a2.xtape", {b"orders": changed})
    result = diff_recordings(e, a2, DiffRules(match_by="orderId"))
    s = result.streams[0]
    assert (s.same, s.changed) == (5, 1)
    d = s.differences[0]
    assert d.expected is not None and d.actual is not None
    assert (d.expected[0], d.actual[0]) == (1, 0)  # o1 is 2nd expected, 1st actual


def test_reordered_entries_match_as_a_multiset(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": REORDERED})
    assert run(e, a, "--unordered")[0] == 0
    a2 = write(tmp_path / "a2.xtape", {b"orders": REORDERED[:-1]})
    s = diff_recordings(e, a2, DiffRules(order="multiset")).streams[0]
    assert (s.same, s.missing) == (5, 1)


def test_match_by_a_path_inside_a_json_field(tmp_path: Path) -> None:
    exp = [[b"payload", b'{"id": %d, "v": 1}' % i] for i in range(4)]
    act = [[b"payload", b'{"v": 1, "id": %d}' % i] for i in (3, 1, 0, 2)]
    e, a = pair(tmp_path, {b"s": exp}, {b"s": act})
    code, out, _ = run(e, a, "--json-field", "payload", "--match-by", "payload.id")
    assert code == 0, out


def test_match_by_and_unordered_exclude_each_other(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"s": ORDERS}, {b"s": ORDERS})
    code, out, err = run(e, a, "--match-by", "orderId", "--unordered")
    assert code == 2 and out == ""
    assert err.startswith("xtape: error: ") and err.count("\n") == 1


# --------------------------------------------------------------------------- tolerance, JSON


@pytest.mark.parametrize(
    ("tolerance", "actual", "same"),
    [
        ("0.01", b"100.01", True),  # exactly at the boundary: within
        ("0.01", b"99.99", True),
        ("0.01", b"100.011", False),
        ("0.01", b"99.9899", False),
        ("1%", b"101.00", True),  # 1% of the expected 100.00
        ("1%", b"101.0001", False),
        ("0", b"100.0", True),  # numerically equal
    ],
)
def test_numeric_tolerance_at_the_boundary(tmp_path: Path, tolerance: str, actual: bytes, same: bool) -> None:
    e, a = pair(tmp_path, {b"s": [[b"fillPrice", b"100.00"]]}, {b"s": [[b"fillPrice", actual]]})
    code, out, _ = run(e, a, "--tolerance", f"fillPrice={tolerance}")
    assert code == (0 if same else 1), out
    if not same:
        assert "beyond the tolerance" in out


def test_tolerance_does_not_excuse_text(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"s": [[b"p", b"abc"]]}, {b"s": [[b"p", b"abd"]]})
    code, out, _ = run(e, a, "--tolerance", "p=1")
    assert code == 1 and "not a number" in out


def test_json_fields_compare_parsed_with_ignored_paths(tmp_path: Path) -> None:
    exp = [[b"payload", b'{"id": 1, "px": 1.50, "meta": {"ts": 1, "host": "a"}, "items": [{"id": "x", "q": 1}]}']]
    act = [[b"payload", b'{"meta": {"host": "a", "ts": 2}, "px": 1.5, "id": 1, "items": [{"id": "y", "q": 1}]}']]
    e, a = pair(tmp_path, {b"s": exp}, {b"s": act})
    code, out, _ = run(e, a, "--json-field", "payload")
    assert code == 1
    assert "payload.meta.ts: 1 -> 2" in out
    assert 'payload.items[0].id: "x" -> "y"' in out
    assert "px" not in out  # 1.50 == 1.5 as JSON numbers
    code, out, _ = run(e, a, "--json-field", "payload", "--ignore-path", "payload.meta.ts", "--ignore-path", "payload.items[*].id")
    assert code == 0, out
    # Without --json-field the bytes differ.
    assert run(e, a, "--ignore-path", "payload.meta.ts")[0] == 1


def test_json_paths_take_a_tolerance(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"s": [[b"payload", b'{"px": 10.0}']]}, {b"s": [[b"payload", b'{"px": 10.05}']]})
    assert run(e, a, "--json-field", "payload")[0] == 1
    assert run(e, a, "--json-field", "payload", "--tolerance", "payload.px=0.05")[0] == 0


def test_field_order_counts_unless_ignored(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"s": [[b"a", b"1", b"b", b"2"]]}, {b"s": [[b"b", b"2", b"a", b"1"]]})
    code, out, _ = run(e, a)
    assert code == 1 and "fields in another order: a, b -> b, a" in out
    assert run(e, a, "--ignore-field-order")[0] == 0


# --------------------------------------------------------------------------- empty, damaged


def test_empty_recordings_are_the_same(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"s": []}, {b"s": []})
    code, out, _ = run(e, a)
    assert code == 0, out
    assert "no streams to compare" in out
    assert diff_recordings(e, a).same


def test_an_empty_stream_against_entries_differs(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"s": []}, {b"s": ORDERS[:2]})
    code, out, _ = run(e, a)
    assert code == 1
    assert "extra stream" in out
    assert "+ extra    #1" in out
    code, out, _ = run(a, e)
    assert code == 1 and "missing stream" in out


@pytest.mark.parametrize("damage", ["not-a-recording", "garbage-record", "missing-file"])
def test_damaged_input_is_one_line_and_exit_2(tmp_path: Path, damage: str) -> None:
    good = write(tmp_path / "good.xtape", {b"s": ORDERS})
    bad = tmp_path / "bad.xtape"
    if damage == "not-a-recording":
        bad.write_text("hello\n")
    elif damage == "garbage-record":
        data = good.read_bytes()
        bad.write_bytes(data[:60] + b"\xc1" * 40 + data[100:])
    code, out, err = run(good, bad)
    assert code == 2, (out, err)
    assert out == ""
    assert err.startswith("xtape: error: ") and err.count("\n") == 1
    assert str(bad) in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- rules file


def test_rules_file_applies_and_options_add_to_it(tmp_path: Path) -> None:
    shifted = [[*f[:3], b"%d.004" % (100 + i), b"ts", b"x"] for i, f in enumerate(ORDERS)]
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": shifted})
    rules = tmp_path / "rules.yaml"
    rules.write_text("ignore_fields: [ts]\ntolerance:\n  price: 0.005\n")
    assert run(e, a, "--rules", rules)[0] == 0
    assert run(e, a)[0] == 1
    assert run(e, a, "--rules", rules, "--tolerance", "price=0.001")[0] == 1
    loaded = DiffRules.load(rules)
    assert loaded.ignore_fields == ("ts",)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("ignore_fields: [ts]\nmatchby: id\n", 2, "matchby: unknown key"),
        ("ignore_fields: [ts]\ntolerance:\n  price: 0.01\n  qty: lots\n", 4, "tolerance.qty: invalid tolerance 'lots'"),
        ("order: sideways\n", 1, "order: invalid order 'sideways'"),
        ("ignore_fields: [ts]\nstreams: 'a\n", 2, "invalid YAML"),
        ("json_fields: [payload]\nignore_paths: ['']\n", 2, "ignore_paths"),
        ("codecs: {'orders*': protobuf}\n", 1, "codecs: unknown codec 'protobuf'"),
        ("window: 0\n", 1, "window"),
        ("- just a list\n", None, "expected a mapping"),
    ],
)
def test_bad_rules_file_says_file_and_line_exit_2(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    e, a = pair(tmp_path, {b"s": ORDERS}, {b"s": ORDERS})
    rules = tmp_path / "rules.yaml"
    rules.write_text(text)
    code, out, err = run(e, a, "--rules", rules)
    assert code == 2 and out == ""
    prefix = f"xtape: error: {rules}:{line}: " if line is not None else f"xtape: error: {rules}"
    assert err.startswith(prefix), err
    assert words in err and err.count("\n") == 1
    with pytest.raises(DiffRulesError):
        DiffRules.load(rules)


def test_from_mapping_names_where_and_line() -> None:
    with pytest.raises(DiffRulesError) as caught:
        DiffRules.from_mapping({"tolerance": {"qty": "-1"}}, where="case.yaml", lines={("diff", "tolerance", "qty"): 12}, base=("diff",))
    assert str(caught.value) == "case.yaml:12: diff.tolerance.qty: invalid tolerance '-1': a tolerance cannot be negative"


def test_rules_refuse_bad_combinations() -> None:
    with pytest.raises(UsageError):
        DiffRules(order="key")
    with pytest.raises(UsageError):
        DiffRules(match_by="x", order="multiset")
    assert DiffRules(match_by="x").order == "key"


# --------------------------------------------------------------------------- output, bounds


def test_json_output_counts_and_differences(tmp_path: Path) -> None:
    changed = [list(f) for f in ORDERS]
    changed[1][3] = b"0"
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": changed[:-1]})
    code, out, _ = run(e, a, "--json")
    assert code == 1
    data = json.loads(out)
    assert data["same"] is False
    assert data["totals"] == {"expected": 6, "actual": 5, "same": 4, "changed": 1, "missing": 1, "extra": 0, "moved": 0}
    (stream,) = data["streams"]
    assert stream["stream"] == "orders" and stream["status"] == "differs"
    kinds = [(d["kind"], (d["expected"] or {}).get("position")) for d in stream["differences"]]
    assert kinds == [("changed", 1), ("missing", 5)]
    assert stream["differences"][0]["fields"] == [
        {"kind": "changed", "field": "price", "occurrence": 0, "expected": "101.00", "actual": "0"}
    ]


def test_max_reported_keeps_counts_exact(tmp_path: Path) -> None:
    exp = [[b"n", b"%d" % i] for i in range(50)]
    act = [[b"n", b"x%d" % i] for i in range(50)]
    e, a = pair(tmp_path, {b"s": exp}, {b"s": act})
    result = diff_recordings(e, a, DiffRules(max_reported=3))
    s = result.streams[0]
    assert s.changed == 50 and len(s.differences) == 3 and s.unreported == 47
    assert "... and 47 more" in render_text(result)


def test_color_only_when_asked(tmp_path: Path) -> None:
    changed = [list(f) for f in ORDERS]
    changed[0][1] = b"zz"
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": changed})
    result = diff_recordings(e, a)
    assert "\x1b[" not in render_text(result)
    assert "\x1b[31m" in render_text(result, color=True)
    assert "\x1b[" not in run(e, a)[1]  # CliRunner's stdout is not a terminal


def test_streams_far_apart_in_the_files_get_a_pass_of_their_own(tmp_path: Path) -> None:
    """Expected writes stream A before B, actual B before A: with a window of 5 the
    queue of A would outgrow its bound, so A is compared in its own pass, correctly."""
    a_entries = [[b"n", b"%d" % i] for i in range(200)]
    b_entries = [[b"m", b"%d" % i] for i in range(200)]
    changed = [list(f) for f in a_entries]
    changed[150][1] = b"changed"
    e = tmp_path / "e.xtape"
    a = tmp_path / "a.xtape"
    with RecordingWriter(e) as w:
        w.write_entries(b"A", [[b"1-%d" % i, f] for i, f in enumerate(a_entries)], 1)
        w.write_entries(b"B", [[b"1-%d" % i, f] for i, f in enumerate(b_entries)], 2)
    with RecordingWriter(a) as w:
        w.write_entries(b"B", [[b"1-%d" % i, f] for i, f in enumerate(b_entries)], 1)
        w.write_entries(b"A", [[b"1-%d" % i, f] for i, f in enumerate(changed)], 2)
    result = diff_recordings(e, a, DiffRules(window=5))
    by_name = {s.name: s for s in result.streams}
    assert by_name[b"A"].own_pass or by_name[b"B"].own_pass
    assert (by_name[b"A"].same, by_name[b"A"].changed) == (199, 1)
    assert by_name[b"B"].same == 200 and by_name[b"B"].is_same
    d = by_name[b"A"].differences[0]
    assert d.expected is not None and d.expected[0] == 150


def test_key_matching_gives_up_beyond_the_window(tmp_path: Path) -> None:
    exp = [[b"k", b"%d" % i] for i in range(100)]
    act = exp[1:] + exp[:1]  # k=0 comes 99 entries late
    e, a = pair(tmp_path, {b"s": exp}, {b"s": act}, batch=10)
    assert diff_recordings(e, a, DiffRules(match_by="k")).same
    s = diff_recordings(e, a, DiffRules(match_by="k", window=20)).streams[0]
    assert (s.same, s.missing, s.extra) == (99, 1, 1)


def test_compare_times_from_each_recordings_start(tmp_path: Path) -> None:
    e = write(tmp_path / "e.xtape", {b"s": ORDERS[:3]}, ids={b"s": [b"1000-0", b"1100-0", b"1200-0"]})
    a = write(tmp_path / "a.xtape", {b"s": ORDERS[:3]}, ids={b"s": [b"5000-0", b"5100-0", b"5230-0"]})
    assert run(e, a)[0] == 0
    code, out, _ = run(e, a, "--compare-times")
    assert code == 1 and "at +200 ms from the start, now +230 ms (+30 ms)" in out
    assert run(e, a, "--compare-times", "--time-tolerance", "30ms")[0] == 0


def test_entirely_different_streams_are_changed_pairs_within_the_window(tmp_path: Path) -> None:
    exp = [[b"n", b"%d" % i] for i in range(3000)]
    act = [[b"n", b"x%d" % i] for i in range(3000)]
    e, a = pair(tmp_path, {b"s": exp}, {b"s": act}, batch=250)
    s = diff_recordings(e, a, DiffRules(window=100, max_reported=5)).streams[0]
    assert (s.changed, s.missing, s.extra, s.same) == (3000, 0, 0, 0)


def test_expected_from_standard_input(tmp_path: Path) -> None:
    e, a = pair(tmp_path, {b"orders": ORDERS}, {b"orders": ORDERS[:-1]})
    result = CliRunner().invoke(app, ["diff", "-", str(a)], input=e.read_bytes())
    assert result.exit_code == 1, result.stderr
    assert "expected: <stdin>" in result.stdout and "- missing  #5" in result.stdout
    result = CliRunner().invoke(app, ["diff", "-", str(a), "--compare-times"], input=e.read_bytes())
    assert result.exit_code == 2
    assert "can be read only once" in result.stderr


def test_gaps_and_a_truncated_tail_are_warned_about(tmp_path: Path) -> None:
    e = tmp_path / "e.xtape"
    with RecordingWriter(e) as w:
        w.write_entries(b"s", [[b"1-%d" % i, list(f)] for i, f in enumerate(ORDERS[:3])], 1)
        w.write_gap(b"s", b"1-2", b"1-9", 6, 2)
        w.write_entries(b"s", [[b"1-%d" % (i + 9), list(f)] for i, f in enumerate(ORDERS[3:])], 3)
    a = tmp_path / "a.xtape"
    a.write_bytes(e.read_bytes()[:-5])  # a recorder killed mid-write
    code, out, err = run(e, a)
    assert err == ""
    assert f"warning: {e}: stream 's' has 1 gap(s)" in out
    assert f"warning: {a} (actual): the last " in out and "incomplete record (skipped)" in out
    assert code == 0  # only the END record was cut: every entry is there


def test_stream_results_keep_raw_names_and_give_text_to_show(tmp_path: Path) -> None:
    from support.e2e import write_recording

    rec = write_recording(
        tmp_path / "e.xtape",
        [(b"orders", 1_700_000_000_000, 0, [b"f", b"v"]), (b"bin\xff\x1b", 1_700_000_000_001, 0, [b"f", b"v"])],
    )
    result = diff_recordings(str(rec), str(rec))
    assert result.stream("orders").name == b"orders" and result.stream(b"orders").same == 1
    odd = result.stream(b"bin\xff\x1b")
    assert odd.name == b"bin\xff\x1b"  # the data model keeps the bytes
    assert isinstance(odd.display_name, str) and "\x1b" not in odd.display_name and "bin" in odd.display_name
    with pytest.raises(KeyError):
        result.stream("nope")
