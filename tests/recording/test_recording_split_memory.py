"""A rolling recorder running for weeks remembers no more than its folder holds: the
files ``--keep-last`` deleted are forgotten by the split writer (found by bench/soak.py's
question: does anything grow per file?)."""

from __future__ import annotations

from pathlib import Path

from xtape.recording.split import SplitWriter


def test_the_files_keep_last_deleted_are_forgotten(tmp_path: Path) -> None:
    now = [1_000.0]
    writer = SplitWriter(tmp_path, split_size=1 << 30, keep_last=10.0, now=lambda: now[0], flush_interval=0.0)
    for i in range(300):  # 300 files, one a second
        writer.write_entries(b"s", [[b"%d-0" % (i + 1), [b"k", b"v"]]], i)
        now[0] += 1.0
        writer.rotate()
    on_disk = sorted(tmp_path.glob("*.xtape"))
    assert len(on_disk) <= 13  # the last 10 s, the one before the horizon, the current one
    assert set(on_disk) <= set(writer.created)
    assert len(writer.created) <= len(on_disk) + 2  # (those the last rotation deleted; 300 before)
    writer.close()
