"""``xtape export REC -o OUT.parquet``, queried with real DuckDB and read with pyarrow."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from support.e2e import AWKWARD, error_line, invoke, ok
from support.interop import T0_MS, entries_of, hostile_recording, orders

from xtape.interop import parquet as parquet_module
from xtape.interop.parquet import export_parquet
from xtape.recording import Recording, RecordingWriter


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    rec = hostile_recording(tmp_path / "rec.xtape")
    out = tmp_path / "rec.parquet"
    ok(invoke("export", rec, "-o", out, "-q"))
    return out


def query(sql: str) -> list[tuple[object, ...]]:
    return duckdb.connect().sql(sql).fetchall()


def test_duckdb_counts_entries_per_stream_per_second(exported: Path) -> None:
    rows = query(
        f"SELECT stream, ms // 1000 - {T0_MS // 1000} AS second, count(*) AS n FROM '{exported}' "
        "WHERE stream = 'orders' GROUP BY ALL ORDER BY second"
    )
    assert rows == [("orders", 0, 3), ("orders", 1, 5), ("orders", 2, 2)]
    by_capture = query(
        f"SELECT date_trunc('second', capture_time) AS s, count(*) FROM '{exported}' "
        "WHERE stream = 'orders' GROUP BY ALL ORDER BY s"
    )
    assert [n for _, n in by_capture] == [3, 5, 2]


def test_duckdb_finds_the_payloads_without_a_key(exported: Path) -> None:
    # payments' field "data" holds JSON: the json codec (detected) decodes it into payload.
    missing = query(
        f"SELECT id FROM '{exported}' WHERE stream = 'payments' "
        "AND json_extract(payload, '$.data.currency') IS NULL"
    )
    assert missing == [(f"{T0_MS + 11}-0",)]
    # Plain fields: the fields column (a list of {name, value}) answers it too.
    plain = query(
        f"SELECT count(*) FROM '{exported}' WHERE stream = 'orders' "
        "AND len(list_filter(fields, lambda f: f.name = 'currency'::BLOB)) = 0"
    )
    assert plain == [(4,)]  # entries 0 and 3 of the 5-entry second, 0 of the others


def test_fields_keep_order_repeated_names_empty_values_and_bytes(exported: Path) -> None:
    table = pq.read_table(exported)
    rows = table.to_pylist()
    awkward = [row for row in rows if row["stream"] == "заказы-Σ"]
    assert [[part for f in row["fields"] for part in (f["name"], f["value"])] for row in awkward] == AWKWARD
    assert [r["stream"] for r in rows if r["id"] == f"{T0_MS + 30}-0"] == ["raw\\xff\\xfe"]
    first = rows[0]
    assert (first["ms"], first["seq"], first["payload"]) == (T0_MS, 0, None)
    assert first["capture_time"].timestamp() == pytest.approx((T0_MS + 5) / 1000)
    decoded = [json.loads(r["payload"]) for r in rows if r["stream"] == "payments"]
    assert decoded[0] == {"data": {"order": 1, "currency": "EUR", "total": 12.5}}


def test_gaps_and_markers_go_to_the_markers_file(exported: Path) -> None:
    markers = exported.with_name("rec.markers.parquet")
    rows = query(f"SELECT kind, stream, after_id, before_id, lost, text FROM '{markers}' ORDER BY capture_time")
    assert rows == [
        ("gap", "orders", f"{T0_MS + 900}-0", f"{T0_MS + 1000}-0", 7, None),
        ("reconnect", None, None, None, None, "the server went away for 2 s"),
    ]


def test_flatten_makes_a_typed_column_per_top_level_key(tmp_path: Path) -> None:
    rec = hostile_recording(tmp_path / "rec.xtape")
    out = tmp_path / "flat.parquet"
    ok(invoke("export", rec, "-o", out, "--flatten", "-q"))
    types = dict(query(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{out}')"))
    assert types["amount"] == "BIGINT" and types["price"] == "DOUBLE" and types["user"] == "VARCHAR"
    assert types["data"] == "VARCHAR"  # an object: JSON text
    assert types["a"] == "BIGINT"  # a repeated name: its last value
    assert query(f"SELECT a FROM '{out}' WHERE a IS NOT NULL") == [(2,)]
    assert query(f"SELECT count(*) FROM '{out}' WHERE stream = 'orders' AND currency IS NULL") == [(4,)]
    assert query(f"SELECT sum(amount) FROM '{out}' WHERE stream = 'orders'") == [
        (sum(10 + i for n in (3, 5, 2) for i in range(n)),)
    ]


def test_row_groups_are_whole_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = tmp_path / "chunks.xtape"
    with RecordingWriter(rec, flush_interval=3600) as writer:  # chunks end where we say
        for second in range(6):
            writer.write_entries(b"orders", orders(7, second), (T0_MS + second * 1000) * 1_000_000)
            if second % 3 == 2:
                writer.flush()  # a chunk per three batches of 7
    monkeypatch.setattr(parquet_module, "GROUP_ROWS", 10)
    stats = export_parquet(Recording(rec, interleave=False), tmp_path / "out.parquet")
    meta = pq.ParquetFile(tmp_path / "out.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes == [21, 21] and stats.row_groups == 2  # not cut after 14 rows, mid-chunk
    # Big entries end a group sooner: at the first chunk end past GROUP_BYTES.
    monkeypatch.setattr(parquet_module, "GROUP_ROWS", 1_000_000)
    monkeypatch.setattr(parquet_module, "GROUP_BYTES", 300)  # a chunk: 21 entries of about 22 bytes
    export_parquet(Recording(rec, interleave=False), tmp_path / "big.parquet")
    meta = pq.ParquetFile(tmp_path / "big.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [21, 21]
    monkeypatch.setattr(parquet_module, "GROUP_BYTES", 5_000)
    export_parquet(Recording(rec, interleave=False), tmp_path / "big.parquet")
    assert pq.ParquetFile(tmp_path / "big.parquet").metadata.num_row_groups == 1


def test_memory_stays_flat_however_long_the_recording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_module, "GROUP_ROWS", 2_000)
    peaks = []
    for seconds in (10, 80):
        rec = tmp_path / f"{seconds}.xtape"
        with RecordingWriter(rec, flush_interval=3600) as writer:  # the same chunks in both
            for second in range(seconds):
                writer.write_entries(b"orders", orders(1_000, second), (T0_MS + second * 1000) * 1_000_000)
                if second % 5 == 4:
                    writer.flush()
        tracemalloc.start()
        try:
            export_parquet(Recording(rec, interleave=False), tmp_path / f"{seconds}.parquet")
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert pq.ParquetFile(tmp_path / f"{seconds}.parquet").metadata.num_rows == seconds * 1_000
    assert peaks[1] < 1.5 * peaks[0], peaks  # 8x the entries, about the same peak


def test_the_output_policy_holds(tmp_path: Path, exported: Path) -> None:
    rec = tmp_path / "rec.xtape"
    assert "exists; pass --force" in error_line(invoke("export", rec, "-o", exported), 2)
    ok(invoke("export", rec, "-o", exported, "--force", "-q"))
    markers_only = tmp_path / "other.markers.parquet"
    markers_only.write_bytes(b"x")
    assert "other.markers.parquet exists" in error_line(invoke("export", rec, "-o", tmp_path / "other.parquet"), 2)
    assert "the suffix" in error_line(invoke("export", rec, "-o", tmp_path / "out.csv"), 2)
    odd = hostile_recording(tmp_path / "odd.parquet")  # a recording, whatever its name
    line = error_line(invoke("export", odd, "-o", odd, "--force"), 2)
    assert "is also an input of this command" in line
    assert len(entries_of(odd)) == 18


def test_a_missing_extra_is_one_line() -> None:
    from xtape.errors import ExtraUnavailable
    from xtape.interop import require

    with pytest.raises(ExtraUnavailable) as raised:
        require("no_such_module_xtape", "export to Parquet")
    assert str(raised.value) == (
        "export to Parquet needs no_such_module_xtape, which is not installed: pip install 'xtape[analysis]'"
    )


def test_a_split_recording_exports_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xtape.recording.records import SeriesTag

    folder = tmp_path / "split"
    folder.mkdir()
    for part in (1, 2):
        with RecordingWriter(folder / f"rec-{part:04d}.xtape", series=SeriesTag("s1", part), flush_interval=3600) as writer:
            for second in range(3):
                at = (part - 1) * 3 + second
                writer.write_entries(b"orders", orders(7, at), (T0_MS + at * 1000) * 1_000_000)
                writer.flush()  # a chunk per batch
    monkeypatch.setattr(parquet_module, "GROUP_ROWS", 10)
    out = tmp_path / "split.parquet"
    ok(invoke("export", folder, "-o", out, "-q"))
    meta = pq.ParquetFile(out).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [14, 14, 14]
    assert query(f"SELECT count(DISTINCT id), min(ms), max(ms) FROM '{out}'") == [(42, T0_MS, T0_MS + 5006)]
