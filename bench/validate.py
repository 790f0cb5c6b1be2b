"""``xtape validate REC --catalog C`` at size: entries/s and peak RSS, beside a bare read
of the same recording measured in the same process.

    .venv/bin/python bench/validate.py [--entries 1000000] [--streams 4] [--quick]

Writes a recording of N realistic entries (the shapes of ``bench/replay.py``: orders,
trades, quotes and fills of 3-5 fields with enums, numbers, hex ids and a JSON object)
and the catalog ``xtape infer`` makes of it (strict: every field typed, enums, lengths,
required fields). Then, each in its own process:

* ``validate_recording`` over the whole recording; that process first reads the
  recording bare (``Recording.batches()`` iterated, nothing checked) and prints both
  rates, so the reference comes from the same process and the same file cache;
* the same over a recording of a tenth of the entries, to show that memory is flat;
* the whole command ``xtape validate REC --catalog C`` (start-up and printing included).

Rates are given per wall-clock second and per CPU second of the process (user + system
time, which other busy processes on a shared machine do not inflate); the verdict uses
the CPU rate. Target (issue): >= 100,000 entries/s with flat memory.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _catalog import Row, child, make_recordings, run, size_args, table

from xtape.catalog import infer_catalog

TARGET_RATE = 100_000


def main() -> None:
    n, streams = size_args(__doc__)
    xtape = str(Path(sys.executable).with_name("xtape"))
    with tempfile.TemporaryDirectory() as tmp:
        big, small = make_recordings(Path(tmp), n, streams)
        catalog = Path(tmp) / "streams.yaml"
        text = infer_catalog(small).catalog_yaml().replace("strict: false", "strict: true", 1)
        catalog.write_text(text)
        print(f"catalog: inferred from the small recording, strict, {text.count(chr(10))} lines")
        data, rss, others, _, _ = run(child("validate", big, str(catalog)))
        rows = [
            Row("(ref) bare read, same process", int(data["entries"]), data["read_s"], data["read_cpu"], rss, others, "nothing checked"),
            Row("validate_recording (library)", int(data["entries"]), data["work_s"], data["work_cpu"], rss, others, f"{int(data['invalid']):,} invalid"),
        ]
        tenth, rss_small, others_small, _, _ = run(child("validate", small, str(catalog)))
        rows.append(
            Row("validate_recording, a tenth (library)", int(tenth["entries"]), tenth["work_s"], tenth["work_cpu"], rss_small, others_small, "memory vs size")
        )
        _, rss_cmd, others_cmd, wall, cpu_cmd = run([xtape, "validate", str(big), "--catalog", str(catalog)])
        rows.append(Row("xtape validate REC --catalog C (command)", n, wall, cpu_cmd, rss_cmd, others_cmd, "start-up included"))
    table(rows)
    library = rows[1]
    command = rows[3]
    verdict = "PASS" if library.cpu_rate >= TARGET_RATE and command.cpu_rate >= TARGET_RATE else "FAIL"
    print()
    print(
        f"validate: {library.cpu_rate:,.0f} entries per CPU second in the library "
        f"({library.rate:,.0f}/s of wall time), {command.cpu_rate:,.0f} as a command ({command.rate:,.0f}/s of "
        f"wall time, start-up included) {verdict} (>= {TARGET_RATE:,}); {library.cpu_rate / rows[0].cpu_rate:.2f}x "
        f"the bare read; peak RSS {library.rss_mib:.0f} MiB for {library.entries:,} entries vs "
        f"{rows[2].rss_mib:.0f} MiB for {rows[2].entries:,}"
    )


if __name__ == "__main__":
    main()
