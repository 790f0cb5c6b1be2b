"""Support for the diff tests: recordings written from lists of flat field lists."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from xtape.recording import RecordingWriter

Flat = Sequence[bytes]


def write(path: Path, streams: dict[bytes, list[Flat]], *, ids: dict[bytes, list[bytes]] | None = None, batch: int = 1000) -> Path:
    """A recording of ``streams`` (each a list of flat field lists), in rounds of ``batch``."""
    with RecordingWriter(path) as writer:
        longest = max((len(v) for v in streams.values()), default=0)
        capture = 1
        for start in range(0, max(longest, 1), batch):
            for name, entries in streams.items():
                chunk = entries[start : start + batch]
                if not chunk and start:
                    continue
                own = ids[name] if ids and name in ids else [b"1700000000000-%d" % i for i in range(len(entries))]
                writer.write_entries(name, [[own[start + i], list(f)] for i, f in enumerate(chunk)], capture)
            capture += 1
    return path


def pair(tmp_path: Path, expected: dict[bytes, list[Flat]], actual: dict[bytes, list[Flat]], **kw: object) -> tuple[Path, Path]:
    return write(tmp_path / "expected.xtape", expected, **kw), write(tmp_path / "actual.xtape", actual, **kw)  # type: ignore[arg-type]


ORDERS: list[Flat] = [[b"orderId", b"o%d" % i, b"price", b"%d.00" % (100 + i), b"ts", b"%d" % i] for i in range(6)]
