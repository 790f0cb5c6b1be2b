"""Recording size: format v1, format v2 (zstd at several levels, and none) and MCAP with
zstd (the peer's format) of the same generated traffic, with the time each takes to write.

    .venv/bin/python bench/format.py [--entries 1000000] [--levels 1 3 6 9]
    .venv/bin/python bench/format.py --quick            # 100,000 entries

The traffic has the sample recording's shape: ten streams of events with 3-8 fields of
JSON-like text (ids, prices, sizes, sides, users, timestamps), written in recorder-like
rounds (one capture time per round, a batch per stream). MCAP is written with the
``mcap`` package (the ``bench`` extra: ``pip install -e '.[bench]'``): a channel per
stream, each message the entry's fields packed with msgpack (the bytes xtape stores),
``log_time`` the capture time, ``publish_time`` the id's time; zstd chunks of 1 MiB
(its defaults). The level the writer uses (``DEFAULT_ZSTD_LEVEL``) is chosen from this
table: the smallest file that still writes well above recording speed.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import msgpack

try:
    from mcap.writer import CompressionType
    from mcap.writer import Writer as McapWriter
except ImportError:
    raise SystemExit(
        "bench/format.py writes the peer's MCAP files with the mcap package: "
        "pip install -e '.[bench]'"
    ) from None

from _traffic import event

from xtape.recording import RecordingWriter
from xtape.recording.chunks import DEFAULT_ZSTD_LEVEL

T0 = 1_795_608_817_716
ROUND = 50  # entries per recorder round


def traffic(n: int, seed: int = 7) -> Iterator[tuple[int, list[tuple[bytes, list[list[object]]]]]]:
    """``(capture_ns, [(stream, entries), ...])`` per round."""
    rng = random.Random(seed)
    ms = T0
    done = 0
    while done < n:
        batches: dict[bytes, list[list[object]]] = {}
        for _ in range(min(ROUND, n - done)):
            ms += rng.choice((0, 1, 1, 2, 5, 20))
            stream, flat = event(rng, ms, done)
            batches.setdefault(b"prod:" + stream, []).append([b"%d-%d" % (ms, done % 3), flat])
            done += 1
        yield (ms + 3) * 1_000_000, list(batches.items())


#: The traffic the write speeds are timed on, generated before the clock starts.
SPEED_ENTRIES = 100_000
_ROUNDS: list[tuple[int, list[tuple[bytes, list[list[object]]]]]] = []


def write_xtape(path: Path, n: int, **options: object) -> float:
    """Writes ``n`` entries into ``path``; returns the seconds it takes to write the
    pre-generated :data:`SPEED_ENTRIES` (another file)."""
    with RecordingWriter(path, **options) as writer:  # type: ignore[arg-type]
        for capture_ns, batches in traffic(n):
            for stream, entries in batches:
                writer.write_entries(stream, entries, capture_ns)  # type: ignore[arg-type]
    if not _ROUNDS:
        _ROUNDS.extend(traffic(SPEED_ENTRIES, seed=8))
    t0 = time.perf_counter()
    with RecordingWriter(path.with_suffix(".speed"), **options) as writer:  # type: ignore[arg-type]
        for capture_ns, batches in _ROUNDS:
            for stream, entries in batches:
                writer.write_entries(stream, entries, capture_ns)  # type: ignore[arg-type]
    return time.perf_counter() - t0


def write_mcap(path: Path, n: int) -> float:
    mcap(path, traffic(n))
    if not _ROUNDS:
        _ROUNDS.extend(traffic(SPEED_ENTRIES, seed=8))
    t0 = time.perf_counter()
    mcap(path.with_suffix(".speed"), iter(_ROUNDS))
    return time.perf_counter() - t0


def mcap(path: Path, rounds: Iterator[tuple[int, list[tuple[bytes, list[list[object]]]]]]) -> None:
    with open(path, "wb") as fh:
        writer = McapWriter(fh, compression=CompressionType.ZSTD)
        writer.start(profile="", library="bench")
        schema = writer.register_schema("redis-stream-entry", "", b"")
        channels: dict[bytes, int] = {}
        seq = 0
        for capture_ns, batches in rounds:
            for stream, entries in batches:
                channel = channels.get(stream)
                if channel is None:
                    channel = channels[stream] = writer.register_channel(
                        stream.decode(), "msgpack", schema
                    )
                for entry_id, flat in entries:
                    ms = int(bytes(entry_id).partition(b"-")[0])  # type: ignore[call-overload]
                    writer.add_message(
                        channel, capture_ns, msgpack.packb(flat), ms * 1_000_000, seq
                    )
                    seq += 1
        writer.finish()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 3, 6, 9])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 100_000 if args.quick else args.entries
    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        secs = write_xtape(d / "v1.xtape", n, version=1)
        rows.append(("xtape v1 (plain msgpack)", (d / "v1.xtape").stat().st_size, secs))
        secs = write_xtape(d / "none.xtape", n, compression="none")
        rows.append(("xtape v2, --compression none", (d / "none.xtape").stat().st_size, secs))
        for level in args.levels:
            p = d / f"z{level}.xtape"
            secs = write_xtape(p, n, level=level)
            mark = " (default)" if level == DEFAULT_ZSTD_LEVEL else ""
            rows.append((f"xtape v2, zstd level {level}{mark}", p.stat().st_size, secs))
        secs = write_mcap(d / "peer.mcap", n)
        mcap_size = (d / "peer.mcap").stat().st_size
        rows.append(("MCAP + zstd (mcap package)", mcap_size, secs))
    v1 = rows[0][1]
    print(
        f"{n:,} entries, 3-8 JSON-like fields each, 10 streams "
        f"(write: entries/s writing {SPEED_ENTRIES:,} pre-generated ones, one thread)"
    )
    print(f"{'format':<34} {'size':>12} {'B/entry':>8} {'vs v1':>6} {'vs MCAP':>8} {'write':>8}")
    for name, size, secs in rows:
        print(
            f"{name:<34} {size / 2**20:>8.2f} MiB {size / n:>8.1f} {size / v1:>6.2f} "
            f"{size / mcap_size:>8.2f} {SPEED_ENTRIES / secs / 1000:>6.0f}k/s"
        )
    default = next(size for name, size, _ in rows if "(default)" in name)
    print(
        f"v2 (default) is {default / mcap_size:.2f}x the MCAP file: "
        + ("smaller" if default < mcap_size else "NOT smaller")
    )


if __name__ == "__main__":
    main()
