"""Throwaway ``redis-server`` processes on free loopback ports.

Used by ``xtape demo`` and by the test suite: both need a real server that nobody
else uses and that is gone afterwards.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from xtape.children import OWN_GROUP, stop_group
from xtape.errors import RuntimeFailure

#: Redis Cluster listens on port + 10000 for its bus: keep room for it on every server.
_HIGHEST_PORT = 65535 - 10000


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (and whose cluster bus port,
    10000 above, exists)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port <= _HIGHEST_PORT:
            return port


class RedisServer:
    """A ``redis-server`` child process on 127.0.0.1, removed on :meth:`stop`.

    ``appendonly`` turns on the AOF so a :meth:`restart` keeps the data (for tests of
    recorder resumption). ``extra_args`` go to ``redis-server`` after the defaults, so they
    can add (``--cluster-enabled yes``, ``--tls-port N ...``) or override options; the
    server is ready when it answers PING on :attr:`port`. ``exe`` runs another binary
    that takes redis-server's options (a Valkey ``valkey-server``, an older Redis) instead
    of the ``redis-server`` on PATH. Use as a context manager.

    The server runs in a process group of its own (:mod:`xtape.children`): a Ctrl-C at
    the terminal reaches the program that started it, which stops it when it is done.
    """

    def __init__(
        self,
        *,
        appendonly: bool = False,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        exe: str | None = None,
    ) -> None:
        exe = exe or shutil.which("redis-server")
        if exe is None:
            raise RuntimeFailure(
                "redis-server was not found on PATH (on Debian/Ubuntu: apt-get install redis-server)"
            )
        self.exe = exe
        self.appendonly = appendonly
        self.port = port or free_port()
        self.extra_args = tuple(extra_args)
        self._tmp = tempfile.TemporaryDirectory(prefix="xtape-redis-")
        self.dir = Path(self._tmp.name)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = [
            self.exe,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "always" if self.appendonly else "everysec",
            "--daemonize", "no",
            "--protected-mode", "no",
            "--logfile", str(self.dir / "redis.log"),
            *self.extra_args,
        ]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, **OWN_GROUP)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeFailure(f"redis-server exited at start: {self._exit_reason()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith((b"+PONG", b"-NOAUTH")):  # NOAUTH: --requirepass
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeFailure(f"redis-server on port {self.port} did not start in {timeout:.0f}s")

    def _exit_reason(self) -> str:
        """The end of its log, or the signal that ended it before it wrote one (a Ctrl-C
        meant for its parent, sent before it could leave the parent's process group)."""
        log = self.dir / "redis.log"
        text = log.read_text(errors="replace")[-500:].strip() if log.is_file() else ""
        code = self.proc.returncode if self.proc is not None else None
        if not text and code is not None and code < 0:
            return f"killed by signal {signal.Signals(-code).name}"
        return text or f"exit code {code}, nothing in its log"

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s) and keep the data directory."""
        if self.proc is None:
            return
        stop_group(self.proc, grace_s=10.0)
        self.proc = None

    def restart(self) -> None:
        """Stop and start again on the same port (data survives with ``appendonly``)."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the process and remove its data directory."""
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
