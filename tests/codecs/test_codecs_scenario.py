"""Codecs in scenarios and in convert: ``codecs:``/``codec:`` load, validate, render, and a
converted recording of JSON payloads in two layouts replays byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.e2e import invoke, write_recording

from xtape.convert_yaml import _item_fast, item_text
from xtape.errors import ScenarioError
from xtape.scenario import dump_scenario_yaml, load_scenario, load_scenario_text, render

FASTSTREAM_SCENARIO = """
codecs: {"orders*": faststream}
events:
  - stream: orders.eu
    payload:
      headers: {correlation_id: c-1, content-type: application/json}
      body: {total: 5, lines: [{sku: s0}]}
  - stream: orders.eu
    codec: raw
    payload: {plain: "yes"}
  - stream: audit
    codec: "taskiq:compact"
    payload: {task_id: t, task_name: shop:add, labels: {}, args: [1], kwargs: {}}
"""


def test_a_scenario_with_codecs_publishes_the_encoded_payloads() -> None:
    events = list(render(load_scenario_text(FASTSTREAM_SCENARIO, "s.yaml")))
    (name, envelope), = events[0].fields
    assert name == b"__data__" and envelope.startswith(b"\x89BIN\r\n\x1a\n")
    assert envelope.endswith(b'application/json{"total":5,"lines":[{"sku":"s0"}]}')
    assert events[1].fields == ((b"plain", b"yes"),)
    assert events[2].fields == (
        (b"data", b'{"task_id":"t","task_name":"shop:add","labels":{},"args":[1],"kwargs":{}}'),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("codecs: {\"orders*\": faststream}", "s.yaml:2: codecs: unknown codec 'protobuf'"),
        ("codec: raw", "s.yaml:9: events[1].codec: unknown codec 'protobuf'"),
    ],
)
def test_an_unknown_codec_is_a_located_error(change: str, message: str) -> None:
    broken = FASTSTREAM_SCENARIO.replace(change, change.replace("faststream", "protobuf").replace("raw", "protobuf"))
    with pytest.raises(ScenarioError) as caught:
        list(render(load_scenario_text(broken, "s.yaml")))
    assert message in str(caught.value)


def test_a_payload_its_codec_cannot_encode_is_a_located_error() -> None:
    broken = FASTSTREAM_SCENARIO.replace("      headers: {correlation_id: c-1, content-type: application/json}\n", "      total: 5\n")
    with pytest.raises(ScenarioError, match=r"s.yaml:5: events\[0\].payload: codec faststream: .*headers: and body:"):
        list(render(load_scenario_text(broken, "s.yaml")))


def test_both_validators_refuse_a_malformed_codecs_key(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(FASTSTREAM_SCENARIO.replace('codecs: {"orders*": faststream}', "codecs: [faststream]"))
    with pytest.raises(ScenarioError, match="codecs: must be a mapping of STREAM_GLOB: CODEC"):
        load_scenario(path)
    result = invoke("validate", path)
    assert result.exit_code == 2 and "codecs: must be a mapping of STREAM_GLOB: CODEC" in result.stderr


def test_convert_of_json_payloads_keeps_each_layout_and_replays_the_same_bytes(tmp_path: Path) -> None:
    compact = b'{"total":5,"note":"caf\xc3\xa9"}'
    spaced = b'{"total": 6, "note": "caf\\u00e9"}'
    odd = b'{"total":  7}'  # a layout no codec writes: kept as fields
    entries = [
        (b"pay", 1700000000000, 0, [b"payload", compact, b"kind", b"order"]),
        (b"pay", 1700000000001, 0, [b"payload", spaced, b"kind", b"order"]),
        (b"pay", 1700000000002, 0, [b"payload", odd, b"kind", b"order"]),
        (b"plain", 1700000000003, 0, [b"price", b"5"]),
    ]
    recording = write_recording(tmp_path / "r.xtape", entries)
    scenario = tmp_path / "s.yaml"
    result = invoke("convert", recording, "-o", scenario)
    assert result.exit_code == 0, result.output
    assert "codec for stream 'pay': json (detected)" in result.stderr
    text = scenario.read_text()
    assert "codecs:\n  pay: json\n" in text
    assert "      payload:\n        total: 5\n        note: café\n      kind: order\n" in text
    assert "    codec: json:python\n" in text and "    codec: raw\n" in text
    published = [tuple(e.flat) for e in render(load_scenario(scenario))]
    assert published == [tuple(flat) for *_, flat in entries]


def test_match_by_takes_a_path_into_decoded_payloads(tmp_path: Path) -> None:
    def rec(name: str, ids: list[str]) -> Path:
        flats = [[b"payload", b'{"order": {"id": "%s"}, "qty": 1}' % i.encode()] for i in ids]
        return write_recording(tmp_path / name, [(b"s", 1700000000000 + n, 0, f) for n, f in enumerate(flats)])

    expected, actual = rec("e.xtape", ["a", "b", "c"]), rec("a.xtape", ["c", "a", "b"])
    assert invoke("diff", expected, actual, "--codec", "s=json").exit_code == 1
    assert invoke("diff", expected, actual, "--codec", "s=json", "--match-by", "payload.order.id").exit_code == 0


_text = st.text(max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_text, _json, min_size=1, max_size=4), st.sampled_from([0, 5, 2.5]), st.booleans())
def test_decoded_payloads_are_written_as_the_scenario_dumper_writes_them(payload: dict, delay: float, codec: bool) -> None:  # type: ignore[type-arg]
    event: dict[str, object] = {"stream": "orders", **({"delay": delay} if delay else {}), "payload": payload}
    if codec:
        event["codec"] = "json:python"
    event["id"] = "1700000000000-0"
    whole = dump_scenario_yaml({"events": [event]})
    assert item_text(event) == whole[whole.index("\n") + 1 :]
    fast = _item_fast(event, payload)
    if fast is not None:
        assert fast == item_text(event)


_LAYOUTS = [
    lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False),
    lambda v: json.dumps(v),
    lambda v: json.dumps(v, indent=1),  # no codec writes this: kept as fields
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.dictionaries(_text, _json, max_size=3), st.sampled_from(range(3)), _text), min_size=1, max_size=5))
def test_converted_json_payloads_replay_byte_for_byte(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[dict, int, str]]) -> None:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("conv")
    entries = [
        (b"s", 1700000000000 + i, 0, [b"payload", _LAYOUTS[layout](value).encode(), b"note", note.encode()])
        for i, (value, layout, note) in enumerate(rows)
    ]
    recording = write_recording(folder / "r.xtape", entries)
    scenario = folder / "s.yaml"
    assert invoke("convert", recording, "-o", scenario, "--force").exit_code == 0
    published = [tuple(e.flat) for e in render(load_scenario(scenario))]
    assert published == [tuple(flat) for *_, flat in entries]


def test_validate_checks_a_codec_events_body_against_the_catalog(tmp_path: Path) -> None:
    (tmp_path / "streams.yaml").write_text(
        "streams:\n  orders.*:\n    codec: faststream\n    fields: {total: integer, lines: array}\n"
        "  audit: {}\n"
    )
    good = tmp_path / "good.yaml"
    good.write_text(FASTSTREAM_SCENARIO.replace("    codec: raw\n    payload: {plain: \"yes\"}", "    payload: {headers: {content-type: application/json}, body: {total: 1}}"))
    result = invoke("validate", good)
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("body: {total: 5,", "body: {total: five,"))
    result = invoke("validate", bad)
    assert result.exit_code == 2
    assert 'bad.yaml:7: events[0].payload.body.total: expected integer, got "five"' in result.stderr
