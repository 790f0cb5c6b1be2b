"""A server that accepts connections but never answers (a SIGSTOPped ``redis-server``, a
hung host): ``record`` and ``diff --url`` say that it did not answer, where (the URL, its
password hidden) and for how long, and never name a file that does not exist."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from support.e2e import XTAPE, wait_for

from xtape.recording import RecordingWriter
from xtape.server import RedisServer

PASSWORD = "s3cret-frozen"


@pytest.fixture()
def frozen() -> Iterator[str]:
    """The URL of a password-protected redis-server, SIGSTOPped for the test."""
    server = RedisServer(extra_args=["--requirepass", PASSWORD]).start()
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield f"redis://:{PASSWORD}@127.0.0.1:{server.port}/0"
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
        server.close()


def _xtape(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([XTAPE, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def _shown(url: str) -> str:
    return url.replace(PASSWORD, "***")


def test_record_from_a_frozen_server_says_it_did_not_answer_and_writes_nothing(frozen: str, tmp_path: Path) -> None:
    done = _xtape("record", "s*", "-o", "frozen.xtape", "--url", frozen, "--duration", "2s", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert re.fullmatch(
        rf"xtape: error: cannot reach Redis at {re.escape(_shown(frozen))}: the server did not answer within \d+\.\d s",
        line,
    ), line
    assert PASSWORD not in done.stderr
    assert "frozen.xtape" not in done.stderr
    assert not (tmp_path / "frozen.xtape").exists()


def test_record_without_a_stop_rule_gives_up_on_a_frozen_server(frozen: str, tmp_path: Path) -> None:
    done = _xtape("record", "s*", "-o", "frozen.xtape", "--url", frozen, cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"xtape: error: cannot reach Redis at {_shown(frozen)}: the server did not answer within 4 s"
    ]
    assert not (tmp_path / "frozen.xtape").exists()


def test_live_diff_against_a_frozen_server_says_it_did_not_answer(frozen: str, tmp_path: Path) -> None:
    expected = tmp_path / "expected.xtape"
    with RecordingWriter(expected) as writer:
        writer.write_entries(b"s1", [[b"1-1", [b"a", b"1"]]], 1)

    done = _xtape("diff", str(expected), "--url", frozen, cwd=tmp_path)

    # diff(1)'s rule: 2 for trouble (1 means "differs")
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"xtape: error: cannot reach Redis at {_shown(frozen)}: the server did not answer within 4 s"
    ]
    assert "xtape-live" not in done.stderr


def test_ctrl_c_while_record_waits_for_a_frozen_server_names_no_file(frozen: str, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [XTAPE, "record", "s*", "-o", "frozen.xtape", "--url", frozen, "--duration", "30s"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        port = int(frozen.rsplit(":", 1)[1].split("/")[0])
        # connected, and waiting for an answer
        wait_for(lambda: _connected(proc.pid, port) or proc.poll() is not None, what="a connection")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 130, err
    assert err.splitlines() == [f"xtape: stopped before {_shown(frozen)} answered: nothing recorded, no file written"]
    assert not (tmp_path / "frozen.xtape").exists()


def _connected(pid: int, port: int) -> bool:
    try:
        return any(c.raddr and c.raddr.port == port for c in psutil.Process(pid).net_connections("tcp"))
    except psutil.Error:
        return False
