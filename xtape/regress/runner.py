"""Running regression cases: what ``xtape test`` does for each case file.

    result = run_case(load_case("matcher.yaml"), command=["python", "-m", "matcher"])
    print(result.summary()); result.status       # same / differs / updated / error / invalid

For each case: a throwaway ``redis-server`` (unless ``url`` is given), the service
started with ``REDIS_URL`` set and waited on until ready, the input replayed while the
outputs are captured, the service stopped, the capture diffed against the golden
recording (or written over it with ``update``).
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from xtape.capture.groups import delete_streams, read_streams
from xtape.diff import DiffResult, diff_recordings
from xtape.errors import (
    CaseError,
    InputError,
    RuntimeFailure,
    ServiceFailed,
    UsageError,
    XtapeError,
)
from xtape.regress.capture import CaptureResult, replay_and_capture
from xtape.regress.case import Readiness, RegressionCase, ServiceSpec, actual_path, load_case
from xtape.regress.findings import escape_text, leftover_lines, never_appeared
from xtape.regress.golden import count_entries, entries_by_stream, read_meta, write_golden
from xtape.regress.latency import Latency, measure
from xtape.regress.latency import check as latency_check
from xtape.regress.noise import apply_noise, find_noise, shown
from xtape.regress.service import OUTPUT_TAIL, Service
from xtape.replay import Pacing, open_source, replay
from xtape.report.diff_text import render_text, strip_ansi
from xtape.server import RedisServer
from xtape.timeline import display_name
from xtape.units import plural

Say = Callable[[str], None]

STATUSES = ("same", "differs", "updated", "error", "invalid")
#: How many times ``--update`` runs a case to tell noise from behaviour.
DEFAULT_RUNS = 2


@dataclass
class CaseResult:
    """The outcome of one case. ``status`` is one of :data:`STATUSES`."""

    path: Path
    name: str
    status: str
    diff: DiffResult | None = None
    capture: CaptureResult | None = None
    #: What went wrong (error/invalid), or notes (a capture cut by its timeout...).
    message: str = ""
    #: The end of what the service printed (kept to show on failure).
    service_output: str = ""
    #: How the service's stop went, when it did not stop on SIGTERM (also in ``message``).
    service_note: str = ""
    #: The captured recording, kept beside the golden when the case differs.
    actual: Path | None = None
    duration_s: float = 0.0
    #: Failures besides the diff (inputs left unacknowledged, latency above its guard),
    #: as lines: each first line is a headline, indented lines detail it.
    findings: list[str] = field(default_factory=list)
    #: Latency per output stream (ms), measured in this run.
    latency: dict[bytes, Latency] = field(default_factory=dict)
    #: The noise found by ``--update`` (printed), or applied from the golden.
    noise: list[str] = field(default_factory=list)
    #: Where all the service printed was saved (a failing case).
    service_log: Path | None = None

    @property
    def passed(self) -> bool:
        return self.status in ("same", "updated")

    @property
    def exit_code(self) -> int:
        """0 same/updated, 1 differs or failed, 2 invalid input."""
        return {"same": 0, "updated": 0, "invalid": 2}.get(self.status, 1)

    def summary(self) -> str:
        """One line: ``same    matcher (case.yaml): 10 entries on 2 streams, 1.3 s``."""
        status = self.status.upper() if not self.passed else self.status
        head = f"{status:<8} {escape_text(self.name)} ({escape_text(str(self.path))})"
        if self.status == "invalid" or self.status == "error":
            return f"{head}: {self.message}"
        if self.status == "updated":
            entries = self.capture.entries if self.capture else 0
            text = f"{head}: golden rewritten ({plural(entries, 'entry', 'entries')}), {self.duration_s:.1f} s"
            return text + (f" [{self.message}]" if self.message else "")
        assert self.diff is not None
        totals = self.diff.totals()
        streams = len(self.diff.streams)
        if self.status == "same":
            text = f"{head}: {plural(totals['expected'], 'entry', 'entries')} on {plural(streams, 'stream')}, {self.duration_s:.1f} s"
        else:
            parts = [
                f"{display_name(s.name)}: "
                + ", ".join(f"{n} {k}" for k in ("changed", "moved", "missing", "extra") if (n := getattr(s, k)))
                for s in self.diff.streams
                if not s.is_same
            ]
            parts.extend(line for line in self.findings if not line.startswith(" "))
            text = f"{head}: " + "; ".join(parts)
            if self.actual is not None:
                text += f" (actual kept in {self.actual})"
        return text + (f" [{self.message}]" if self.message else "")

    def figures(self) -> list[str]:
        """Lines printed under the summary: the latency per output stream, the noise."""
        out = [f"  latency {display_name(name)}: {lat}" for name, lat in sorted(self.latency.items())]
        if self.noise and self.status == "updated":
            out.append("  noise (ignored from now on): " + ", ".join(self.noise))
        return out

    def details(self, color: bool = False) -> str:
        """What a user reads under a failing summary: the diff, the findings and the
        service's output (colour codes stripped; all of it saved beside the capture)."""
        out: list[str] = []
        if self.diff is not None and not self.diff.same:
            out.append(render_text(self.diff, color=color).rstrip("\n"))
        if self.findings:
            out.append("\n".join(self.findings))
        if self.service_output and not self.passed:
            where = f" (all of it in {self.service_log})" if self.service_log else ""
            text = strip_ansi(self.service_output)
            if len(text) > OUTPUT_TAIL:
                text = "..." + text[-OUTPUT_TAIL:]
                where = f" (the end; all of it in {self.service_log})" if self.service_log else ""
            out.append(f"--- service output{where} ---\n" + text.rstrip("\n"))
        return "\n".join(out)


def service_log_path(golden: Path) -> Path:
    """Where the service's output of a failing case is kept: ``golden.service.log``."""
    return golden.with_name(f"{golden.stem}.service.log")


def run_cases(
    paths: Sequence[str | Path],
    *,
    command: Sequence[str] | None = None,
    url: str | None = None,
    update: bool = False,
    say: Say | None = None,
    stop_event: threading.Event | None = None,
    runs: int = DEFAULT_RUNS,
    noise: bool = True,
    codecs: Sequence[tuple[str, str]] = (),
    allow_outside: bool = False,
) -> list[CaseResult]:
    """Load and run every case file (an invalid one is reported, not run; a golden
    outside its case file's folder tree is invalid unless ``allow_outside``). ``codecs``
    (``--codec``) win over each case's ``codecs:``."""
    results: list[CaseResult] = []
    for path in paths:
        if stop_event is not None and stop_event.is_set():
            break
        try:
            case = load_case(path, allow_outside=allow_outside)
        except InputError as exc:
            result = CaseResult(Path(path), Path(path).stem, "invalid", message=str(exc))
        else:
            if codecs:
                case = replace(case, rules=case.rules.replace(codecs=(*codecs, *case.rules.codecs)))
            result = run_case(
                case, command=command, url=url, update=update, stop_event=stop_event, runs=runs, noise=noise
            )
        results.append(result)
        if say is not None:
            say(result.summary())
            for line in result.figures():
                say(line)
    return results


def run_case(
    case: RegressionCase,
    *,
    command: Sequence[str] | None = None,
    url: str | None = None,
    update: bool = False,
    stop_event: threading.Event | None = None,
    warn: Callable[[str], None] | None = None,
    runs: int = DEFAULT_RUNS,
    noise: bool = True,
) -> CaseResult:
    """Run one case (see the module docstring). ``command`` replaces the case's
    ``service.command``; with neither, no service is started (one already runs against
    ``url``). With ``update`` the case runs ``runs`` times and what differed between
    the runs is stored with the golden as noise (``noise=False``: none is found or
    applied). Failures of the input are ``invalid``, of the world ``error``: both are
    in the result, never raised (KeyboardInterrupt aside)."""
    started = time.monotonic()
    result = CaseResult(case.path, case.name, "error")
    try:
        _check(case, update, command)
        if runs < 1:
            raise UsageError(f"--runs must be at least 1, not {runs}")
        job = _Job(case, command, url, stop_event, warn, input_streams(case))
        with tempfile.TemporaryDirectory(prefix="xtape-test-") as tmp:
            if update:
                _update(job, Path(tmp), result, runs, noise)
            else:
                _compare(job, Path(tmp), result, noise)
    except InputError as exc:
        result.status, result.message = "invalid", str(exc)
    except ServiceFailed as exc:
        result.status, result.message = "error", str(exc)
        result.service_output = exc.output or result.service_output
    except (RuntimeFailure, XtapeError) as exc:
        result.status, result.message = "error", str(exc)
    if result.status == "error" and stop_event is not None and stop_event.is_set():
        # After a Ctrl-C, whatever failed (the server or service it reached as they
        # started, a capture cut short) failed because of it.
        result.message = "interrupted"
    if result.service_note:
        result.message = "; ".join(filter(None, (result.message, result.service_note)))
    if not result.passed and result.service_output and result.status != "invalid":
        result.service_log = _save_output(case.golden, result)
    result.duration_s = time.monotonic() - started
    return result


@dataclass(frozen=True)
class _Job:
    """What every run of one case shares."""

    case: RegressionCase
    command: Sequence[str] | None
    url: str | None
    stop_event: threading.Event | None
    warn: Callable[[str], None] | None
    inputs: tuple[str, ...]


def _compare(job: _Job, tmp: Path, result: CaseResult, noise: bool) -> None:
    case = job.case
    meta = read_meta(case.golden)
    rules = case.rules
    if noise and meta.get("noise"):
        rules = apply_noise(rules, meta["noise"])
        result.noise = shown(meta["noise"])
    at_least = count_entries(case.golden) if case.expect is None else None
    actual = tmp / "actual.xtape"
    _run(job, actual, result, at_least)
    result.diff = diff_recordings(case.golden, actual, rules)
    result.diff.key_by = case.correlate_by
    golden_latency = {
        k.encode("utf-8", "surrogateescape"): Latency.from_dict(v) for k, v in (meta.get("latency") or {}).items()
    }
    result.findings.extend(latency_check(result.latency, case.latency, golden_latency))
    _missing_outputs(case, actual, result)
    kept = actual_path(case.golden)
    if result.diff.same and not result.findings:
        result.status = "same"
        kept.unlink(missing_ok=True)
        service_log_path(case.golden).unlink(missing_ok=True)
    else:
        result.status = "differs"
        _replace(actual, kept)
        result.actual = kept
        result.diff.actual = str(kept)


def _update(job: _Job, tmp: Path, result: CaseResult, runs: int, noise: bool) -> None:
    case = job.case
    paths: list[Path] = []
    figures: dict[bytes, Latency] = {}
    count = runs if noise else 1
    for i in range(count):
        path = tmp / f"actual-{i + 1}.xtape"
        _run(job, path, result, None)
        if i == 0:
            figures = dict(result.latency)
            first = result.capture
        if result.findings:
            result.status = "error"
            result.message = "the golden was not rewritten: " + "; ".join(
                line for line in result.findings if not line.startswith(" ")
            )
            return
        paths.append(path)
    result.capture = first
    entries = first.entries if first is not None else 0
    if entries == 0 and not case.allow_empty:
        silent = ", ".join(case.outputs)
        raise RuntimeFailure(
            f"refusing to write a golden with no entries: the outputs {silent} never appeared "
            "(is the service running? say allow_empty: true in the case if no output is right)"
        )
    unresolved: set[str] = set()
    found = find_noise(paths, case.rules, unresolved) if noise and len(paths) > 1 else []
    result.noise = shown(found)
    if unresolved:
        result.message = (
            "not taken as noise (a long value of which only a part differed between the runs: "
            f"ignoring it would ignore the payload; a codec decodes it): {', '.join(sorted(unresolved))}"
        )
    result.latency = figures
    meta: dict[str, object] = {
        "runs": len(paths),
        "noise": [list(n) for n in found],
        "latency": {k.decode("utf-8", "surrogateescape"): v.to_dict() for k, v in figures.items()},
    }
    tmp_golden = tmp / "golden.xtape"
    write_golden(paths[0], tmp_golden, meta)
    _replace(tmp_golden, case.golden)
    result.status = "updated"


def _missing_outputs(case: RegressionCase, actual: Path, result: CaseResult) -> None:
    seen = [s.name for s in result.diff.streams if s.in_actual] if result.diff is not None else []
    silent = never_appeared(case.outputs, seen)
    if silent:
        note = f"never appeared: {', '.join(escape_text(s) for s in silent)}"
        result.message = f"{result.message}; {note}" if result.message else note


def input_streams(case: RegressionCase) -> tuple[str, ...]:
    """The streams the case's input publishes to (after its map and prefix), from a
    dry run of it."""
    options = replace(case.options, dry_run=True, pacing=Pacing.max_speed(), loop=False)
    src = open_source(case.source, options, variables=dict(case.variables) or None, seed=case.seed, time_base=case.time_base)
    report = replay(src, None, options, out=io.StringIO())
    return tuple(report.streams)


def _check(case: RegressionCase, update: bool, command: Sequence[str] | None) -> None:
    if case.ready is not None and case.service is None and not command:
        raise CaseError(
            str(case.path), None,
            "ready: has nothing to wait for: the case has no service: and no command was given "
            "after -- (give one, or drop ready:)",
        )  # fmt: skip
    if update:
        if case.golden.resolve() == case.source.resolve():
            raise CaseError(
                str(case.path), None,
                f"the golden file {case.golden} is also the input: --update would replace the "
                "inputs with the outputs; keep the input in its own file (xtape convert --stream)",
            )  # fmt: skip
    elif not case.golden.is_file():
        raise CaseError(
            str(case.path), None,
            f"the golden recording {case.golden} does not exist yet: run xtape test --update to write it",
        )  # fmt: skip


def _run(job: _Job, actual: Path, result: CaseResult, at_least: int | None) -> CaptureResult:
    case, command, url, inputs = job.case, job.command, job.url, job.inputs
    spec = case.service
    if command:
        spec = ServiceSpec(
            tuple(command), Path.cwd(), spec.env if spec else {}, spec.grace if spec else 5.0,
            spec.url_env if spec else None,
        )  # fmt: skip
    result.findings = []
    with ExitStack() as stack:
        if url is None:
            url = stack.enter_context(RedisServer()).url
        else:
            delete_streams(url, inputs, case.outputs)
        service: Service | None = None
        if spec is not None:
            service = Service(
                spec.command, url, cwd=spec.cwd, env=spec.env, grace=spec.grace, url_env=spec.url_env
            )
            stack.callback(service.close)
            service.start()
            stack.callback(service.stop)
        try:
            if service is not None:
                ready = case.ready or Readiness()
                service.wait_ready(ready.with_inputs(inputs), job.stop_event.is_set if job.stop_event is not None else None)
            capture = replay_and_capture(
                case.source,
                case.outputs,
                actual,
                url=url,
                options=case.options,
                variables=dict(case.variables) or None,
                seed=case.seed,
                time_base=case.time_base,
                settle=case.settle,
                expect=case.expect,
                timeout=case.timeout,
                stop_event=job.stop_event,
                warn=job.warn,
                groups=True,
                at_least=at_least,
            )
            result.capture = capture
            notes = []
            if capture.stop_reason == "timeout":
                notes.append(f"the capture stopped at its timeout of {case.timeout:g} s")
            if capture.expect is not None and capture.entries < capture.expect:
                notes.append(f"expected {capture.expect} entries, captured {capture.entries}")
            if service is not None and not service.running:
                code = service.proc.returncode if service.proc else None
                notes.append(f"the service exited with code {code} during the run")
            if capture.replay.interrupted or capture.stop_reason == "stopped":
                raise RuntimeFailure("interrupted")
            result.message = "; ".join(notes)
            published = sum(capture.inputs.values()) or None
            for left in capture.leftovers:
                result.findings.extend(leftover_lines(left, capture.inputs.get(display_name(left.stream), published)))
            result.latency = measure(
                read_streams(url, inputs), entries_by_stream(actual), case.correlate_by, case.rules.codecs
            )
        except KeyboardInterrupt:  # a second Ctrl-C: leave now, without the grace
            if service is not None:
                service.stop(grace=0)
            raise
        finally:
            if service is not None:
                service.stop()
                result.service_output = service.output
                result.service_note = service.stop_note
    return capture


def _save_output(golden: Path, result: CaseResult) -> Path | None:
    path = service_log_path(golden)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(result.service_output, encoding="utf-8")
    except OSError:
        return None
    return path


def _replace(src: Path, dst: Path) -> None:
    """Copy ``src`` over ``dst`` atomically (a reader never sees half a file)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        # mkstemp makes the file private; a golden is an ordinary file of the project.
        os.chmod(tmp, dst.stat().st_mode & 0o777 if dst.exists() else 0o666 & ~_umask())
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
