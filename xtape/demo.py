"""``xtape demo``: the whole loop, record -> convert -> replay, on a throwaway server.

1. start a ``redis-server`` on a free port;
2. start the recorder on ``prod:*`` and a small consumer that shows what arrives;
3. play the example scenarios as the "production" producer into ``prod:*``;
4. stop the recorder, summarize the recording, convert it to a scenario YAML;
5. replay that scenario faster into a second namespace (``replay:``);
6. check that every stream arrived byte-identical, and show the timing report;
7. run the matcher example's regression case (``xtape test``): the service passes, and a
   copy of it with a seeded bug (a rejection rule changed) fails, naming the field.

A ``stop_event`` (the CLI sets it on Ctrl-C) ends the demo at the next safe point,
within a fraction of a second at any step: the server and the service run in process
groups of their own, so they are still there to be stopped in order and their files
removed.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from xtape.capture import RecordOptions, StartSpec, record
from xtape.connection import command, connect
from xtape.convert import convert
from xtape.errors import RuntimeFailure, UsageError
from xtape.recording import summarize
from xtape.replay import Pacing, RedisPublisher, ReplayOptions, replay_through
from xtape.scenario import ScenarioSource
from xtape.server import RedisServer
from xtape.transform import Transform
from xtape.units import plural

Say = Callable[[str], None]

#: The example scenarios the demo plays as "production" traffic, and their speeds.
PRODUCTION = (("trade-and-liquidate.yaml", 1.0), ("high-frequency-trading.yaml", 2.0))
SOURCE_PREFIX = "prod:"
TARGET_PREFIX = "replay:"


@dataclass
class DemoResult:
    """What the demo did and whether the replay matched the source."""

    produced: int = 0
    recorded: int = 0
    streams_checked: int = 0
    mismatches: list[str] = field(default_factory=list)
    #: The matcher's regression case passed, and failed against the seeded bug.
    regression_passed: bool = False
    bug_caught: bool = False
    #: Stopped early by the caller's ``stop_event``.
    interrupted: bool = False

    @property
    def replay_ok(self) -> bool:
        """Steps 1-6: everything recorded, and the replay byte-identical to its source."""
        return self.recorded == self.produced and not self.mismatches and self.streams_checked > 0

    @property
    def ok(self) -> bool:
        return self.replay_ok and self.regression_passed and self.bug_caught


#: The example scenarios, shipped as package data. The repository's ``scenarios/`` holds
#: the same files for people to read and copy (a test keeps the two identical).
EXAMPLES = Path(__file__).resolve().parent / "data" / "scenarios"
#: The regression example (service, inputs, golden recording, case), as package data;
#: the repository's ``examples/matcher/`` holds the same files.
MATCHER = Path(__file__).resolve().parent / "data" / "examples" / "matcher"
#: The seeded bug of step 7: the quantity limit of a rejection rule changed.
MATCHER_BUG = ("MAX_QTY = Decimal(1000)", "MAX_QTY = Decimal(2000)")
#: The seed of the example scenarios' generators, so every demo plays the same events.
SEED = 7


def run_demo(
    say: Say,
    *,
    scenarios_dir: Path | None = None,
    speed: float = 4.0,
    stop_event: threading.Event | None = None,
) -> DemoResult:
    """Run the demo, telling the story through ``say``; returns what it found (with
    ``interrupted`` set, and the later steps not run, once ``stop_event`` is set)."""
    stop = stop_event or threading.Event()
    folder = scenarios_dir or EXAMPLES
    sources = [(folder / name, pace) for name, pace in PRODUCTION]
    missing = [p.name for p, _ in sources if not p.is_file()]
    if missing and scenarios_dir is not None:  # the user's folder: invalid input
        raise UsageError(
            f"--scenarios {scenarios_dir}: no {' or '.join(missing)} in it (the demo plays "
            f"{' and '.join(name for name, _ in PRODUCTION)} from the folder)"
        )
    if missing:
        raise RuntimeFailure(f"the demo's example scenarios are missing from {folder}: {', '.join(missing)}")
    result = DemoResult()
    with tempfile.TemporaryDirectory(prefix="xtape-demo-") as tmp, RedisServer() as server:
        workdir = Path(tmp)
        say(f"1. started a throwaway redis-server at {server.url}")
        steps: list[Callable[[], None]] = [
            lambda: _produce_and_record(say, server.url, sources, workdir, result, stop),
            lambda: _convert_and_replay(say, server.url, workdir, speed, result, stop),
            lambda: _compare(say, server.url, result),
            lambda: _regression(say, workdir, result, stop),
        ]
        for step in steps:
            if stop.is_set():
                break
            step()
        result.interrupted = stop.is_set()
    return result


def _produce_and_record(
    say: Say,
    url: str,
    sources: list[tuple[Path, float]],
    workdir: Path,
    result: DemoResult,
    user_stop: threading.Event,
) -> None:
    rec_path = workdir / "production.xtape"
    start_ms = time.time_ns() // 1_000_000
    options = RecordOptions(
        patterns=[f"{SOURCE_PREFIX}*"],
        start=StartSpec("time", "demo start", ms=start_ms),
        scan_interval=0.1,
    )
    stop = threading.Event()
    stats_box: list[object] = []
    errors: list[BaseException] = []

    def run_recorder() -> None:
        try:
            stats_box.append(record(url, rec_path, options, stop_event=stop))
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    recorder = threading.Thread(target=run_recorder, name="xtape-demo-recorder", daemon=True)
    recorder.start()
    consumer = _Consumer(url, say)
    consumer.start()
    say(f"2. recording '{SOURCE_PREFIX}*' into {rec_path.name}; a consumer shows what arrives:")
    try:
        for path, pace in sources:
            say(f"   -- production: playing {path.name} at {pace:g}x into {SOURCE_PREFIX}*")
            consumer.verbose = pace <= 1.0
            with RedisPublisher(url, stop_event=user_stop) as publisher:
                report = replay_through(
                    ScenarioSource(path, seed=SEED),
                    publisher,
                    ReplayOptions(pacing=Pacing.speed(pace), transform=Transform(prefix=SOURCE_PREFIX)),
                    stop_event=user_stop,
                )
            result.produced += report.published
            if report.interrupted:
                return
            consumer.wait_for(result.produced, user_stop)
            if not consumer.verbose:
                say(f"   ({plural(report.published, 'entry', 'entries')} arrived on {plural(len(report.streams), 'stream')})")
        _wait_recorded(rec_path, user_stop, result.produced)
    finally:
        stop.set()
        recorder.join(timeout=10)
        consumer.stop()
    if errors:
        raise errors[0]
    info = summarize(rec_path)
    result.recorded = info.entries
    say(
        f"3. recorded {plural(info.entries, 'entry', 'entries')} from {plural(len(info.streams), 'stream')} over "
        f"{info.duration_s:.1f} s ({info.file_size} bytes, complete: {info.complete})"
    )


def _wait_recorded(path: Path, user_stop: threading.Event, expected: int, timeout: float = 10.0) -> None:
    """Give the recorder until it has written what was produced (it flushes every 200 ms)."""
    from xtape.recording import Recording

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not user_stop.is_set():
        if path.exists() and sum(1 for _ in Recording(path).entries()) >= expected:
            return
        user_stop.wait(0.1)


def _convert_and_replay(
    say: Say, url: str, workdir: Path, speed: float, result: DemoResult, user_stop: threading.Event
) -> None:
    rec_path = workdir / "production.xtape"
    yaml_path = workdir / "production.yaml"
    converted = convert(rec_path, yaml_path)
    text = yaml_path.read_text(encoding="utf-8")
    say(f"4. converted the recording into {yaml_path.name} ({converted.events} events); it starts:")
    for line in text.splitlines()[:14]:
        say(f"   | {line}")
    say(f"5. replaying {yaml_path.name} at {speed:g}x into {TARGET_PREFIX}*")
    with RedisPublisher(url, stop_event=user_stop) as publisher:
        report = replay_through(
            ScenarioSource(yaml_path),
            publisher,
            ReplayOptions(pacing=Pacing.speed(speed), transform=Transform(prefix=TARGET_PREFIX)),
            stop_event=user_stop,
        )
    if report.interrupted:
        return
    say(
        f"   published {plural(report.published, 'event')} to {plural(len(report.streams), 'stream')} in "
        f"{report.duration_s:.3f} s ({report.pacing}), errors: {report.errors}"
    )
    if report.lateness is not None:
        lat = report.lateness
        say(
            f"   lateness vs schedule: p50 {lat.p50_ms:.2f} ms, p99 {lat.p99_ms:.2f} ms, "
            f"max {lat.max_ms:.2f} ms"
        )


def _compare(say: Say, url: str, result: DemoResult) -> None:
    client = connect(url)
    try:
        sources = sorted(client.scan_iter(match=f"{SOURCE_PREFIX}*", _type="stream"))
        for name in sources:
            target = TARGET_PREFIX.encode() + name
            want = [entry[1] for entry in command(client, "XRANGE", name, "-", "+")]
            got = [entry[1] for entry in command(client, "XRANGE", target, "-", "+")]
            result.streams_checked += 1
            if want != got:
                result.mismatches.append(
                    f"{name.decode(errors='replace')}: {len(want)} entries, "
                    f"{target.decode(errors='replace')}: {len(got)} (fields differ)"
                )
    finally:
        client.close()
    if result.replay_ok:
        say(
            f"6. all {result.streams_checked} streams match byte for byte: "
            f"{SOURCE_PREFIX}* == {TARGET_PREFIX}{SOURCE_PREFIX}* ({result.produced} entries)"
        )
    else:
        say(f"6. MISMATCH: {'; '.join(result.mismatches) or 'recorded != produced'}")


class _Consumer(threading.Thread):
    """Tails ``prod:*`` like a service under test would, printing what arrives."""

    def __init__(self, url: str, say: Say) -> None:
        super().__init__(name="xtape-demo-consumer", daemon=True)
        self.client = connect(url, socket_timeout=5.0)
        self.say = say
        self.verbose = True
        self.seen = 0
        self.cursors: dict[bytes, bytes] = {}
        self._stop_flag = threading.Event()
        self._cond = threading.Condition()

    def run(self) -> None:
        try:
            while not self._stop_flag.is_set():
                for name in self.client.scan_iter(match=f"{SOURCE_PREFIX}*", _type="stream"):
                    self.cursors.setdefault(name, b"0-0")
                if not self.cursors:
                    time.sleep(0.05)
                    continue
                reply = command(
                    self.client,
                    "XREAD", "BLOCK", 100, "STREAMS", *self.cursors, *self.cursors.values()
                )
                for name, entries in reply or []:
                    for entry_id, flat in entries:
                        self.cursors[name] = entry_id
                        if self.verbose:
                            self._show(name, flat)
                    with self._cond:
                        self.seen += len(entries)
                        self._cond.notify_all()
        except redis.RedisError:
            return
        finally:
            self.client.close()

    def _show(self, name: bytes, flat: list[bytes]) -> None:
        pairs = " ".join(
            f"{flat[i].decode(errors='replace')}={flat[i + 1].decode(errors='replace')}"
            for i in range(0, len(flat), 2)
        )
        if len(pairs) > 90:
            pairs = pairs[:87] + "..."
        self.say(f"   <- {name.decode(errors='replace'):<26} {pairs}")

    def wait_for(self, count: int, user_stop: threading.Event, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.seen < count and not user_stop.is_set() and time.monotonic() < deadline:
                self._cond.wait(0.05)

    def stop(self) -> None:
        self._stop_flag.set()
        self.join(timeout=5)


def _regression(say: Say, workdir: Path, result: DemoResult, user_stop: threading.Event) -> None:
    """Step 7: the matcher's case, against the service and against a copy with a bug."""
    from xtape.regress import load_case, run_case

    say(
        "7. regression check (xtape test): replay orders into the matcher service, capture "
        "order.accepted/order.rejected, diff against the golden recording"
    )
    # From a copy: a differing run keeps its capture beside the golden file.
    example = workdir / "matcher"
    shutil.copytree(MATCHER, example, ignore=shutil.ignore_patterns("__pycache__", "*.actual.xtape"))
    say(f"   $ xtape test {example / 'case.yaml'}    (a copy of {MATCHER})")
    good = run_case(load_case(example / "case.yaml"), stop_event=user_stop)
    if user_stop.is_set():
        return
    say(f"   {good.summary()}")
    result.regression_passed = good.status == "same"
    if not result.regression_passed:
        say(good.details() or good.message)
    bugged = workdir / "matcher-bugged"
    shutil.copytree(example, bugged)
    service = bugged / "service.py"
    text = service.read_text(encoding="utf-8")
    if MATCHER_BUG[0] not in text:
        raise RuntimeFailure(f"{service}: the line to seed the bug into is missing")
    service.write_text(text.replace(*MATCHER_BUG), encoding="utf-8")
    say(f"   ... and against a copy with a seeded bug ({MATCHER_BUG[0]} -> {MATCHER_BUG[1]}):")
    bad = run_case(load_case(bugged / "case.yaml"), command=[sys.executable, str(service)], stop_event=user_stop)
    if user_stop.is_set():
        return
    say(f"   {bad.summary()}")
    if bad.diff is not None:
        from xtape.report.diff_text import render_text

        for line in render_text(bad.diff).splitlines():
            if line.strip() and not line.startswith(("expected:", "actual:", "rules:")):
                say(f"   | {line}")
    result.bug_caught = bad.status == "differs"
