"""Shared by the benchmarks: how busy *other* processes kept the machine meanwhile."""

from __future__ import annotations

import os
import resource
from types import TracebackType

from xtape.server import RedisServer


def cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) clock ticks of all CPUs since boot (Linux ``/proc/stat``)."""
    try:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    total = sum(values)
    return total - values[3] - values[4], total


def process_ticks(pid: int) -> int:
    """User + system clock ticks of a live process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


class OtherLoad:
    """How busy the machine was with processes other than this script, its finished
    children and ``server`` while the block ran: a percentage of all CPUs, or None."""

    def __init__(self, server: RedisServer) -> None:
        self.pid = server.proc.pid if server.proc else 0
        self.percent: float | None = None

    def _ours(self) -> float:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
        return seconds * os.sysconf("SC_CLK_TCK") + process_ticks(self.pid)

    def __enter__(self) -> OtherLoad:
        self._start, self._ours0 = cpu_ticks(), self._ours()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        end, ours = cpu_ticks(), self._ours()
        if self._start is None or end is None or end[1] <= self._start[1]:
            return
        others = (end[0] - self._start[0]) - (ours - self._ours0)
        self.percent = max(0.0, 100 * others / (end[1] - self._start[1]))


# --------------------------------------------------------------------------- pinning

#: The CPU a pinned benchmark gives each ``redis-server`` it starts.
SERVER_CPU = 0


def pin_clients(enabled: bool = True) -> str:
    """Keep this process, and the clients it starts (which inherit it), off the CPU the
    servers get (:class:`PinnedServer`), where there are two CPUs or more; returns what
    was done, for the report. Without it the scheduler moves a server and its client
    between CPUs as it likes: on a 2-CPU machine the same million XADDs took a server
    1.14 s to 1.56 s of CPU from one run to the next, pinned 1.16 s to 1.29 s
    (``bench/README.md``). Every contender is pinned alike."""
    if not enabled or not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    cpus = os.sched_getaffinity(0)
    if len(cpus) < 2 or SERVER_CPU not in cpus:
        return "not pinned (one CPU)"
    os.sched_setaffinity(0, cpus - {SERVER_CPU})
    return f"servers pinned to CPU {SERVER_CPU}, clients to CPU {','.join(map(str, sorted(cpus - {SERVER_CPU})))}"


class PinnedServer(RedisServer):
    """A throwaway ``redis-server`` on :data:`SERVER_CPU` once :func:`pin_clients` has
    moved this process off it (else wherever its parent may run)."""

    def start(self) -> PinnedServer:
        super().start()
        clients = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
        if self.proc is not None and clients and SERVER_CPU not in clients:
            os.sched_setaffinity(self.proc.pid, {SERVER_CPU})
        return self
