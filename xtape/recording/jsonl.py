"""Entries as JSON lines (``xtape cat``), fast enough for a million entries a few seconds.

One object per entry: ``{"stream", "id", "fields", "time"}``. Names and values are text
where they are UTF-8, else ``{"base64": ...}``. ``fields`` is lossless by default:
``[[name, value], ...]`` in order, duplicates kept. With ``objects=True`` it is an
object for jq, ``{"name": value}``, where a name that occurs more than once maps to the
array of its values (in order) and a name that is not UTF-8 becomes text with ``\\xNN``
escapes: handy, but the order across names and such names' bytes are lost.

With ``decoder`` (``cat --decode``), an entry its stream's codec decodes is written as
``{"stream", "id", "codec", "value", "time"}``: the decoded value (for FastStream,
``{"headers": ..., "body": ...}``); others keep ``fields``, with ``"codec": null``.

The work per entry is kept to C-level calls (orjson for the encoding, ``map`` for the
decoding, a time string made once per second), so the encoding keeps up with reading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO

import orjson

from xtape.recording.reader import Recording
from xtape.timeline import bytes_to_json

#: Lines gathered before each write.
_CHUNK = 2048
#: The last millisecond a date can show; later ids (set by producers) get ``"time": null``.
_MAX_ISO_MS = 253_402_300_799_999


def write_jsonl(
    rec: Recording,
    out: BinaryIO,
    *,
    keep: Callable[[bytes], bool] | None = None,
    limit: int | None = None,
    objects: bool = False,
    window: tuple[int | None, int | None] | None = None,
    decoder: Callable[[bytes, Sequence[bytes]], tuple[str, Any] | None] | None = None,
    select: Callable[[bytes, bytes, Sequence[bytes]], bool] | None = None,
) -> int:
    """Write the entries of ``rec`` to ``out`` as JSON lines; returns how many.

    ``keep`` selects streams by name; ``limit`` stops after that many entries (the
    rest of the file is then not read, so ``rec.summary`` stays unset). ``window``
    keeps the entries with ``since <= offset < until`` (offsets of ``rec.events()``,
    as ``replay --since/--until``); a v2 file jumps to the first chunk that holds them.
    ``select`` (``--where``) says which entries of the kept streams are written.
    """
    if limit is not None and limit <= 0:
        return 0
    dumps = orjson.dumps
    decode = bytes.decode
    streams: dict[bytes, Any] = {}  # name -> its JSON form, or None when not kept
    lines: list[bytes] = []
    count = 0
    last_ms = -1
    time: str | None = None
    times = _Times()
    batches = rec.batches() if window is None else _windowed(rec, *window)
    batches = _selected(batches, select)
    for stream, _, raw in batches:
        shown = streams.get(stream, False)
        if shown is False:
            shown = streams[stream] = (
                bytes_to_json(stream) if keep is None or keep(stream) else None
            )
        if shown is None:
            continue
        # The hot loop: about 3 µs an entry, most of it in orjson and the decoding.
        for entry_id, flat in raw:
            ms = int(entry_id.partition(b"-")[0])
            if ms != last_ms:
                last_ms, time = ms, times.iso(ms)
            if decoder is not None:
                decoded = decoder(stream, flat)
                if decoded is not None:
                    line = {"stream": shown, "id": entry_id.decode(), "codec": decoded[0], "value": decoded[1], "time": time}
                    lines.append(dumps(line, default=jsonable, option=orjson.OPT_NON_STR_KEYS))
                    count += 1
                    if limit is not None and count >= limit:
                        break
                    continue
            if objects:
                fields: Any = object_fields(flat)
            else:
                it = iter(_texts(flat, decode))
                fields = list(zip(it, it, strict=True))
            entry = {"stream": shown, "id": entry_id.decode(), "fields": fields, "time": time}
            if decoder is not None:
                entry = {"stream": shown, "id": entry_id.decode(), "codec": None, "fields": fields, "time": time}
            lines.append(dumps(entry))
            count += 1
            if limit is not None and count >= limit:
                break
        if len(lines) >= _CHUNK:
            _write(out, lines)
        if limit is not None and count >= limit:
            break
    _write(out, lines)
    out.flush()
    return count


def jsonable(value: Any) -> Any:
    """What orjson cannot write itself in a decoded value: bytes as text or
    ``{"base64": ...}`` (as ``xtape cat`` writes them), anything else as its text."""
    if isinstance(value, (bytes, bytearray)):
        return bytes_to_json(bytes(value))
    return str(value)


def _write(out: BinaryIO, lines: list[bytes]) -> None:
    if lines:
        lines.append(b"")
        out.write(b"\n".join(lines))
        lines.clear()


def _texts(flat: Sequence[bytes], decode: Callable[[bytes], str] = bytes.decode) -> list[Any]:
    try:
        return list(map(decode, flat))
    except UnicodeDecodeError:
        return [bytes_to_json(part) for part in flat]


def object_fields(flat: Sequence[bytes]) -> dict[str, Any]:
    """Fields as a JSON object (``cat --object``, the ``fields`` of ``--where``): text
    where UTF-8, else ``{"base64": ...}``; a repeated name's values as an array."""
    texts = _texts(flat)
    names = [
        name if isinstance(name, str) else raw.decode("utf-8", "backslashreplace")
        for name, raw in zip(texts[::2], flat[::2], strict=True)
    ]
    values = texts[1::2]
    if len(set(names)) == len(names):
        return dict(zip(names, values, strict=True))
    grouped: dict[str, Any] = {}
    for name, value in zip(names, values, strict=True):
        if name not in grouped:
            grouped[name] = value
        elif isinstance(grouped[name], list):
            grouped[name].append(value)
        else:
            grouped[name] = [grouped[name], value]
    return grouped


class _Times:
    """ISO 8601 UTC times of milliseconds, the date part made once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def iso(self, ms: int) -> str | None:
        if ms > _MAX_ISO_MS:
            return None
        second, millis = divmod(ms, 1000)
        if second != self._second:
            self._second = second
            self._prefix = dt.datetime.fromtimestamp(second, tz=dt.timezone.utc).isoformat(
                timespec="seconds"
            )[:-6]
        return f"{self._prefix}.{millis:03d}Z"


def _selected(
    batches: Iterator[tuple[bytes, int, Sequence[Any]]],
    select: Callable[[bytes, bytes, Sequence[bytes]], bool] | None,
) -> Iterator[tuple[bytes, int, Sequence[Any]]]:
    """The entries of ``batches`` that ``select`` keeps (batches left empty are left out)."""
    if select is None:
        return batches
    return _kept(batches, select)


def _kept(
    batches: Iterator[tuple[bytes, int, Sequence[Any]]], select: Callable[[bytes, bytes, Sequence[bytes]], bool]
) -> Iterator[tuple[bytes, int, Sequence[Any]]]:
    for stream, capture_ns, raw in batches:
        kept = [entry for entry in raw if select(stream, entry[0], entry[1])]
        if kept:
            yield stream, capture_ns, kept


def _windowed(
    rec: Recording, since: int | None, until: int | None
) -> Iterator[tuple[bytes, int, Sequence[Any]]]:
    """Batches of one entry each, those of the window only."""
    rec.window(since, until)
    lo = since or 0
    for event in rec.events():
        offset = event[0]
        if offset < lo or (until is not None and offset >= until):
            continue
        yield event[1], 0, ((event[3], event[2]),)
