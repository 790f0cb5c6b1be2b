"""The processes xtape starts (throwaway ``redis-server`` s, the service under test): each
in a process group of its own, stopped as a group.

A process group of their own keeps them out of the terminal's foreground group, so a
Ctrl-C reaches only xtape, which then stops them in order (and removes their files)
instead of finding them already dead half-way through its work. Stopping is
:func:`stop_group`: SIGTERM to the whole group, SIGKILL to the whole group once the
grace period is over, always; so nothing the child started in its group outlives it,
even a process that ignores SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from typing import Any

#: ``Popen`` keywords that start a child in a new session (and so a new process group).
OWN_GROUP: dict[str, Any] = {"start_new_session": True}
_POLL_S = 0.02
#: How long the group may take to vanish after SIGKILL (the kernel is quick; a loaded
#: machine is not).
_KILL_WAIT_S = 5.0


def signal_group(pgid: int, sig: int) -> None:
    """``sig`` to every process of group ``pgid`` (none left is fine)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of group ``pgid``.

    Read from ``/proc`` on Linux, where a member that has exited but was not reaped yet
    (its parent gone, a container's init that reaps nothing) would otherwise count;
    elsewhere, ``[pgid]`` while ``killpg(pgid, 0)`` finds any member."""
    try:
        names = os.listdir("/proc")
    except OSError:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) >= 3 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            members.append(int(name))
    return members


def stop_group(proc: subprocess.Popen[Any], grace_s: float) -> list[int]:
    """Stop ``proc`` (started with :data:`OWN_GROUP`) and every process of its group.

    SIGTERM to the group, then up to ``grace_s`` for all of them to exit, then SIGKILL to
    the group whatever happened (at once if the wait is interrupted). Returns the
    processes that were still running when the grace ran out (empty when everything
    stopped on SIGTERM), for a caller to report.
    """
    pgid = proc.pid
    deadline = time.monotonic() + grace_s
    signal_group(pgid, signal.SIGTERM)
    lingering: list[int] = []
    try:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            lingering = [pgid, *(p for p in group_members(pgid) if p != pgid)]
        while not lingering and (members := group_members(pgid)):
            if time.monotonic() >= deadline:
                lingering = members
                break
            time.sleep(_POLL_S)
    except BaseException:  # a second Ctrl-C cuts the grace short, not the stop
        signal_group(pgid, signal.SIGKILL)
        raise
    signal_group(pgid, signal.SIGKILL)
    proc.wait()
    gone_by = time.monotonic() + _KILL_WAIT_S
    while group_members(pgid) and time.monotonic() < gone_by:
        time.sleep(_POLL_S)
    return lingering


def lingering_note(lingering: list[int], leader: int, grace_s: float, who: str = "the service") -> str:
    """``killed after its 5 s grace: the service ignored SIGTERM`` (or what it started)."""
    if not lingering:
        return ""
    if leader in lingering:
        what = who
    else:
        pids = ", ".join(str(p) for p in lingering[:5])
        what = f"{'a process' if len(lingering) == 1 else 'processes'} {who} started (pid {pids})"
    return f"killed after its {grace_s:g} s grace: {what} ignored SIGTERM"
