"""``xtape export REC -o OUT.mcap``, read back with the ``mcap`` library's own reader."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jsonschema
from mcap.reader import make_reader
from support.e2e import invoke, ok
from support.interop import CAPTURE_NS, T0_MS, hostile_recording


def read_mcap(path: Path) -> tuple[dict[str, tuple[dict[str, object], dict[str, str]]], list[tuple[str, int, int, dict[str, object]]], list[tuple[str, dict[str, str]]]]:
    """Per topic its JSON Schema and channel metadata; the messages ``(topic, log_time,
    publish_time, message)`` in file order; the metadata records."""
    with open(path, "rb") as fh:
        reader = make_reader(fh)
        channels: dict[str, tuple[dict[str, object], dict[str, str]]] = {}
        messages = []
        for schema, channel, message in reader.iter_messages(log_time_order=False):
            assert schema is not None and schema.encoding == "jsonschema" and channel.message_encoding == "json"
            channels[channel.topic] = (json.loads(schema.data), dict(channel.metadata))
            messages.append((channel.topic, message.log_time, message.publish_time, json.loads(message.data)))
        metadata = [(m.name, dict(m.metadata)) for m in reader.iter_metadata()]
    return channels, messages, metadata


def test_one_channel_per_stream_with_json_messages_that_match_their_schema(tmp_path: Path) -> None:
    rec = hostile_recording(tmp_path / "rec.xtape")
    out = tmp_path / "rec.mcap"
    ok(invoke("export", rec, "-o", out, "-q"))
    channels, messages, metadata = read_mcap(out)
    assert set(channels) == {"orders", "payments", "заказы-Σ", "raw\\xff\\xfe"}
    assert base64.b64decode(channels["raw\\xff\\xfe"][1]["xtape.stream"]) == b"raw\xff\xfe"
    for topic, _, _, message in messages:
        jsonschema.validate(message, channels[topic][0])  # what Foxglove's schema says holds
    first = messages[0]
    assert first[:3] == ("orders", CAPTURE_NS, T0_MS * 1_000_000)
    # Typed by the catalog inferred from the recording: numbers plot as numbers.
    assert first[3] == {
        "id": f"{T0_MS}-0",
        "fields": [["user", "u0"], ["amount", "10"], ["price", "0.5"]],
        "payload": {"user": "u0", "amount": 10, "price": 0.5},
    }
    orders_schema = channels["orders"][0]["properties"]["payload"]  # type: ignore[index]
    assert orders_schema["properties"]["amount"]["type"] == "integer"
    payments = [m for t, _, _, m in messages if t == "payments"]
    assert payments[1]["payload"] == {"data": {"order": 2, "total": 3}}  # decoded by the json codec
    awkward = [m for t, _, _, m in messages if t == "заказы-Σ"]
    assert awkward[2]["fields"] == [[{"base64": "Ymlu/wA="}, {"base64": "gIH+IG5vdCB1dGYtOA=="}]]
    assert [name for name, _ in metadata] == ["xtape.gap", "xtape.marker"]
    assert metadata[1][1]["text"] == "the server went away for 2 s"


def test_the_channel_schema_comes_from_the_catalog(tmp_path: Path) -> None:
    rec = hostile_recording(tmp_path / "rec.xtape")
    catalog = tmp_path / "streams.yaml"
    catalog.write_text(
        "streams:\n  orders:\n    description: Orders.\n    fields:\n"
        "      amount: {type: number, minimum: 0}\n      user: string\n  '*': {}\n",
        encoding="utf-8",
    )
    out = tmp_path / "rec.mcap"
    ok(invoke("export", rec, "-o", out, "--catalog", catalog, "-q"))
    channels, messages, _ = read_mcap(out)
    payload = channels["orders"][0]["properties"]["payload"]  # type: ignore[index]
    assert payload["properties"]["amount"] == {"type": "number", "minimum": 0}
    assert messages[0][3]["payload"]["amount"] == 10  # type: ignore[index]


def test_inferred_text_lengths_count_characters_not_bytes(tmp_path: Path) -> None:
    rec = hostile_recording(tmp_path / "rec.xtape")
    out = tmp_path / "streams.yaml"
    ok(invoke("infer", rec, "-o", out, "-q"))
    text = out.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if "ключ" in line)
    assert "minLength: 10" in line and "maxLength: 10" in line, line  # 'значение 😀': 10 characters, 21 bytes
