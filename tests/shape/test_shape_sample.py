"""``--sample SHARE`` (issue 21, item 2): a deterministic share of the entries by a keyed
hash of stream and entry id, the same on every run and whatever else is selected;
``--seed`` draws another; ``--sample-by`` keeps whole groups."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
import redis
from support.e2e import error_line, fields_of, invoke, ok
from support.shape import USERS, ids_of, write_orders

from xtape.shape import Sample, Where, entry_filter
from xtape.timeline import Event
from xtape.transform import Transform

N = 4000


@pytest.fixture(scope="module")
def rec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_orders(tmp_path_factory.mktemp("sample") / "orders.xtape", N, streams=(b"orders", b"payments", b"fills"))


def _cut_ids(rec: Path, out: Path, *args: object) -> list[tuple[bytes, bytes]]:
    ok(invoke("cut", rec, "-o", out, "-q", *args))
    return ids_of(out)


def test_the_same_sample_comes_back_on_every_run(rec: Path, tmp_path: Path) -> None:
    first = _cut_ids(rec, tmp_path / "a.xtape", "--sample", "10%")
    again = _cut_ids(rec, tmp_path / "b.xtape", "--sample", "0.1")
    assert first == again
    # about 10% of each stream (a hash, not a count: wide bounds, but never all or none)
    per_stream: dict[bytes, int] = defaultdict(int)
    for stream, _ in first:
        per_stream[stream] += 1
    assert set(per_stream) == {b"orders", b"payments", b"fills"}
    for count in per_stream.values():
        assert 0.06 * N / 3 < count < 0.14 * N / 3


def test_an_entry_is_chosen_whatever_else_is_selected(rec: Path, tmp_path: Path) -> None:
    everything = _cut_ids(rec, tmp_path / "all.xtape", "--sample", "25%")
    one_stream = _cut_ids(rec, tmp_path / "one.xtape", "--sample", "25%", "--stream", "payments")
    assert one_stream == [i for i in everything if i[0] == b"payments"]
    narrowed = _cut_ids(rec, tmp_path / "w.xtape", "--sample", "25%", "--where", "fields.user == 'ann'")
    ann = set(_cut_ids(rec, tmp_path / "ann.xtape", "--where", "fields.user == 'ann'"))
    assert narrowed == [i for i in everything if i in ann]


def test_the_seed_draws_another_sample(rec: Path, tmp_path: Path) -> None:
    zero = _cut_ids(rec, tmp_path / "a.xtape", "--sample", "10%")
    seven = _cut_ids(rec, tmp_path / "b.xtape", "--sample", "10%", "--seed", "7")
    assert zero != seven
    assert seven == _cut_ids(rec, tmp_path / "c.xtape", "--sample", "10%", "--seed", "7")


def test_replay_and_convert_take_the_same_sample_as_cut(rec: Path, tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    cut = _cut_ids(rec, tmp_path / "a.xtape", "--sample", "5%", "--seed", "3")
    ok(invoke("replay", rec, "--url", redis_url, "--max-speed", "-q", "--keep-ids", "--sample", "5%", "--seed", "3"))
    replayed = sorted((s, i) for s in (b"orders", b"payments", b"fills") for i, _ in r.xrange(s))
    assert replayed == sorted(cut)
    ok(invoke("convert", rec, "-o", tmp_path / "s.yaml", "-q", "--sample", "5%", "--seed", "3"))
    text = (tmp_path / "s.yaml").read_text()
    assert sorted(re.findall(r"^    id: (\d+-\d+)$", text, re.MULTILINE)) == sorted(
        i.decode() for _, i in cut
    )


def test_sample_by_keeps_whole_groups_across_streams(rec: Path, tmp_path: Path) -> None:
    out = tmp_path / "g.xtape"
    ok(invoke("cut", rec, "-o", out, "-q", "--sample", "40%", "--sample-by", "fields.user", "--seed", "1"))
    lines = ok(invoke("cat", out, "--object")).stdout.splitlines()
    users: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        entry = json.loads(line)
        users[entry["fields"]["user"]].add(entry["stream"])
    kept = set(users)
    assert kept and kept != set(USERS)  # some users, not all
    # every entry of a kept user is there, on every stream; none of the others
    total = {u: N // len(USERS) for u in USERS}
    assert len(lines) == sum(total[u] for u in kept)
    assert all(streams == {"orders", "payments", "fills"} for streams in users.values())
    # a path into the decoded payload picks the same groups (same values, hashed as JSON)
    by_payload = tmp_path / "p.xtape"
    ok(invoke("cut", rec, "-o", by_payload, "-q", "--sample", "40%", "--sample-by", "payload.payload.user.id", "--seed", "1"))
    again = {json.loads(line)["fields"]["user"] for line in ok(invoke("cat", by_payload, "--object")).stdout.splitlines()}
    assert again and again != set(USERS)


def test_sample_of_scenario_events_is_by_place_in_the_stream_in_each_pass() -> None:
    events = [Event.of(i, b"s", ((b"n", b"%d" % i),)) for i in range(1000)]
    transform = Transform(keep=entry_filter(Sample(0.5, seed=2), Where("fields.n")))
    kept = [e.offset_ns for e in transform.apply(events)]
    assert kept == [e.offset_ns for e in transform.apply(events)]  # a second pass: the same
    assert kept == [e.offset_ns for e in Transform(keep=Sample(0.5, seed=2)).apply(events)]
    assert 400 < len(kept) < 600


@pytest.mark.parametrize(
    ("value", "what"),
    [("0", "above 0"), ("150%", "at most 100%"), ("ten", "a percentage (10%) or a fraction (0.1)"), ("-0.1", "a percentage")],
)
def test_a_bad_share_is_one_line(rec: Path, tmp_path: Path, value: str, what: str) -> None:
    assert what in error_line(invoke("cut", rec, "-o", tmp_path / "x.xtape", "--sample", value), 2)
    assert not (tmp_path / "x.xtape").exists()


def test_sample_by_and_seed_need_sample(rec: Path, tmp_path: Path) -> None:
    assert "--sample-by goes with --sample" in error_line(invoke("cut", rec, "-o", tmp_path / "x.xtape", "--sample-by", "fields.user"), 2)
    assert "--seed goes with --sample" in error_line(invoke("cut", rec, "-o", tmp_path / "x.xtape", "--seed", "3"), 2)
    assert "--seed goes with --sample" in error_line(invoke("convert", rec, "-o", tmp_path / "x.yaml", "--seed", "3"), 2)
    # replay's --seed is also the scenarios' one: on a recording, without --sample, it is refused as before
    assert "--seed apply to scenarios" in error_line(invoke("replay", rec, "--dry-run", "--seed", "3"), 2)


def test_replay_sample_of_a_scenario_keeps_its_generators_seed(tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\nevents:\n  - stream: t\n    payload: {n: '{{index}}'}\n    repeat: 200\n", encoding="utf-8"
    )
    ok(invoke("replay", scenario, "--url", redis_url, "--max-speed", "-q", "--sample", "50%", "--no-catalog"))
    first = fields_of(r, b"t")
    r.delete("t")
    ok(invoke("replay", scenario, "--url", redis_url, "--max-speed", "-q", "--sample", "50%", "--no-catalog"))
    assert fields_of(r, b"t") == first
    assert 60 < len(first) < 140


@pytest.mark.parametrize("command", ["convert", "replay", "cut"])
def test_help_explains_sample(command: str) -> None:
    text = " ".join(ok(invoke(command, "--help")).stdout.split())
    assert "--sample SHARE" in text and "--sample-by FIELD_PATH" in text
    assert "hash of stream and entry id" in text
