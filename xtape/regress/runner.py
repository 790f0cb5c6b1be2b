"""Running regression cases: what ``xtape test`` does for each case file.

    result = run_case(load_case("matcher.yaml"), command=["python", "-m", "matcher"])
    print(result.summary()); result.status       # same / differs / updated / error / invalid

For each case: a throwaway ``redis-server`` (unless ``url`` is given), the service
started with ``REDIS_URL`` set and waited on until ready, the input replayed while the
outputs are captured, the service stopped, the capture diffed against the golden
recording (or written over it with ``update``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from xtape.diff import DiffResult, diff_recordings
from xtape.errors import CaseError, InputError, RuntimeFailure, ServiceFailed, XtapeError
from xtape.regress.capture import CaptureResult, replay_and_capture
from xtape.regress.case import RegressionCase, ServiceSpec, actual_path, load_case
from xtape.regress.service import Service
from xtape.server import RedisServer
from xtape.units import plural

Say = Callable[[str], None]

STATUSES = ("same", "differs", "updated", "error", "invalid")


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

    @property
    def passed(self) -> bool:
        return self.status in ("same", "updated")

    @property
    def exit_code(self) -> int:
        """0 same/updated, 1 differs or failed, 2 invalid input."""
        return {"same": 0, "updated": 0, "invalid": 2}.get(self.status, 1)

    def summary(self) -> str:
        """One line: ``same    matcher (case.yaml): 10 entries on 2 streams, 1.3 s``."""
        head = f"{self.status.upper() if not self.passed else self.status:<8} {self.name} ({self.path})"
        if self.status == "invalid" or self.status == "error":
            return f"{head}: {self.message}"
        if self.status == "updated":
            entries = self.capture.entries if self.capture else 0
            return f"{head}: golden rewritten ({plural(entries, 'entry', 'entries')}), {self.duration_s:.1f} s"
        assert self.diff is not None
        totals = self.diff.totals()
        streams = len(self.diff.streams)
        if self.status == "same":
            text = f"{head}: {plural(totals['expected'], 'entry', 'entries')} on {plural(streams, 'stream')}, {self.duration_s:.1f} s"
        else:
            parts = [
                f"{s.name.decode('utf-8', 'backslashreplace')}: "
                + ", ".join(f"{n} {k}" for k in ("changed", "missing", "extra") if (n := getattr(s, k)))
                for s in self.diff.streams
                if not s.is_same
            ]
            text = f"{head}: " + "; ".join(parts)
            if self.actual is not None:
                text += f" (actual kept in {self.actual})"
        return text + (f" [{self.message}]" if self.message else "")

    def details(self, color: bool = False) -> str:
        """What a user reads under a failing summary: the diff and the service's output."""
        out: list[str] = []
        if self.diff is not None and not self.diff.same:
            out.append(self.diff.render_text(color=color).rstrip("\n"))
        if self.service_output and not self.passed:
            out.append("--- service output ---\n" + self.service_output.rstrip("\n"))
        return "\n".join(out)


def run_cases(
    paths: Sequence[str | Path],
    *,
    command: Sequence[str] | None = None,
    url: str | None = None,
    update: bool = False,
    say: Say | None = None,
    stop_event: threading.Event | None = None,
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
            result = run_case(case, command=command, url=url, update=update, stop_event=stop_event)
        results.append(result)
        if say is not None:
            say(result.summary())
    return results


def run_case(
    case: RegressionCase,
    *,
    command: Sequence[str] | None = None,
    url: str | None = None,
    update: bool = False,
    stop_event: threading.Event | None = None,
    warn: Callable[[str], None] | None = None,
) -> CaseResult:
    """Run one case (see the module docstring). ``command`` replaces the case's
    ``service.command``; with neither, no service is started (one already runs against
    ``url``). Failures of the input are ``invalid``, of the world ``error``: both are
    in the result, never raised (KeyboardInterrupt aside)."""
    started = time.monotonic()
    result = CaseResult(case.path, case.name, "error")
    try:
        _check(case, update)
        with tempfile.TemporaryDirectory(prefix="xtape-test-") as tmp:
            actual = Path(tmp) / "actual.xtape"
            _run(case, command, url, actual, result, stop_event, warn)
            if update:
                _replace(actual, case.golden)
                result.status = "updated"
            else:
                result.diff = diff_recordings(case.golden, actual, case.rules)
                kept = actual_path(case.golden)
                if result.diff.same:
                    result.status = "same"
                    kept.unlink(missing_ok=True)
                else:
                    result.status = "differs"
                    _replace(actual, kept)
                    result.actual = kept
                    result.diff.actual = str(kept)
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
    result.duration_s = time.monotonic() - started
    return result


def _check(case: RegressionCase, update: bool) -> None:
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


def _run(
    case: RegressionCase,
    command: Sequence[str] | None,
    url: str | None,
    actual: Path,
    result: CaseResult,
    stop_event: threading.Event | None,
    warn: Callable[[str], None] | None,
) -> None:
    spec = case.service
    if command:
        spec = ServiceSpec(tuple(command), Path.cwd(), spec.env if spec else {}, spec.grace_s if spec else 5.0)
    with ExitStack() as stack:
        if url is None:
            url = stack.enter_context(RedisServer()).url
        service: Service | None = None
        if spec is not None:
            service = Service(spec.command, url, cwd=spec.cwd, env=spec.env, grace_s=spec.grace_s)
            stack.callback(service.close)
            service.start()
            stack.callback(service.stop)
        try:
            if service is not None:
                service.wait_ready(case.ready, stop_event.is_set if stop_event is not None else None)
            elif case.ready is not None and case.ready.delay_s:
                (stop_event or threading.Event()).wait(case.ready.delay_s)
            capture = replay_and_capture(
                case.source,
                case.outputs,
                actual,
                url=url,
                options=case.options,
                variables=dict(case.variables) or None,
                seed=case.seed,
                clock=case.clock,
                settle_s=case.settle_s,
                expect=case.expect,
                timeout_s=case.timeout_s,
                stop_event=stop_event,
                warn=warn,
            )
            result.capture = capture
            notes = []
            if capture.stop_reason == "timeout":
                notes.append(f"the capture stopped at its timeout of {case.timeout_s:g} s")
            if capture.expect is not None and capture.entries < capture.expect:
                notes.append(f"expected {capture.expect} entries, captured {capture.entries}")
            if service is not None and not service.running:
                code = service.proc.returncode if service.proc else None
                notes.append(f"the service exited with code {code} during the run")
            if capture.replay.interrupted or capture.stop_reason == "stopped":
                raise RuntimeFailure("interrupted")
            result.message = "; ".join(notes)
        except KeyboardInterrupt:  # a second Ctrl-C: leave now, without the grace
            if service is not None:
                service.stop(grace_s=0)
            raise
        finally:
            if service is not None:
                service.stop()
                result.service_output = service.tail()
                result.service_note = service.stop_note


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
