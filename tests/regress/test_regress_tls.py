"""``xtape test --url rediss://...`` takes the ``--tls-*`` options every other command
that connects has (same names, same help), and runs a case over a real TLS port."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer.main
from support.e2e import error_line, invoke
from support.paths import ROOT

from xtape.cli import app
from xtape.connection import connect
from xtape.server import RedisServer

#: The TLS fixtures (tls_files, tls_server), shared with the other TLS tests.
pytest_plugins = ["support.tls"]

EXAMPLE = ROOT / "examples" / "matcher"
TLS_OPTIONS = ("--tls-ca-cert", "--tls-cert", "--tls-key", "--tls-insecure")


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    folder = tmp_path / "matcher"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.actual.xtape", "__pycache__"))
    return folder / "case.yaml"


def _help(command: str) -> dict[str, str | None]:
    params = typer.main.get_command(app).commands[command].params  # type: ignore[attr-defined]
    return {p.opts[0]: p.help for p in params if p.opts[0] in TLS_OPTIONS}


def test_test_has_the_tls_options_of_every_command_that_connects() -> None:
    for other in ("record", "replay", "diff"):
        assert _help("test") == _help(other), other
    assert set(_help("test")) == set(TLS_OPTIONS)


def test_a_case_runs_against_a_tls_redis_with_the_ca_option(
    case: Path, tls_server: tuple[RedisServer, str], tls_files: dict[str, Path]
) -> None:
    server, url = tls_server
    done = invoke("test", case, "--url", url, "--tls-ca-cert", tls_files["ca.crt"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"same     matcher ({case}): 10 entries on 2 streams"), done.stdout
    plain = connect(server.url)  # what the case replayed and captured went through that server
    try:
        assert plain.xlen("order.request") == 10
    finally:
        plain.close()


def test_without_the_ca_the_certificate_check_fails_and_names_the_option(
    case: Path, tls_server: tuple[RedisServer, str]
) -> None:
    _, url = tls_server
    done = invoke("test", case, "--url", url)
    assert done.exit_code != 0
    assert "certificate verify failed" in done.output and "--tls-ca-cert FILE" in done.output, done.output
    assert "Traceback" not in done.output


def test_tls_options_without_url_are_refused(case: Path, tls_files: dict[str, Path]) -> None:
    line = error_line(invoke("test", case, "--tls-ca-cert", tls_files["ca.crt"]), 2)
    assert line == (
        "xtape: error: the --tls-* options go with --url rediss://... "
        "(the throwaway redis-server speaks plain TCP)"
    )
