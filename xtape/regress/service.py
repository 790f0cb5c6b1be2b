"""The service under test: a child process with ``REDIS_URL`` set, waited on until ready,
stopped with its whole process group (SIGTERM, then SIGKILL after a grace period), its
output kept for reports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import redis

from xtape.children import OWN_GROUP, lingering_note, stop_group
from xtape.connection import command, connect
from xtape.errors import ServiceFailed
from xtape.regress.case import Readiness

_POLL_S = 0.05
#: How much of the service's output a report shows.
OUTPUT_TAIL = 4000


def expand_command(words: Sequence[str]) -> list[str]:
    """``{python}`` in a command is the Python running xtape (so a case can say
    ``command: ["{python}", "service.py"]`` and work in any virtual environment)."""
    return [w.replace("{python}", sys.executable) for w in words]


class Service:
    """One run of the service under test (a context manager: stopped and its output
    dropped on the way out; :meth:`stop` alone keeps the output readable).

    The process gets its own session, so a Ctrl-C at the terminal reaches xtape only,
    and a stop reaches its children too (a shell wrapper, ``npm run``): when it ends, no
    process of its group is left. Its stdout and stderr go to one temporary file:
    :attr:`output`.
    """

    def __init__(
        self,
        argv: Sequence[str],
        url: str,
        *,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        grace_s: float = 5.0,
    ) -> None:
        self.argv = expand_command(argv)
        self.url = url
        self.cwd = cwd
        self.env = {**os.environ, **(env or {}), "REDIS_URL": url}
        self.grace_s = grace_s
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile(prefix="xtape-service-")  # noqa: SIM115 (closed in close())
        #: Whether the stop needed SIGKILL (the service, or a process it started in its
        #: group, ignored SIGTERM for the whole grace period); :attr:`stop_note` says so.
        self.killed = False
        self.stop_note = ""
        self.returncode: int | None = None

    def start(self) -> Service:
        try:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                **OWN_GROUP,
            )
        except OSError as exc:
            raise ServiceFailed(f"could not be started ({' '.join(self.argv)}): {exc.strerror or exc}") from None
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def output(self) -> str:
        """Everything the service printed so far (stdout and stderr, interleaved)."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def tail(self, limit: int = OUTPUT_TAIL) -> str:
        text = self.output
        return text if len(text) <= limit else "..." + text[-limit:]

    def wait_ready(self, ready: Readiness | None, should_stop: Callable[[], bool] | None = None) -> None:
        """Until the readiness condition holds; raises :class:`ServiceFailed` if the
        service exits first or the condition does not hold within its timeout. Returns
        early (within 50 ms) once ``should_stop()`` holds."""
        stopping = should_stop or (lambda: False)
        if ready is None:
            self._check_alive()
            return
        deadline = time.monotonic() + ready.timeout_s
        client = connect(self.url, socket_timeout=5.0)
        try:
            if ready.group is not None:
                stream, group = ready.group
                self._poll(deadline, ready, f"consumer group {group!r} on {stream!r}",
                           lambda: stopping() or _has_group(client, stream, group))  # fmt: skip
            if ready.key is not None:
                key = ready.key
                self._poll(deadline, ready, f"key {key!r}",
                           lambda: stopping() or bool(command(client, "EXISTS", key)))  # fmt: skip
        finally:
            client.close()
        if ready.delay_s:
            end = time.monotonic() + ready.delay_s
            while time.monotonic() < end and not stopping():
                self._check_alive()
                time.sleep(min(_POLL_S, max(end - time.monotonic(), 0)))
        self._check_alive()

    def _poll(self, deadline: float, ready: Readiness, what: str, check: object) -> None:
        assert callable(check)
        while True:
            self._check_alive()
            if check():
                return
            if time.monotonic() >= deadline:
                raise ServiceFailed(
                    f"did not become ready within {ready.timeout_s:g} s (no {what})", self.tail()
                )
            time.sleep(_POLL_S)

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise ServiceFailed(f"exited with code {self.proc.returncode} before it was ready", self.tail())

    def stop(self, grace_s: float | None = None) -> None:
        """SIGTERM to the service's process group, SIGKILL to the group after the grace
        (always: nothing it started in its group outlives it). ``grace_s`` overrides the
        service's own (0 after a second Ctrl-C)."""
        proc = self.proc
        if proc is None:
            return
        grace = self.grace_s if grace_s is None else grace_s
        lingering = stop_group(proc, grace)
        if lingering:
            self.killed = True
            self.stop_note = lingering_note(lingering, proc.pid, grace)
        self.returncode = proc.returncode
        self.proc = None

    def close(self) -> None:
        self.stop()
        self._log.close()

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _has_group(client: redis.Redis, stream: str, group: str) -> bool:
    try:
        groups = command(client, "XINFO", "GROUPS", stream)
    except redis.ResponseError:  # no such key (yet), or not a stream
        return False
    for info in groups:
        fields = dict(zip(info[::2], info[1::2], strict=False))
        if fields.get(b"name") == group.encode():
            return True
    return False
