"""Test certificates made with openssl and a redis-server that serves TLS with them
(shared by the connection tests and every command's ``--tls-*`` tests). A test module
takes the fixtures with ``pytest_plugins = ["support.tls"]``."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from xtape.errors import XtapeError
from xtape.server import RedisServer, free_port


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def make_tls_files(d: Path) -> dict[str, Path]:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate in
    ``d`` (skips the test where the openssl command is missing)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
             "/CN=xtape test CA", "-keyout", d / "ca.key", "-out", d / "ca.crt")  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", d / f"{name}.key", "-out", d / f"{name}.csr")  # fmt: skip
        _openssl("x509", "-req", "-in", d / f"{name}.csr", "-CA", d / "ca.crt", "-CAkey",
                 d / "ca.key", "-CAcreateserial", "-days", "2", "-extfile", d / "ext.cnf",
                 "-out", d / f"{name}.crt")  # fmt: skip
    return {name: d / name for name in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")}


def start_tls_server(files: dict[str, Path], auth_clients: str) -> tuple[RedisServer, int]:
    """A started redis-server with a plain port (its ``url``) and a TLS port (returned);
    the caller closes it (skips the test where redis-server has no TLS)."""
    tls_port = free_port()
    server = RedisServer(
        extra_args=[
            "--tls-port", str(tls_port),
            "--tls-cert-file", str(files["server.crt"]),
            "--tls-key-file", str(files["server.key"]),
            "--tls-ca-cert-file", str(files["ca.crt"]),
            "--tls-auth-clients", auth_clients,
        ]
    )  # fmt: skip
    try:
        server.start()
    except XtapeError as exc:
        server.close()
        pytest.skip(f"this redis-server cannot serve TLS: {exc}")
    return server, tls_port


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_server(tls_files: dict[str, Path]) -> Iterator[tuple[RedisServer, str]]:
    """A redis-server with a plain port (for checking) and a TLS port (its URL)."""
    server, tls_port = start_tls_server(tls_files, "no")
    yield server, f"rediss://127.0.0.1:{tls_port}/0"
    server.close()


@pytest.fixture(scope="module")
def tls_server_checking_clients(tls_files: dict[str, Path]) -> Iterator[str]:
    """The URL of a redis-server's TLS port that wants a client certificate."""
    server, tls_port = start_tls_server(tls_files, "yes")
    yield f"rediss://127.0.0.1:{tls_port}/0"
    server.close()
