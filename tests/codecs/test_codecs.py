"""Payload codecs: round trips, detection, the registry and real FastStream / taskiq bytes."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from support.codecs import faststream_publish, taskiq_kick
from support.streams import xrange_raw

from xtape.codecs import (
    CodecFailed,
    CodecResolver,
    Message,
    UnknownCodec,
    codec_names,
    detect,
    get_codec,
    message_of,
    parse_codec_options,
    registry,
)
from xtape.codecs.builtin import FASTSTREAM_MAGIC
from xtape.errors import UsageError
from xtape.timeline import pair_fields

text = st.text(max_size=20)
json_leaf = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text | st.floats(allow_nan=False, allow_infinity=False)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
names = st.text(min_size=1, max_size=10)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["faststream", "faststream:python", "faststream-json"]), json_value,
       st.dictionaries(names, text, max_size=3))
def test_faststream_encode_then_decode_gives_the_message_back(spec: str, body: Any, extra: dict[str, str]) -> None:
    codec = get_codec(spec)
    headers = {"correlation_id": "c-1", "content-type": "application/json", **extra}
    fields = codec.encode(Message(body, headers))
    assert [name for name, _ in fields] == [b"__data__"]
    decoded = codec.decode(fields)
    assert decoded == Message(body, headers)
    assert codec.encode(decoded) == fields  # and again the same bytes
    assert detect(fields) is not None and detect(fields).name == "faststream"  # type: ignore[union-attr]


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(names, json_value | st.binary(max_size=8), min_size=1, max_size=4))
def test_msgpack_and_base64_round_trip_any_fields(body: dict[str, Any]) -> None:
    fields = get_codec("msgpack").encode(Message(body))
    assert get_codec("msgpack").decode(fields).body == body
    raw = {k: v for k, v in body.items() if isinstance(v, (str, bytes))}
    if raw:
        b64 = get_codec("base64")
        again = b64.decode(b64.encode(Message(raw))).body
        assert {k: (v.encode() if isinstance(v, str) else v) for k, v in again.items()} == {
            k: (v.encode() if isinstance(v, str) else v) for k, v in raw.items()
        }


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(names, st.dictionaries(text, json_value, min_size=1, max_size=3) | text, min_size=1, max_size=3),
       st.sampled_from(["json", "json:python"]))
def test_json_round_trips_its_own_bytes(body: dict[str, Any], spec: str) -> None:
    codec = get_codec(spec)
    fields = codec.encode(Message(body))
    if not any(isinstance(v, dict) for v in body.values()):
        with pytest.raises(CodecFailed):
            codec.decode(fields)
        return
    if any(isinstance(v, str) and v[:1] in "[{" for v in body.values()):
        return  # text that looks like JSON is read as JSON: not this property's case
    assert codec.decode(fields).body == body
    assert codec.encode(codec.decode(fields)) == fields


def test_the_binary_envelope_is_laid_out_as_faststream_lays_it_out() -> None:
    fields = get_codec("faststream").encode(Message({"a": 1}, {"correlation_id": "x", "content-type": "application/json"}))
    data = fields[0][1]
    assert data.startswith(FASTSTREAM_MAGIC + b"\x00\x01\x00\x00\x00\x12")
    assert data.endswith(b'\x00\x02\x00\x0ecorrelation_id\x00\x01x\x00\x0ccontent-type\x00\x10application/json{"a":1}')


def test_detection_prefers_envelopes_then_json_by_shape_and_leaves_plain_fields_alone() -> None:
    taskiq = [(b"data", b'{"task_id": "1", "task_name": "t", "labels": {}, "args": [], "kwargs": {}}')]
    assert detect(taskiq).name == "taskiq"  # type: ignore[union-attr]
    assert detect([(b"payload", b'{"total": 5}'), (b"kind", b"order")]).name == "json"  # type: ignore[union-attr]
    assert detect([(b"price", b"5"), (b"kind", b"[order")]) is None
    assert detect([(b"__data__", FASTSTREAM_MAGIC + b"\x00")]) is None  # damaged: not FastStream


def test_damaged_envelopes_are_refused_with_a_reason_not_a_crash() -> None:
    codec = get_codec("faststream")
    good = codec.encode(Message({"a": 1}, {"content-type": "application/json"}))[0][1]
    for cut in range(len(FASTSTREAM_MAGIC), len(good) - 7):
        try:
            codec.decode([(b"__data__", good[:cut])])
        except CodecFailed as error:
            assert str(error).startswith("faststream:") or "not JSON" in str(error)


def test_unknown_codec_names_the_valid_ones() -> None:
    with pytest.raises(UnknownCodec, match=r"unknown codec 'protobuf' \(codecs: json, faststream"):
        get_codec("protobuf")
    with pytest.raises(UsageError, match="unknown JSON layout 'pretty' in codec"):
        get_codec("json:pretty")
    with pytest.raises(UsageError, match="expected STREAM_GLOB=NAME"):
        parse_codec_options(["orders*="])
    assert parse_codec_options(["orders*=faststream", "msgpack"]) == [("orders*", "faststream"), ("*", "msgpack")]


class UpperCodec:
    """A third-party codec for the entry point test: values upper-cased on the wire."""

    name = "upper"
    has_headers = False

    def detect(self, fields: Any) -> bool:
        return False

    def decode(self, fields: Any) -> Message:
        return Message({n.decode(): v.decode().lower() for n, v in fields})

    def encode(self, message: Message) -> list[tuple[bytes, bytes]]:
        return [(k.encode(), v.upper().encode()) for k, v in message.body.items()]


def test_a_third_party_codec_registers_through_the_entry_point_group(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="upper", value="test_codecs:UpperCodec", group="xtape.codecs")
    monkeypatch.setattr(registry, "entry_points", lambda group: [point] if group == "xtape.codecs" else [])
    registry._third_party.cache_clear()
    registry.get_codec.cache_clear()
    try:
        assert "upper" in codec_names()
        resolver = CodecResolver(parse_codec_options(["up*=upper"]))
        found = resolver.decode(b"upstream", [(b"k", b"HELLO")])
        assert found is not None and found[1].body == {"k": "hello"}
    finally:
        registry._third_party.cache_clear()
        registry.get_codec.cache_clear()


def _dist_info(folder: Path, entry_points: str) -> None:
    info = folder / "xtape_fake_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xtape-fake-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_a_plugin_on_the_path_is_found_and_none_means_no_metadata_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Declared in a dist-info folder on sys.path: importlib.metadata finds it.
    _dist_info(tmp_path, "[xtape.codecs]\nupper = test_codecs:UpperCodec\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [point.name for point in registry.entry_points("xtape.codecs")] == ["upper"]
    # No package declares the group: the answer comes without importlib.metadata (whose
    # import and reading of every package's metadata cost ~25 ms of a command's start).
    import importlib.metadata

    def refused(**_: object) -> None:
        raise AssertionError("metadata read")

    monkeypatch.setattr(importlib.metadata, "entry_points", refused)
    assert list(registry.entry_points("xtape.no-such-group")) == []
    with pytest.raises(AssertionError, match="metadata read"):
        registry.entry_points("xtape.codecs")


def test_distributions_xtape_cannot_list_are_left_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zipped = tmp_path / "plugins.zip"
    zipped.write_bytes(b"")
    monkeypatch.syspath_prepend(str(zipped))
    assert registry._may_declare("xtape.no-such-group")


def test_the_resolver_follows_precedence_and_says_what_it_chose() -> None:
    said: list[str] = []
    resolver = CodecResolver(
        cli=[("orders", "msgpack")],
        case={"orders*": "taskiq", "audit": "raw"},
        catalog=lambda s: "base64" if s.startswith(b"ord") else None,
        report=said.append,
    )
    json_entry = [(b"payload", b'{"a": 1}')]
    assert resolver.codec(b"orders", json_entry).name == "msgpack"  # type: ignore[union-attr]
    assert resolver.codec(b"orders.eu", json_entry).name == "taskiq"  # type: ignore[union-attr]
    assert resolver.codec(b"ordinal", json_entry).name == "base64"  # type: ignore[union-attr]
    assert resolver.codec(b"audit", json_entry) is None
    assert resolver.codec(b"other", json_entry).name == "json"  # type: ignore[union-attr]
    resolver.codec(b"other", json_entry)
    assert resolver.codec(b"plain", [(b"a", b"1")]) is None
    assert said == [
        "codec for stream 'orders': msgpack (--codec)",
        "codec for stream 'orders.eu': taskiq (case file)",
        "codec for stream 'ordinal': base64 (catalog)",
        "codec for stream 'audit': none (case file)",
        "codec for stream 'other': json (detected)",
    ]


def test_message_of_takes_a_scenario_payload_back() -> None:
    codec = get_codec("faststream")
    message = Message({"a": 1}, {"content-type": "application/json"})
    assert message_of(codec, message.to_value()) == message
    with pytest.raises(CodecFailed, match="headers: and body:"):
        message_of(codec, {"a": 1})


def _detected(r: redis.Redis, stream: str, count: int, name: str) -> list[Message]:
    """The entries of ``stream``: ``count`` of them, each detected as ``name`` and
    encoded back to its own bytes by it; their decoded messages."""
    entries = xrange_raw(r, stream)
    assert len(entries) == count
    messages = []
    for _, flat in entries:
        fields = pair_fields(flat)
        codec = detect(fields)
        assert codec is not None and codec.name == name
        messages.append(codec.decode(fields))
        assert tuple(codec.encode(messages[-1])) == fields
    return messages


def test_real_faststream_messages_decode_and_reencode_byte_for_byte(redis_url: str, r: redis.Redis) -> None:
    faststream_publish(redis_url, "orders", 3)
    for i, message in enumerate(_detected(r, "orders", 3, "faststream")):
        assert message.body["total"] == 10 * i + 5 and message.body["note"] == "café"
        assert message.headers is not None and len(message.headers["correlation_id"]) == 36


def test_real_taskiq_messages_decode_as_task_messages(redis_url: str, r: redis.Redis) -> None:
    taskiq_kick(redis_url, "taskiq", 2)
    for i, message in enumerate(_detected(r, "taskiq", 2, "taskiq")):
        body = message.body
        assert (body["task_name"], body["args"], body["kwargs"]) == ("shop:add", [i, 2], {"scale": 1.5})
