"""``diff_recordings`` at size: entries/s and peak RSS at 100,000 and 1,000,000 entries,
beside a bare read of both recordings measured in the same process.

    .venv/bin/python bench/diff.py [--entries 1000000] [--streams 4] [--quick]

Writes, with ``RecordingWriter`` in recorder-like rounds of 1000 entries over
``--streams`` streams (orders of 6 fields, ~110 bytes, each with a unique ``orderId``
and a ``ts``):

* EXPECTED: N entries;
* ACTUAL: the same, except every 1000th entry has another ``price``, every 5000th is
  missing and an extra entry follows every 7000th (so the diff has work to do);
* ACTUAL-TS: ACTUAL with a different ``ts`` in *every* entry (a regression capture:
  the timestamps are the service's, so the rules ignore them);
* ACTUAL-MANY: EXPECTED with a third of the entries changed (another ``price``) and a
  seventh missing: a diff that is mostly differences (issue 16 item 20: 103 s at 1M).

Then, for the first tenth of the entries and for all of them, each contender in a
fresh process (peak RSS from ``wait4``, so one contender's memory is not another's):

* (ref) a bare read of both recordings (every record unpacked, every entry visited);
* ``diff`` strict order, default rules, EXPECTED vs ACTUAL;
* ``diff --ignore-field ts`` EXPECTED vs ACTUAL-TS (every entry differs in raw bytes,
  so every pair goes through the rules);
* ``diff --match-by orderId`` and ``diff --unordered`` EXPECTED vs ACTUAL;
* ``diff`` strict order EXPECTED vs ACTUAL-MANY (must hold the rate too).

Each diff process first times the bare read itself (the ``x read`` column: the diff's
time over the bare read's in the same process). Rates are EXPECTED entries per second
of the diff. Target (issue): >= 200,000 entries/s with flat memory.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from xtape.recording import RecordingWriter

TARGET_RATE = 200_000
ROUND = 1000
BASE_MS = 1_700_000_000_000
SYMBOLS = [b"BTC-USD", b"ETH-USD", b"SOL-USD", b"ADA-EUR", b"XRP-GBP", b"DOT-USD"]
STREAMS = [b"order.accepted", b"order.rejected", b"order.filled", b"order.cancelled", b"audit", b"risk"]

CHILD = r"""
import json, resource, sys, time
from xtape.recording import Recording
from xtape.recording.records import Entries
from xtape.diff import DiffRules, diff_recordings

def bare(path):
    n = 0
    for record in Recording(path, interleave=False).records():
        if isinstance(record, Entries):
            for entry_id, flat in record.entries:
                n += 1
    return n

mode, exp, act, rules = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
t = time.perf_counter()
n = bare(exp) + bare(act)
read_s = time.perf_counter() - t
out = {"read_s": read_s, "read_n": n}
if mode == "diff":
    t = time.perf_counter()
    result = diff_recordings(exp, act, DiffRules(**rules))
    out["diff_s"] = time.perf_counter() - t
    out["totals"] = result.totals()
print(json.dumps(out))
"""


def make_entry(i: int, rng: random.Random) -> list[bytes]:
    return [
        b"orderId", b"o-%010d" % i,
        b"symbol", rng.choice(SYMBOLS),
        b"side", b"buy" if rng.random() < 0.5 else b"sell",
        b"price", b"%.2f" % (40_000 + rng.random() * 5_000),
        b"qty", b"%.8f" % (rng.random() * 2),
        b"ts", b"%d" % (BASE_MS + i),
    ]  # fmt: skip


def write_files(folder: Path, n: int, streams: int) -> tuple[Path, Path, Path, Path]:
    paths = (
        folder / "expected.xtape", folder / "actual.xtape", folder / "actual-ts.xtape", folder / "actual-many.xtape"
    )  # fmt: skip
    rng = random.Random(7)
    with (
        RecordingWriter(paths[0]) as we,
        RecordingWriter(paths[1]) as wa,
        RecordingWriter(paths[2]) as wt,
        RecordingWriter(paths[3]) as wm,
    ):
        k = 0
        capture = BASE_MS * 1_000_000
        while k < n:
            size = min(ROUND, n - k)
            rounds: list[dict[int, list[list[object]]]] = [{}, {}, {}, {}]
            for j in range(k, k + size):
                s = j % streams
                fields = make_entry(j, rng)
                entry_id = b"%d-%d" % (BASE_MS + j // 100, j % 100)
                rounds[0].setdefault(s, []).append([entry_id, fields])
                if j % 7 != 6:
                    many = list(fields)
                    if j % 3 == 0:
                        many[7] = b"%.2f" % (float(many[7]) + 1)
                    rounds[3].setdefault(s, []).append([entry_id, many])
                if j % 5000 == 4999:
                    continue  # missing from ACTUAL
                changed = list(fields)
                if j % 1000 == 999:
                    changed[7] = b"%.2f" % (float(changed[7]) + 1)
                shifted = list(changed)
                shifted[11] = b"%d" % (BASE_MS + j + 37)
                rounds[1].setdefault(s, []).append([entry_id, changed])
                rounds[2].setdefault(s, []).append([entry_id, shifted])
                if j % 7000 == 6999:
                    extra = make_entry(n + j, rng)
                    rounds[1].setdefault(s, []).append([entry_id + b"0000", extra])
                    rounds[2].setdefault(s, []).append([entry_id + b"0000", extra])
            for writer, batch in zip((we, wa, wt, wm), rounds, strict=True):
                for s in sorted(batch):
                    writer.write_entries(STREAMS[s], batch[s], capture)
            capture += 10_000_000
            k += size
    return paths


def run_child(mode: str, exp: Path, act: Path, rules: dict[str, object]) -> tuple[dict[str, object], float]:
    import json

    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(exp), str(act), json.dumps(rules)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {rules} failed ({proc.returncode})")
    return json.loads(out), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="100,000 entries (a smoke check)")
    args = parser.parse_args()
    n = 100_000 if args.quick else args.entries
    sizes = [n // 10, n]
    contenders: list[tuple[str, str, int, dict[str, object]]] = [
        ("(ref) bare read of both files", "read", 1, {}),
        ("diff (strict, default rules)", "diff", 1, {}),
        ("diff --ignore-field ts (all raw-different)", "diff", 2, {"ignore_fields": ["ts"]}),
        ("diff --match-by orderId", "diff", 1, {"match_by": "orderId"}),
        ("diff --unordered", "diff", 1, {"order": "multiset"}),
        ("diff (strict, 1/3 changed, 1/7 missing)", "diff", 3, {}),
    ]
    print(f"diff benchmark: {n:,} entries over {args.streams} streams (python {sys.version.split()[0]})")
    print(f"{'entries':>10}  {'contender':<44} {'seconds':>8} {'entries/s':>11} {'x read':>7} {'peak RSS':>10}  differences")
    ok = True
    with tempfile.TemporaryDirectory(prefix="xtape-bench-diff-") as tmp:
        for size in sizes:
            folder = Path(tmp) / str(size)
            folder.mkdir()
            files = write_files(folder, size, args.streams)
            for label, mode, actual, rules in contenders:
                out, rss = run_child(mode, files[0], files[actual], rules)
                read_s = float(out["read_s"])  # type: ignore[arg-type]
                seconds = float(out.get("diff_s", read_s))  # type: ignore[arg-type]
                rate = size / seconds
                ratio = f"{seconds / read_s:.2f}" if mode == "diff" else "1.00"
                totals = out.get("totals")
                found = ""
                if isinstance(totals, dict):
                    found = f"{totals['changed']} changed, {totals['missing']} missing, {totals['extra']} extra"
                print(f"{size:>10,}  {label:<44} {seconds:>8.2f} {rate:>11,.0f} {ratio:>7} {rss:>7.0f} MiB  {found}")
                if mode == "diff" and size == n and rate < TARGET_RATE:
                    ok = False
    print(f"target: >= {TARGET_RATE:,} entries/s at {n:,} entries, peak RSS flat from {n // 10:,} to {n:,}: "
          + ("met" if ok else "NOT met (rate)"))


if __name__ == "__main__":
    main()
