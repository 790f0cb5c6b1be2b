"""``xtape import``: JSON lines from ``xtape cat`` (edited with jq) and MCAP from
``xtape export`` back into recordings, byte for byte."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.e2e import XTAPE, error_line, invoke, ok
from support.interop import T0_MS, entries_of, hostile_recording

from xtape.recording import Recording


def cat(rec: Path, *options: str) -> str:
    return str(ok(invoke("cat", rec, *options)).stdout)


def test_cat_then_import_gives_every_entry_back_byte_for_byte(tmp_path: Path) -> None:
    rec = hostile_recording(tmp_path / "rec.xtape")
    lines = tmp_path / "rec.jsonl"
    lines.write_text(cat(rec), encoding="utf-8")
    back = tmp_path / "back.xtape"
    result = ok(invoke("import", lines, "-o", back))
    assert "wrote" in result.stderr and "18 entries from 4 streams (JSON lines)" in result.stderr
    assert entries_of(back) == entries_of(rec)  # non-UTF-8, repeated names, empty values, Greek
    assert cat(back) == cat(rec)


def test_cat_jq_import_edits_only_what_jq_changes(tmp_path: Path) -> None:
    rec = hostile_recording(tmp_path / "rec.xtape")
    edited = tmp_path / "edited.xtape"
    jq = (
        'select(.stream != "payments") '
        '| if .id == "' + f"{T0_MS}-0" + '" then .fields[1][1] = "99" else . end'
    )
    done = subprocess.run(
        f"{XTAPE} cat {rec} | jq -c '{jq}' | {XTAPE} import - -o {edited}",
        shell=True, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    before = [e for e in entries_of(rec) if e[0] != b"payments"]
    after = entries_of(edited)
    assert after[0] == (b"orders", f"{T0_MS}-0".encode(), ((b"user", b"u0"), (b"amount", b"99"), (b"price", b"0.5")))
    assert after[1:] == before[1:]


def test_decoded_lines_are_encoded_again_by_their_codec(tmp_path: Path) -> None:
    rec = hostile_recording(tmp_path / "rec.xtape")
    lines = tmp_path / "decoded.jsonl"
    lines.write_text(cat(rec, "--decode", "--stream", "payments"), encoding="utf-8")
    assert '"codec":"json"' in lines.read_text(encoding="utf-8")
    back = tmp_path / "back.xtape"
    ok(invoke("import", lines, "-o", back, "-q"))
    payments = [e for e in entries_of(rec) if e[0] == b"payments"]
    assert [(e[1], json.loads(e[2][0][1])) for e in entries_of(back)] == [
        (e[1], json.loads(e[2][0][1])) for e in payments
    ]


def test_mcap_from_export_imports_entries_capture_times_gaps_and_markers(tmp_path: Path) -> None:
    rec = hostile_recording(tmp_path / "rec.xtape")
    mcap = tmp_path / "rec.mcap"
    ok(invoke("export", rec, "-o", mcap, "-q"))
    back = tmp_path / "back.xtape"
    result = ok(invoke("import", mcap, "-o", back))
    assert "2 gaps and markers (MCAP)" in result.stderr
    assert entries_of(back) == entries_of(rec)
    original, again = Recording(rec), Recording(back)
    assert [e.capture_ns for e in again.entries()] == [e.capture_ns for e in original.entries()]
    assert [(m.kind, m.text, m.capture_ns) for m in again.markers()] == [
        (m.kind, m.text, m.capture_ns) for m in original.markers()
    ]
    gaps = [(g.after_id, g.before_id, g.lost, g.capture_ns) for g in again.gaps()]
    assert gaps == [(g.after_id, g.before_id, g.lost, g.capture_ns) for g in original.gaps()]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("not json", "2: not a JSON line"),
        ('{"stream": "s", "id": "1-0", "fields": {"a": "1"}}', "2: fields is an object (xtape cat --object)"),
        ('{"stream": "s", "id": "1-x", "fields": []}', "2: invalid entry id '1-x'"),
        ('{"stream": "s", "id": "1-0", "fields": [["a"]]}', "2: fields[0] must be a [name, value] pair"),
        ('{"stream": "s", "id": "1-0", "fields": [["a", {"base64": "!"}]]}', "2: fields[0][1]: invalid base64"),
        ('{"id": "1-0", "fields": []}', '2: no "stream"'),
    ],
)
def test_a_bad_line_is_one_error_naming_its_line(tmp_path: Path, line: str, says: str) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"stream": "s", "id": "1-0", "fields": [["a", "1"]]}\n' + line + "\n", encoding="utf-8")
    message = error_line(invoke("import", lines, "-o", tmp_path / "out.xtape"), 2)
    assert f"{lines}:{says}" in message, message
    assert not (tmp_path / "out.xtape").exists()  # nothing half-written


def test_the_output_policy_holds(tmp_path: Path) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"stream": "s", "id": "1-0", "fields": [["a", "1"]]}\n', encoding="utf-8")
    out = tmp_path / "out.xtape"
    out.write_bytes(b"keep me")
    assert "exists; pass --force" in error_line(invoke("import", lines, "-o", out), 2)
    assert out.read_bytes() == b"keep me"
    ok(invoke("import", lines, "-o", out, "--force", "-q"))
    assert entries_of(out) == [(b"s", b"1-0", ((b"a", b"1"),))]
    assert "also an input" in error_line(invoke("import", lines, "-o", lines, "--force"), 2)
    rec = hostile_recording(tmp_path / "rec.xtape")
    assert "a recording already; import reads JSON lines" in error_line(invoke("import", rec, "-o", tmp_path / "x.xtape"), 2)


def test_import_memory_stays_flat_however_many_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tracemalloc

    from xtape.interop.importing import import_file

    # The writer's buffer (what it holds before a chunk is written) made small, so that
    # both inputs are many times the bound without a slow test.
    monkeypatch.setattr("xtape.recording.writer._BUFFER_LIMIT", 16 << 10)
    peaks = []
    for n in (3_000, 24_000):
        lines = tmp_path / f"{n}.jsonl"
        with open(lines, "w", encoding="utf-8") as fh:
            for i in range(n):
                stream = "orders" if (i // 100) % 3 else "payments"  # runs of 100
                fh.write(json.dumps({"stream": stream, "id": f"{T0_MS + i}-0", "fields": [["user", f"u{i}"], ["n", str(i)]]}) + "\n")
        tracemalloc.start()
        try:
            stats = import_file(lines, tmp_path / f"{n}.xtape")
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert stats.entries == n
    assert peaks[1] < 1.5 * peaks[0], peaks
