"""``xtape infer REC`` at size: entries/s and peak RSS, beside a bare read of the same
recording measured in the same process.

    .venv/bin/python bench/infer.py [--entries 1000000] [--streams 4] [--quick]

Writes a recording of N realistic entries (the shapes of ``bench/replay.py``), then,
each in its own process:

* ``infer_catalog`` and writing its YAML, over the whole recording; that process first
  reads the recording bare (``Recording.batches()`` iterated) and prints both rates;
* the same over a recording of a tenth of the entries, to show that memory is flat;
* the whole command ``xtape infer REC -o streams.yaml`` (start-up included).

Rates are given per wall-clock second and per CPU second of the process (user + system
time, which other busy processes on a shared machine do not inflate); the verdict uses
the CPU rate. Target (issue): >= 200,000 entries/s with flat memory.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _catalog import Row, child, make_recordings, run, size_args, table

TARGET_RATE = 200_000


def main() -> None:
    n, streams = size_args(__doc__)
    xtape = str(Path(sys.executable).with_name("xtape"))
    with tempfile.TemporaryDirectory() as tmp:
        big, small = make_recordings(Path(tmp), n, streams)
        data, rss, others, _, _ = run(child("infer", big))
        rows = [
            Row("(ref) bare read, same process", int(data["entries"]), data["read_s"], data["read_cpu"], rss, others, "nothing inferred"),
            Row("infer_catalog + YAML (library)", int(data["entries"]), data["work_s"], data["work_cpu"], rss, others),
        ]
        tenth, rss_small, others_small, _, _ = run(child("infer", small))
        rows.append(
            Row("infer_catalog, a tenth (library)", int(tenth["entries"]), tenth["work_s"], tenth["work_cpu"], rss_small, others_small, "memory vs size")
        )
        out = Path(tmp) / "streams.yaml"
        _, rss_cmd, others_cmd, wall, cpu_cmd = run([xtape, "infer", str(big), "-o", str(out)])
        rows.append(Row("xtape infer REC -o C (command)", n, wall, cpu_cmd, rss_cmd, others_cmd, "start-up included"))
    table(rows)
    library = rows[1]
    command = rows[3]
    verdict = "PASS" if library.cpu_rate >= TARGET_RATE and command.cpu_rate >= TARGET_RATE else "FAIL"
    print()
    print(
        f"infer: {library.cpu_rate:,.0f} entries per CPU second in the library "
        f"({library.rate:,.0f}/s of wall time), {command.cpu_rate:,.0f} as a command ({command.rate:,.0f}/s of "
        f"wall time, start-up included) {verdict} (>= {TARGET_RATE:,}); {library.cpu_rate / rows[0].cpu_rate:.2f}x "
        f"the bare read; peak RSS {library.rss_mib:.0f} MiB for {library.entries:,} entries vs "
        f"{rows[2].rss_mib:.0f} MiB for {rows[2].entries:,}"
    )


if __name__ == "__main__":
    main()
