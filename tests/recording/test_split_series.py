"""Split and rolling recordings as series (issue 16 items 1, 3, 4, 6; issue 18 item 7):
two recorders in one directory, a directory continued by a second run, foreign files,
a failed rotation, and folders that are not one recording.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from support.e2e import XTAPE, error_line, invoke, ok, wait_for, write_recording, xadd
from support.streams import xrange_raw

from xtape.ids import id_key
from xtape.recording import Recording, RecordingWriter, summarize
from xtape.recording.split import SplitWriter, numbered_files

T0 = 1_700_000_000_000


def _record(*args: object, quiet: bool = True) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [XTAPE, "record", *map(str, args), *(["-q"] if quiet else [])], stderr=subprocess.PIPE, text=True
    )


def _finish(*procs: subprocess.Popen[str], timeout: float = 120) -> str:
    """Wait for the recorders to exit 0; their stderr."""
    said = ""
    try:
        for proc in procs:
            _, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, err
            said += err
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return said


def _per_file_counts(folder: Path) -> Counter[bytes]:
    """Entries per stream over every recording file in ``folder``, each read alone
    (whatever this xtape thinks of the folder as a whole)."""
    counts: Counter[bytes] = Counter()
    for path in sorted(folder.iterdir()):
        if path.suffix == ".xtape" and path.stat().st_size:
            counts.update(e.stream for e in Recording(path).entries())
    return counts


def _fill(r: redis.Redis, stream: str, n: int) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.execute_command("XADD", stream, "*", "n", str(i), "pad", "x" * 40)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


class _Producer:
    """Adds entries to ``stream`` about every ``every_s`` on a thread until stopped."""

    def __init__(self, r: redis.Redis, stream: str, every_s: float = 0.005) -> None:
        self.r, self.stream, self.every_s = r, stream, every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self.stop.is_set():
            xadd(self.r, self.stream, [b"n", b"%d" % i])
            i += 1
            time.sleep(self.every_s)

    def __enter__(self) -> _Producer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


@pytest.mark.parametrize("keep_last", [False, True])
def test_two_recorders_in_one_directory_lose_nothing_of_each_other(
    tmp_path: Path, redis_url: str, r: redis.Redis, keep_last: bool
) -> None:
    d = tmp_path / "d"
    _fill(r, "tb:1", 10_000)
    _fill(r, "ta:1", 300)
    # A rotates every second until its producer has been quiet for 3 s; B backfills
    # 10,000 entries into ~3 KB files meanwhile.
    a = _record("ta*", "-o", f"{d}/", "--from", "start", "--split-duration", "1s", "--until-idle", "3s", "--url", redis_url)
    try:
        wait_for(lambda: d.is_dir() and bool(numbered_files(d)), what="recorder A started")
        with _Producer(r, "ta:1"):
            time.sleep(1.0)
            more = ["--keep-last", "1s"] if keep_last else []
            b = _record("tb*", "-o", f"{d}/", "--from", "start", "--split-size", "3KiB", "--until-idle", "1s", *more, "--url", redis_url)
            _finish(b)
            time.sleep(1.0)
        _finish(a)
    finally:
        for proc in (a,):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    counts = _per_file_counts(d)
    assert counts[b"ta:1"] == r.xlen("ta:1")  # A lost nothing, with or without B's pruning
    if not keep_last:
        assert counts[b"tb:1"] == 10_000  # B lost nothing to A's rotation
    # two series, told apart by their headers; each reads whole with --series
    from xtape.recording.series import scan

    layout = scan(str(d), sorted(d.iterdir()))
    assert len(layout.runs) == 2 and not layout.foreign
    for run in layout.runs.values():
        names = {e.stream for e in Recording(d, series=run.id).entries()}
        assert names in ({b"ta:1"}, {b"tb:1"})
    line = error_line(invoke("cat", d), 2)
    assert "2 unrelated series" in line and "--series" in line
    for path in d.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600


def test_a_directory_continued_by_a_second_run_shows_the_gap_between_runs(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    cont = tmp_path / "cont"
    args = ("ct*", "-o", f"{cont}/", "--split-duration", "1s", "--duration", "2s", "--url", redis_url)
    r.execute_command("XADD", "ct:1", "*", "n", "first")
    with _Producer(r, "ct:1"):
        _finish(_record(*args))
        time.sleep(2.0)
        said = _finish(_record(*args, quiet=False))
    assert "continuing series" in said
    info = json.loads(ok(invoke("info", cont, "--json")).stdout)
    assert info["runs"] == 2
    assert [m["kind"] for m in info["markers"]].count("run") == 1
    [gap] = info["gaps"]
    recorded = [json.loads(line)["id"].encode() for line in ok(invoke("cat", cont)).stdout.splitlines()]
    held = [entry_id for entry_id, _ in xrange_raw(r, "ct:1")]
    # every entry the server held from the first recorded one to the last is either in
    # the recording or inside the gap (after, before)
    after, before = id_key(gap["after_id"].encode()), id_key(gap["before_id"].encode())
    span = [i for i in held if id_key(recorded[0]) <= id_key(i) <= id_key(recorded[-1])]
    missing = [i for i in span if i not in set(recorded)]
    assert missing and all(after < id_key(i) < before for i in missing)
    assert gap["stream"] == "ct:1" and gap["lost"] is None
    text = ok(invoke("info", cont, "--no-sparkline")).stdout
    assert "complete:  yes" not in text and "runs:      2" in text
    assert "after " + gap["after_id"] in text
    # the reader yields the same gap and the run marker, between the runs' entries
    rec = Recording(cont)
    assert [g.after_id for g in rec.gaps()] == [gap["after_id"].encode()]
    assert [m.kind for m in rec.markers()].count("run") == 1


def test_keep_last_deletes_no_foreign_file_and_reading_refuses_them(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    d = tmp_path / "d"
    d.mkdir()
    write_recording(d / "20250301.xtape", [(b"user", T0, 1, [b"k", b"v"])])
    write_recording(d / "notes.xtape", [(b"notes", T0 - 30_000, 1, [b"k", b"v"])])
    precious = write_recording(tmp_path / "precious.xtape", [(b"precious", T0, 1, [b"k", b"v"])])
    kept = precious.read_bytes()
    (d / "20250302.xtape").symlink_to("../precious.xtape")
    with _Producer(r, "fx:1", every_s=0.002):
        _finish(_record("fx*", "-o", f"{d}/", "--split-size", "1KiB", "--keep-last", "1s", "--duration", "4s", "--url", redis_url))
    assert (d / "20250301.xtape").is_file() and (d / "notes.xtape").is_file()
    assert os.readlink(d / "20250302.xtape") == "../precious.xtape"
    assert precious.read_bytes() == kept
    ours = [p for p in d.iterdir() if p.name not in ("20250301.xtape", "20250302.xtape", "notes.xtape")]
    assert ours  # (and pruned: they cover the last second or so, not 4 s)
    for command in (("cat",), ("replay", "--dry-run"), ("convert", "-o", tmp_path / "s.yaml")):
        line = error_line(invoke(*command[:1], d, *command[1:]), 2)
        for name in ("20250301.xtape", "20250302.xtape (a symbolic link)", "notes.xtape"):
            assert name in line
    listed = ok(invoke("info", d, "--no-sparkline")).stdout.splitlines()
    assert any(line.strip().startswith("notes.xtape") and " 1 entry" in line for line in listed)
    assert any("series " in line for line in listed)
    from xtape.recording.series import scan

    [series] = scan(str(d), sorted(d.iterdir())).runs
    out = ok(invoke("cat", d, "--series", series[:8])).stdout.splitlines()
    assert out and {json.loads(line)["stream"] for line in out} == {"fx:1"}


def test_info_of_a_folder_of_unrelated_recordings_lists_them_and_replay_refuses(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    write_recording(folder / "orders.xtape", [(b"orders", T0, 1, [b"k", b"v"]), (b"orders", T0 + 5, 1, [b"k", b"w"])])
    write_recording(folder / "prices.xtape", [(b"prices", T0 - 47_300, 1, [b"p", b"1"])])
    listed = ok(invoke("info", folder, "--no-sparkline")).stdout.splitlines()
    rows = [line for line in listed if line.startswith("  ")]
    assert len(rows) == 2
    assert rows[0].split()[:2] == ["orders.xtape", "2"] and rows[1].split()[:2] == ["prices.xtape", "1"]
    data = json.loads(ok(invoke("info", folder, "--json")).stdout)
    assert data["one_recording"] is False and len(data["recordings"]) == 2
    line = error_line(invoke("replay", folder, "--dry-run"), 2)
    assert "orders.xtape" in line and "prices.xtape" in line
    error_line(invoke("replay", str(folder / "*.xtape"), "--dry-run"), 2)
    from xtape.recording.series import NotOneRecording

    with pytest.raises(NotOneRecording):
        summarize(folder)


def test_an_empty_last_file_is_a_skipped_tail_not_the_end_of_the_recording(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    d = tmp_path / "d"
    _fill(r, "ef:1", 2000)
    with _Producer(r, "ef:1", every_s=0.002):
        _finish(_record("ef*", "-o", f"{d}/", "--from", "start", "--split-size", "1KiB", "--duration", "3s", "--url", redis_url))
    files = numbered_files(d)
    total = _per_file_counts(d)[b"ef:1"]
    assert len(files) > 1 and total > 2000
    (d / f"{files[-1][0] + 1:06d}.xtape").write_bytes(b"")  # a rotation that failed (disk full)
    info = json.loads(ok(invoke("info", d, "--json")).stdout)
    assert info["entries"] == total and info["skipped"] and info["files"] == len(files)
    assert "skipped:" in ok(invoke("info", d, "--no-sparkline")).stdout
    cat = ok(invoke("cat", d))
    assert len(cat.stdout.splitlines()) == total and "skipped" in cat.stderr
    dry = ok(invoke("replay", d, "--dry-run"))
    assert "skipped" in dry.stderr
    only = tmp_path / "only"
    only.mkdir()
    (only / "000001.xtape").write_bytes(b"")
    assert error_line(invoke("cat", only), 2).endswith("only files with none: 000001.xtape (empty)")


def test_pruning_skips_what_it_cannot_read_and_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(time, "time_ns", lambda: int(now[0] * 1e9))  # headers' created_ns
    d = tmp_path / "roll"
    first = SplitWriter(d, split_duration=10, now=lambda: now[0], flush_interval=0.0)
    for step in range(4):
        now[0] = step * 10.0 + 0.5
        first.write_entries(b"s", [[b"%d-0" % (step + 1), [b"k", b"v"]]], step)
    first.close()
    (d / "000005.xtape").write_bytes(b"")  # a failed rotation
    (d / "000006.xtape").write_bytes(b"\x86\xa5mag")  # a header cut short
    second = SplitWriter(d, split_duration=10, keep_last=25, now=lambda: now[0], flush_interval=0.0)
    assert second.after == first.series  # it continues the first run
    for step in range(4, 12):
        now[0] = step * 10.0 + 0.5
        second.write_entries(b"s", [[b"%d-0" % (step + 1), [b"k", b"v"]]], step)
    second.close()
    left = {p.name for p in d.iterdir()}
    assert {"000005.xtape", "000006.xtape"} <= left  # not provably ours: kept
    assert not {"000001.xtape", "000002.xtape", "000003.xtape", "000004.xtape"} & left
    assert len(left) == 2 + 4  # the last 25 s and more: 4 files of the second run
    rec = Recording(d)
    assert [e.id for e in rec.entries()] == [b"9-0", b"10-0", b"11-0", b"12-0"]
    assert [p.name for p, _ in rec.skipped] == ["000005.xtape", "000006.xtape"]


def test_a_taken_name_is_skipped_never_opened(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "000002.xtape").symlink_to(tmp_path / "victim.xtape")  # dangling
    writer = SplitWriter(d, split_size=1, flush_interval=0.0)
    for i in range(3):
        writer.write_entries(b"s", [[b"%d-0" % (i + 1), [b"k", b"v"]]], i)
    writer.close()
    assert not (tmp_path / "victim.xtape").exists()
    assert [p.name for p in writer.created] == ["000001.xtape", "000003.xtape", "000004.xtape"]
    assert [(d / "000004.xtape").stat().st_mode & 0o777] == [0o600]
    assert error_line(invoke("cat", d), 2).endswith("name a file")
    assert [e.id for e in Recording(d, series=writer.series).entries()] == [b"1-0", b"2-0", b"3-0"]
    dry = ok(invoke("replay", d, "--series", writer.series[:8], "--dry-run", "-v"))
    assert dry.stdout.count("XADD") == 3 or "scheduled 3 events" in dry.stderr
    ok(invoke("convert", d, "--series", writer.series[:8], "-o", tmp_path / "s.yaml"))
    assert (tmp_path / "s.yaml").read_text().count("- stream: s") == 3


def test_a_directory_written_before_series_ids_still_reads(tmp_path: Path) -> None:
    d = tmp_path / "old"
    d.mkdir()
    for n in (1, 2, 3):
        with RecordingWriter(d / f"{n:06d}.xtape", options={"split_size": 1000}) as w:
            w.write_entries(b"s", [[b"%d-0" % n, [b"k", b"v"]]], n)
    assert [e.id for e in Recording(d).entries()] == [b"1-0", b"2-0", b"3-0"]
    assert summarize(d).files == 3
    # a recorder continuing it names the legacy series it follows, and reads as one
    with SplitWriter(d, split_size=1, options={"split_size": 1}, flush_interval=0.0) as w:
        w.write_entries(b"s", [[b"9-0", [b"k", b"v"]]], 9)
    assert w.after == "legacy"
    rec = Recording(d)
    assert [e.id for e in rec.entries()] == [b"1-0", b"2-0", b"3-0", b"9-0"]
    assert [(g.after_id, g.before_id) for g in rec.gaps()] == [(b"3-0", b"9-0")]


def test_a_series_tag_round_trips_and_a_bad_one_is_damage(tmp_path: Path) -> None:
    from xtape.recording.records import SeriesTag

    path = tmp_path / "p.xtape"
    RecordingWriter(path, series=SeriesTag("abc", 3, "def")).close()
    assert Recording(path).header.series == SeriesTag("abc", 3, "def")
    error = invoke("info", _with_series(tmp_path / "bad.xtape", {"id": "", "part": 0}))
    assert "series" in error_line(error, 2)


def _with_series(path: Path, series: object) -> Path:
    import msgpack

    header = {"magic": "xtape", "version": 1, "created_ns": 1, "tool": "t", "source": {}, "options": {}, "series": series}
    path.write_bytes(msgpack.packb(header))
    return path


def test_a_keep_last_recorder_prunes_past_a_failed_rotation(
    tmp_path: Path, redis_url: str, r: redis.Redis
) -> None:
    d = tmp_path / "d"
    args = ("pk*", "-o", f"{d}/", "--split-size", "1KiB", "--url", redis_url)
    with _Producer(r, "pk:1", every_s=0.002):
        _finish(_record(*args, "--duration", "2s"))
        first = [p for _, p in numbered_files(d)]
        empty = d / f"{int(first[-1].stem) + 1:06d}.xtape"
        empty.write_bytes(b"")  # a rotation that failed (disk full)
        time.sleep(1.5)
        _finish(_record(*args, "--duration", "3s", "--keep-last", "1s"))
    assert len(first) > 1
    assert empty.exists()  # not provably a file of the series: kept
    assert not [p for p in first if p.exists()]  # the first run's files, all pruned
    info = json.loads(ok(invoke("info", d, "--json")).stdout)
    assert info["skipped"] and info["entries"] > 0


def test_a_recorder_starting_while_another_rotates_never_continues_its_running_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = tmp_path / "d"
    a = SplitWriter(d, split_size=1, flush_interval=0.0)
    a.write_entries(b"s", [[b"1-0", [b"k", b"v"]]], 1)
    started: list[SplitWriter] = []
    close = RecordingWriter.close

    def close_then_start_another(writer: RecordingWriter) -> None:
        close(writer)
        if not started:  # B starts right as A's first file is closed by its rotation
            started.append(SplitWriter(d, split_size=1, flush_interval=0.0))

    monkeypatch.setattr(RecordingWriter, "close", close_then_start_another)
    a.write_entries(b"s", [[b"2-0", [b"k", b"v"]]], 2)  # rotates
    monkeypatch.undo()
    [b] = started
    b.close()
    a.close()
    assert b.after is None  # A was running: B is a series of its own
