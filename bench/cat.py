"""``xtape cat`` throughput to a pipe, beside a bare read of the same file.

    .venv/bin/python bench/cat.py [--entries 1000000] [--streams 4] [--repeat 3]
    .venv/bin/python bench/cat.py --quick          # 100,000 entries, a smoke check

Writes a recording of ``--entries`` realistic entries (the generator of
``bench/replay.py``: 3-5 fields, ~90 bytes of names and values, recorder-like rounds)
into a temporary directory, then times, best of ``--repeat``:

* ``xtape cat FILE`` as a subprocess whose stdout is a pipe this script drains
  (counting lines): the whole command, start-up included;
* the same with ``--object`` (fields as a jq-friendly object);
* in this process, ``write_jsonl`` (what ``cat`` runs) into a sink that drops the bytes:
  reading, checking and encoding without the pipe or start-up;
* the old ``cat``'s way, in this process: ``json.dumps(entry_to_json(entry))`` per
  entry with the standard library (what took 17.6 s for a million entries);
* the reference, in this process: the reader's bare pass over the same file (its
  batches: decompressed, unpacked and checked, no JSON) -- the floor cat cannot go below.

Target (from the issue): ``xtape cat`` >= 200,000 entries/s to a pipe.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from replay import write_recording

from xtape.recording import Recording, entry_to_json
from xtape.recording.jsonl import write_jsonl

TARGET = 200_000
XTAPE = str(Path(sys.executable).with_name("xtape"))


class Sink:
    """A binary stream that drops what it is given."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def cat_command(path: Path, *extra: str) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.Popen([XTAPE, "cat", str(path), *extra], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    lines = 0
    while chunk := proc.stdout.read(1 << 20):
        lines += chunk.count(b"\n")
    if proc.wait() != 0:
        raise SystemExit(f"xtape cat exited {proc.returncode}")
    return time.perf_counter() - start, lines


def in_process(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    n = write_jsonl(Recording(path), Sink())  # type: ignore[arg-type]
    return time.perf_counter() - start, n


def stdlib_json(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    sink = io.StringIO()
    n = 0
    for entry in Recording(path).entries():
        sink.write(json.dumps(entry_to_json(entry), ensure_ascii=False))
        sink.write("\n")
        n += 1
        if n % 10_000 == 0:
            sink.seek(0)
            sink.truncate()
    return time.perf_counter() - start, n


def bare_read(path: Path) -> tuple[float, int]:
    """The recording's batches as the reader yields them (decompressed, unpacked,
    checked), nothing turned into JSON: what cat cannot go below."""
    start = time.perf_counter()
    n = 0
    for _stream, _capture_ns, raw in Recording(path, interleave=False).batches():
        n += len(raw)
    return time.perf_counter() - start, n


def best(fn: object, repeat: int, *args: object) -> tuple[float, int]:
    runs = [fn(*args) for _ in range(repeat)]  # type: ignore[operator]
    return min(runs)


def size_args(description: str) -> argparse.Namespace:
    """``--entries``, ``--streams``, ``--repeat`` and ``--quick`` (100,000 entries, one
    run), as the cat and export benches take them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100,000 entries, one run each")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.repeat = 100_000, 1
    return args


def main() -> None:
    args = size_args(__doc__.split("\n")[0])
    with tempfile.TemporaryDirectory(prefix="xtape-bench-cat-") as tmp:
        path = Path(tmp) / "cat.xtape"
        write_recording(path, args.entries, args.streams)
        size = path.stat().st_size
        print(f"recording: {args.entries:,} entries, {size / 2**20:.1f} MiB; best of {args.repeat}")
        rows = [
            ("xtape cat FILE | (pipe)", best(cat_command, args.repeat, path)),
            ("xtape cat --object FILE | (pipe)", best(cat_command, args.repeat, path, "--object")),
            ("write_jsonl in-process (no pipe)", best(in_process, args.repeat, path)),
            ("old cat: stdlib json per entry, in-process", best(stdlib_json, 1, path)),
            ("(ref) bare read (batches, no JSON), in-process", best(bare_read, args.repeat, path)),
        ]
    ref_rate = rows[-1][1][1] / rows[-1][1][0]
    print(f"{'':44} {'seconds':>8} {'entries/s':>11} {'vs ref':>7}")
    for label, (seconds, n) in rows:
        if n != args.entries:
            raise SystemExit(f"{label}: {n} entries, expected {args.entries}")
        rate = n / seconds
        print(f"{label:44} {seconds:8.2f} {rate:11,.0f} {rate / ref_rate:6.2f}x")
    cat_rate = rows[0][1][1] / rows[0][1][0]
    verdict = "PASS" if cat_rate >= TARGET else "FAIL"
    print(f"\nxtape cat to a pipe: {cat_rate:,.0f} entries/s, target >= {TARGET:,}: {verdict}")


if __name__ == "__main__":
    main()
