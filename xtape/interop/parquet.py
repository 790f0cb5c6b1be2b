"""``xtape export REC -o OUT.parquet``: one row per entry, for DuckDB, pandas, Polars.

Columns (docs/analysis.md):

- ``stream`` (text; a name that is not UTF-8 with ``\\xNN`` escapes), ``id`` (text),
  ``ms`` and ``seq`` (the id's parts, unsigned 64-bit), ``capture_time`` (when the
  recorder read it: a UTC timestamp, microseconds);
- ``fields``: a list of ``{name, value}`` structs of bytes, in the entry's order with
  repeated names kept (a Parquet map would lose both);
- ``payload``: the decoded payload as JSON text where the stream's codec reads the
  entry (``--codec``, the catalog's ``codec:``, or detected), else null;
- with ``flatten``: one column per top-level key of the decoded payloads (or of the
  fields, where no codec reads them), typed per stream (:mod:`xtape.interop.flatten`).

Rows are written a row group at a time, each a whole number of the recording's chunks
(chunks are joined until a group holds :data:`GROUP_ROWS` rows), so memory stays flat
however large the recording. Gaps and markers go to a second file,
``OUT.markers.parquet`` (:func:`markers_path`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import accumulate, chain, repeat
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xtape.codecs import CodecResolver
from xtape.errors import UsageError
from xtape.interop import markers_path
from xtape.interop.flatten import Columns, cell, fields_mapping
from xtape.interop.reading import Event, ExportStats, Payloads, batches, chunk_ends, jsonable
from xtape.outputs import replacing_binary
from xtape.recording import Entries, Recording

#: Rows a row group holds at least (chunks are joined until it does), unless it is the last.
GROUP_ROWS = 65_536
#: Rows at most before a group is written even within a chunk (an index that does not fit).
MAX_GROUP_ROWS = 8 * GROUP_ROWS
#: Bytes of field names and values (estimated from each batch's first and last entries) that end a
#: row group early.
GROUP_BYTES = 64 << 20

_ARROW_TYPES: dict[str, Callable[[], pa.DataType]] = {
    "bool": pa.bool_,
    "int": pa.int64,
    "float": pa.float64,
    "text": pa.string,
    "json": pa.string,
    "binary": pa.binary,
}

FIELD = pa.struct([("name", pa.binary()), ("value", pa.binary())])
TIME = pa.timestamp("us", tz="UTC")
ENTRY_SCHEMA = pa.schema(
    [
        ("stream", pa.string()),
        ("id", pa.string()),
        ("ms", pa.uint64()),
        ("seq", pa.uint64()),
        ("capture_time", TIME),
        ("fields", pa.list_(FIELD)),
        ("payload", pa.string()),
    ]
)
MARKER_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("capture_time", TIME),
        ("stream", pa.string()),
        ("after_id", pa.string()),
        ("before_id", pa.string()),
        ("lost", pa.int64()),
        ("text", pa.string()),
    ]
)


def stream_text(name: bytes) -> str:
    return name.decode("utf-8", "backslashreplace")


class _Rows:
    """The rows of the row group being filled, by column."""

    def __init__(self, columns: dict[str, str] | None) -> None:
        self.columns = columns
        self.clear()

    def clear(self) -> None:
        self.streams: list[str] = []
        self.ids: list[bytes] = []
        self.capture: list[int] = []
        self.flats: list[Sequence[bytes]] = []
        self.payloads: list[str | None] = []
        self.flat_columns: dict[str, list[Any]] = {name: [] for name in self.columns or ()}
        self.bytes = 0

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, stream: bytes, record: Entries, decoded: list[tuple[Any, Any] | None] | None) -> int:
        """Take a batch; returns how many payloads were decoded."""
        n = len(record.ids)
        self.streams.extend(repeat(stream_text(stream), n))
        self.ids.extend(record.ids)
        self.capture.extend(repeat(record.capture_ns // 1000, n))
        self.flats.extend(record.flats)
        if n:  # (about: from its first and last entries; a stream's entries are alike)
            self.bytes += (sum(map(len, record.flats[0])) + sum(map(len, record.flats[-1]))) * n // 2
        if decoded is None:
            self.payloads.extend(repeat(None, n))
        else:
            dumps, option = orjson.dumps, orjson.OPT_NON_STR_KEYS
            self.payloads.extend(
                None if one is None else dumps(one[0], default=jsonable, option=option).decode("utf-8")
                for one in decoded
            )
        if self.columns is not None:
            self._flatten(record.flats, decoded)
        return 0 if decoded is None else n - decoded.count(None)

    def _flatten(self, flats: Sequence[Sequence[bytes]], decoded: list[tuple[Any, Any] | None] | None) -> None:
        assert self.columns is not None
        keys = [(Columns.key_of(name), kind, self.flat_columns[name]) for name, kind in self.columns.items()]
        for i, flat in enumerate(flats):
            one = None if decoded is None else decoded[i]
            body = fields_mapping(flat) if one is None else one[1]
            if not isinstance(body, dict):
                body = {}
            for key, kind, values in keys:
                values.append(cell(body.get(key), kind))

    def table(self, schema: pa.Schema) -> pa.Table:
        ids = pa.array(self.ids, pa.string())
        parts = pc.split_pattern(ids, "-")
        flat = list(chain.from_iterable(self.flats))
        offsets = pc.shift_right(pa.array(list(accumulate(map(len, self.flats), initial=0)), pa.int32()), 1)
        fields = pa.ListArray.from_arrays(
            offsets,
            pa.StructArray.from_arrays(
                [pa.array(flat[0::2], pa.binary()), pa.array(flat[1::2], pa.binary())], fields=list(FIELD)
            ),
        )
        arrays = [
            pa.array(self.streams, pa.string()),
            ids,
            pc.list_element(parts, 0).cast(pa.uint64()),
            pc.list_element(parts, 1).cast(pa.uint64()),
            pa.array(self.capture, pa.int64()).view(TIME),
            fields,
            pa.array(self.payloads, pa.string()),
        ]
        arrays += [
            pa.array(self.flat_columns[name], _ARROW_TYPES[kind]()) for name, kind in (self.columns or {}).items()
        ]
        return pa.Table.from_arrays(arrays, schema=schema)


def entry_schema(columns: dict[str, str] | None) -> pa.Schema:
    """The schema of the entries file (with the flattened columns, if any)."""
    schema = ENTRY_SCHEMA
    for name, kind in (columns or {}).items():
        schema = schema.append(pa.field(name, _ARROW_TYPES[kind]()))
    return schema


def infer_columns(rec: Recording, keep: Callable[[bytes], bool] | None, payloads: Payloads) -> dict[str, str]:
    """``--flatten``'s first pass: the columns of the payloads' top-level keys."""
    if rec.one_pass:
        raise UsageError("--flatten reads the recording twice: give a file, not standard input")
    columns = Columns()
    for stream, record in batches(rec, keep, []):
        codec = payloads.codec(stream, record)
        decoded = None if codec is None else payloads.values(codec, record.flats)
        for i, flat in enumerate(record.flats):
            one = None if decoded is None else decoded[i]
            columns.add(stream, fields_mapping(flat) if one is None else one[1])
    return columns.types()


def export_parquet(
    rec: Recording,
    output: str | Path,
    *,
    keep: Callable[[bytes], bool] | None = None,
    codecs: CodecResolver | None = None,
    flatten: bool = False,
) -> ExportStats:
    """Write the entries of ``rec`` to ``output`` and its gaps and markers to
    :func:`markers_path` (both replaced whole, as every output of xtape)."""
    payloads = Payloads(codecs or CodecResolver())
    stats = ExportStats()
    if flatten:
        stats.columns = infer_columns(rec, keep, payloads)
    schema = entry_schema(stats.columns if flatten else None)
    ends = chunk_ends(rec)
    events: list[Event] = []
    seen = [0]
    rows = _Rows(stats.columns if flatten else None)
    with replacing_binary(output) as fh:
        groups = _Groups(pq.ParquetWriter(fh, schema, compression="zstd"), schema, stats)
        try:
            for stream, record in _at_chunk_ends(batches(rec, keep, events, seen), ends, seen, rows, groups):
                codec = payloads.codec(stream, record)
                decoded = None if codec is None else payloads.values(codec, record.flats)
                stats.decoded += rows.add(stream, record, decoded)
                stats.entries += len(record.ids)
                stats.streams.add(stream)
            groups.write(rows)
        finally:
            groups.close()
    stats.events = len(events)
    write_markers(markers_path(output), events)
    stats.codecs = payloads.chosen()
    return stats


def _at_chunk_ends(
    items: Iterator[tuple[bytes, Entries]],
    ends: list[int] | None,
    seen: list[int],
    rows: _Rows,
    groups: _Groups,
) -> Iterator[tuple[bytes, Entries]]:
    """``items``, a row group written after a batch that ends a chunk once the group
    is full (every batch ends one where the chunks are not known)."""
    at = 0
    for item in items:
        yield item
        if ends is None:
            at_end = True
        else:
            while at < len(ends) and ends[at] < seen[0]:
                at += 1
            at_end = at < len(ends) and ends[at] == seen[0]
        size = len(rows)
        if (at_end and (size >= GROUP_ROWS or rows.bytes >= GROUP_BYTES)) or size >= MAX_GROUP_ROWS:
            groups.write(rows)


class _Groups:
    """Writes row groups, each on a thread of its own while the next is read (pyarrow
    encodes and compresses without the GIL); at most one waits, so memory stays flat."""

    def __init__(self, writer: pq.ParquetWriter, schema: pa.Schema, stats: ExportStats) -> None:
        self.writer = writer
        self.schema = schema
        self.stats = stats
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="xtape-parquet")
        self._pending: Future[None] | None = None

    def write(self, rows: _Rows) -> None:
        """Write the rows gathered as one row group (and clear them)."""
        if not len(rows):
            return
        table = rows.table(self.schema)
        rows.clear()
        self._wait()
        self._pending = self._pool.submit(self.writer.write_table, table, row_group_size=table.num_rows)
        self.stats.row_groups += 1

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown()
            self.writer.close()


def write_markers(path: Path, events: list[Event]) -> None:
    """The gaps and markers, one row each: ``kind`` (``gap`` or the marker's kind),
    ``capture_time``, and ``stream``, ``after_id``, ``before_id``, ``lost`` for a gap
    (``lost`` -1: unknown) or ``text`` for a marker."""

    def text(value: bytes | None) -> str | None:
        return None if value is None else value.decode("ascii", "backslashreplace")

    table = pa.Table.from_arrays(
        [
            pa.array([e.kind for e in events], pa.string()),
            pa.array([e.capture_ns // 1000 for e in events], pa.int64()).view(TIME),
            pa.array([None if e.stream is None else stream_text(e.stream) for e in events], pa.string()),
            pa.array([text(e.after_id) for e in events], pa.string()),
            pa.array([text(e.before_id) for e in events], pa.string()),
            pa.array([e.lost for e in events], pa.int64()),
            pa.array([e.text for e in events], pa.string()),
        ],
        schema=MARKER_SCHEMA,
    )
    with replacing_binary(path) as fh:
        pq.write_table(table, fh, compression="zstd")


__all__ = ["ENTRY_SCHEMA", "MARKER_SCHEMA", "ExportStats", "entry_schema", "export_parquet"]
