"""Shared fixtures: one real redis-server per test session, flushed before each test."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import typer.testing
from hypothesis import HealthCheck, settings

from xtape.connection import connect
from xtape.server import RedisServer

# A shell that starts a job in the background without job control (a script's `cmd &`)
# starts it with SIGINT ignored, and that is inherited by every process the tests start:
# the Ctrl-C tests would then test the launcher. Give this process (and so its children)
# Python's own Ctrl-C handling, however pytest was started.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Hypothesis's per-example deadline (200 ms) measures the machine's load, not xtape: on
# 2 shared cores an example can wait that long for the CPU. The suite never depends on
# timing luck, so no property test has a deadline (examples are still counted per test).
settings.register_profile("xtape", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("xtape")

# typer builds the click command of the app anew on every CliRunner.invoke and every
# get_command (some 40 ms for xtape's: a third of the damage fuzz tests' time). Running
# or reading the command does not change it, so the tests share one per app.
typer.main.get_command = typer.testing._get_command = functools.cache(typer.main.get_command)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _no_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's $REDISCLI_AUTH or $XTAPE_REDIS_PASSWORD must not reach the test servers."""
    monkeypatch.delenv("XTAPE_REDIS_PASSWORD", raising=False)
    monkeypatch.delenv("REDISCLI_AUTH", raising=False)
    monkeypatch.delenv("XTAPE_CATALOG", raising=False)  # nor a catalog of theirs


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server on a free loopback port for the whole session."""
    with RedisServer() as server:
        yield server


@pytest.fixture()
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The session server's URL, with the database flushed before the test."""
    client = redis.Redis.from_url(redis_server.url, protocol=2)
    client.flushall()
    client.close()
    yield redis_server.url


@pytest.fixture()
def r(redis_url: str) -> Iterator[redis.Redis]:
    """A bytes client (RESP2) on the flushed session server."""
    client = connect(redis_url)
    yield client
    client.close()


@pytest.fixture()
def make_server() -> Iterator[Callable[..., RedisServer]]:
    """A factory for extra servers (e.g. with AOF, to restart); all stopped afterwards."""
    made: list[RedisServer] = []

    def factory(**kwargs: object) -> RedisServer:
        server = RedisServer(**kwargs)  # type: ignore[arg-type]
        made.append(server)
        return server.start()

    yield factory
    for server in made:
        server.close()


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 192 KiB tmpfs, to fill up (needs root, as the test machines are)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=192k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
