"""``xtape infer`` keeps what it writes bounded, and keeps secrets out of the catalog."""

from __future__ import annotations

from pathlib import Path

import yaml
from support.e2e import invoke, ok, write_recording

from xtape.catalog import infer_catalog
from xtape.catalog.fields import ENUM_VALUE_MAX
from xtape.catalog.infer import MAX_FIELDS

T0 = 1_700_000_000_000


def test_a_huge_value_seen_three_times_is_no_enum_and_no_example(tmp_path: Path) -> None:
    huge = b"x" * 2_000_000
    entries = [(b"s", T0 + i, 0, [b"blob", huge, b"side", b"buy"]) for i in range(3)]
    rec = write_recording(tmp_path / "r.xtape", entries)
    out = tmp_path / "streams.yaml"
    ok(invoke("infer", rec, "-o", out))
    text = out.read_text()
    assert len(text) < 5_000  # was 2 MB: the value as an enum member
    blob = yaml.safe_load(text)["streams"]["s"]["fields"]["blob"]
    assert blob == {"type": "string", "minLength": 2_000_000, "maxLength": 2_000_000}
    assert yaml.safe_load(text)["streams"]["s"]["fields"]["side"]["enum"] == ["buy"]
    # the bound is on each member's length: one just under it is still an enum
    short = b"y" * ENUM_VALUE_MAX
    rec = write_recording(tmp_path / "r2.xtape", [(b"s", T0 + i, 0, [b"v", short]) for i in range(3)])
    [field] = infer_catalog(rec).streams[0].fields.values()
    assert field.enum() == [short]


def test_many_distinct_field_names_are_capped_and_said_so(tmp_path: Path) -> None:
    names = 20_000
    entries = [
        (b"s", T0 + i, 0, [b"f%06d" % (i * 100 + j) for j in range(100) for _ in (0, 1)])
        for i in range(names // 100)
    ]
    rec = write_recording(tmp_path / "r.xtape", entries)
    out = tmp_path / "streams.yaml"
    ok(invoke("infer", rec, "-o", out))
    text = out.read_text()
    assert len(text) < 200_000  # was 1.6 MB (16.5 MB for 200,000 names)
    assert (
        f"  # more than {MAX_FIELDS:,} distinct field names: only the first {MAX_FIELDS:,} are described "
        f"({names - MAX_FIELDS:,} values of the others left out; strict: false lets them through)"
    ) in text.splitlines()
    assert len(yaml.safe_load(text)["streams"]["s"]["fields"]) == MAX_FIELDS


def test_secret_looking_fields_values_are_left_out_when_not_redacted(tmp_path: Path) -> None:
    secrets = {b"password": b"hunter1", b"apiToken": b"tok_live_77", b"client_secret": b"s3cr3t-v4lue",
               b"API_KEY": b"AKIA1234", b"pin_key": b"4242"}  # fmt: skip
    entries = []
    for i in range(6):
        flat = [b"side", b"buy"]
        for name, value in secrets.items():
            flat += [name, value]
        flat += [b"redacted_pass", b"redacted:" + b"0123456789abcdef" * 2]
        entries.append((b"s", T0 + i, 0, flat))
    rec = write_recording(tmp_path / "r.xtape", entries)
    out = tmp_path / "streams.yaml"
    ok(invoke("infer", rec, "-o", out))
    text = out.read_text()
    for value in secrets.values():
        assert value.decode() not in text
    fields = yaml.safe_load(text)["streams"]["s"]["fields"]
    assert fields["password"] == {"type": "string", "minLength": 7, "maxLength": 7}
    assert fields["pin_key"] == {"type": "integer"}
    assert fields["side"]["enum"] == ["buy"]  # an ordinary field keeps its values
    line = next(x for x in text.splitlines() if x.strip().startswith("apiToken:"))
    assert line.endswith(
        "# every entry; values left out: the name looks like a secret's and the recording was not redacted (record --redact)"
    )
    assert "redacted by the recorder" in next(x for x in text.splitlines() if "redacted_pass" in x)
    scenario = invoke("convert", rec, "-o", tmp_path / "load.yaml", "--generators")
    ok(scenario)
    generated = (tmp_path / "load.yaml").read_text()
    for value in secrets.values():
        assert value.decode() not in generated
