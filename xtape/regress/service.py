"""The service under test: a child process with ``REDIS_URL`` set, waited on until ready,
stopped with its whole process group (SIGTERM, then SIGKILL after a grace period), its
output kept for reports.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from xtape.children import OWN_GROUP, lingering_note, stop_group
from xtape.errors import ServiceFailed
from xtape.regress.case import Readiness

#: How much of the service's output a report shows.
OUTPUT_TAIL = 4000


def placeholders(url: str) -> dict[str, str]:
    """What ``{python}``, ``{url}``, ``{host}``, ``{port}`` and ``{db}`` stand for in a
    service's command and environment, for the Redis at ``url``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    db = parts.path.lstrip("/") or "0"
    return {
        "python": sys.executable,
        "url": url,
        "host": parts.hostname or "localhost",
        "port": str(parts.port or 6379),
        "db": db if db.isdigit() else "0",
    }


def expand_command(words: Sequence[str], url: str = "") -> list[str]:
    """``{python}`` in a command is the Python running xtape (so a case can say
    ``command: ["{python}", "service.py"]`` and work in any virtual environment);
    ``{url}``, ``{host}``, ``{port}``, ``{db}`` are the Redis the service talks to."""
    values = placeholders(url)
    return [_expand(w, values) for w in words]


def _expand(text: str, values: Mapping[str, str]) -> str:
    return re.sub(r"\{(python|url|host|port|db)\}", lambda m: values[m.group(1)], text)


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
        grace: float = 5.0,
        url_env: str | None = None,
    ) -> None:
        self.argv = expand_command(argv, url)
        self.url = url
        self.cwd = cwd
        values = placeholders(url)
        self.env = {**os.environ, **{k: _expand(v, values) for k, v in (env or {}).items()}, "REDIS_URL": url}
        if url_env:
            self.env[url_env] = url
        self.grace = grace
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
        """Until the readiness condition holds (:func:`xtape.regress.ready.wait_ready`);
        raises :class:`ServiceFailed` if the service exits first or the condition does
        not hold within its timeout. Returns early (within 50 ms) once ``should_stop()``
        holds."""
        from xtape.regress.ready import wait_ready

        wait_ready(self, ready, should_stop)

    def check_alive(self) -> None:
        """Raises :class:`ServiceFailed` if the service has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise ServiceFailed(f"exited with code {self.proc.returncode} before it was ready", self.tail())

    def stop(self, grace: float | None = None) -> None:
        """SIGTERM to the service's process group, SIGKILL to the group after the grace
        (always: nothing it started in its group outlives it). ``grace`` (seconds)
        overrides the service's own (0 after a second Ctrl-C)."""
        proc = self.proc
        if proc is None:
            return
        seconds = self.grace if grace is None else grace
        lingering = stop_group(proc, seconds)
        if lingering:
            self.killed = True
            self.stop_note = lingering_note(lingering, proc.pid, seconds)
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
