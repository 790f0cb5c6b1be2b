"""Support for the metrics, health and snapshot tests (no tests here): an ``xtape``
process serving ``--metrics`` on a free port, read over HTTP as Prometheus would."""

from __future__ import annotations

import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from prometheus_client.parser import text_string_to_metric_families

from support.e2e import XTAPE, wait_for
from xtape.server import free_port


def http(url: str, *, method: str = "GET", timeout: float = 10.0) -> tuple[int, str]:
    """``(status, body)`` of one request; ``(0, reason)`` when nothing answered."""
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, OSError) as exc:
        return 0, str(exc)


def samples(text: str) -> dict[str, float]:
    """Every sample of a /metrics page: ``name{a="x",b="y"}`` (labels sorted) -> value."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return out


class Watched:
    """``xtape ARGS --metrics 127.0.0.1:PORT`` as a process (stopped on exit)."""

    def __init__(self, *args: object) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [XTAPE, *map(str, args), "--metrics", f"127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(
            lambda: self.http("/healthz")[0] != 0 or self.proc.poll() is not None,
            timeout=60,
            what="the metrics listener",
        )
        assert self.proc.poll() is None, self.proc.communicate()

    def http(self, path: str, method: str = "GET") -> tuple[int, str]:
        return http(self.base + path, method=method)

    def healthz(self) -> tuple[int, str]:
        return self.http("/healthz")

    def metrics(self) -> dict[str, float]:
        status, text = self.http("/metrics")
        assert status == 200, (status, text)
        return samples(text)

    def value(self, key: str) -> float | None:
        return self.metrics().get(key)

    def wait_health(self, status: int, contains: str = "", timeout: float = 60) -> str:
        """Poll /healthz until it answers ``status`` with ``contains`` in its line."""
        seen: list[tuple[int, str]] = []

        def check() -> bool:
            seen.append(self.healthz())
            return seen[-1][0] == status and contains in seen[-1][1]

        wait_for(check, timeout=timeout, what=f"/healthz {status} {contains!r} (last: {seen[-1:]})")
        return seen[-1][1].strip()

    def wait_value(self, key: str, expected: float, timeout: float = 60) -> None:
        last: list[float | None] = []

        def check() -> bool:
            last[:] = [self.value(key)]
            return last[0] == expected

        wait_for(check, timeout=timeout, what=f"{key} == {expected} (last: {last})")

    def stop(self, timeout: float = 60) -> tuple[int, str]:
        """SIGTERM; the exit code and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err

    def __enter__(self) -> Watched:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


def snapshot_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("snapshot-*.xtape"))
