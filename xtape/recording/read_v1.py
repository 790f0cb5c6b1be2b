"""The reader of format version 1: one msgpack record after another, no chunks, no
summary (a clean close ends with an END record)."""

from __future__ import annotations

import msgpack

from xtape.errors import DamagedRecording
from xtape.recording.opening import Bounds, FileReader, Pass, ReadSummary, decode_record, why
from xtape.recording.records import End, Gap


class V1Reader(FileReader):
    """A version-1 file or stream: read front to back (a seek reads it all too)."""

    def records(self, bounds: Bounds | None = None) -> Pass:
        reading = self.start()
        try:
            unpacker = reading.unpacker
            defined: dict[int, bytes] = {}
            gaps: list[tuple[bytes, Gap]] = []
            end: End | None = None
            consumed = unpacker.tell()
            while True:
                try:
                    obj = next(unpacker)
                except StopIteration:
                    break
                except (ValueError, TypeError, msgpack.UnpackException) as exc:
                    raise DamagedRecording(self.name, consumed, why(exc)) from None
                record = decode_record(self.name, obj, consumed, defined)
                if record is not None:
                    if isinstance(record, End):
                        end = record
                    if isinstance(record, Gap):
                        gaps.append((defined[record.stream_id], record))
                    yield record
                consumed = unpacker.tell()
            total = reading.counted.total
            return ReadSummary(total, total - consumed, end, tuple(gaps))
        finally:
            reading.close()


__all__ = ["V1Reader"]
