"""Redis URLs and connections: what is refused before connecting, what each refusal by
the server says, that no error ever shows a password, passwords from the environment,
cluster nodes, and TLS (options, a plain port, a real TLS round trip)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.e2e import error_line, invoke, ok, xadd
from support.paths import ROOT

from xtape.connection import connect, redact_url
from xtape.errors import XtapeError
from xtape.recording import Recording
from xtape.server import RedisServer, free_port

#: The TLS fixtures (tls_files, tls_server), shared with the other TLS tests.
pytest_plugins = ["support.tls"]

SMOKE = ROOT / "scenarios" / "smoke-test.yaml"


def record_args(url: str, out: Path, *extra: object) -> list[object]:
    return ["record", "s", "-o", out, "--url", url, "--count", "1", *extra]


def replay_args(url: str, *extra: object) -> list[object]:
    return ["replay", SMOKE, "--url", url, "--max-speed", *extra]


@pytest.fixture(params=["record", "replay"])
def run_with_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., object]:
    """Run ``record`` or ``replay`` against a URL; the record output must not be left."""
    out = tmp_path / "out.xtape"

    def run(url: str, *extra: object, env: dict[str, str | None] | None = None) -> object:
        if request.param == "record":
            result = invoke(*record_args(url, out, *extra), env=env)
            if result.exit_code:
                assert not out.exists()
            return result
        return invoke(*replay_args(url, *extra), env=env)

    return run


# --------------------------------------------------------------------------- bad URLs


def test_an_option_the_connection_does_not_take_is_one_line_exit_2(
    run_with_url: Callable[..., object], redis_url: str
) -> None:
    line = error_line(run_with_url(redis_url + "?ssl_cert_reqs=none"), 2)  # type: ignore[arg-type]

    assert "redis:// connections take no option 'ssl_cert_reqs'" in line
    assert "TLS options need a rediss:// URL" in line


@pytest.mark.parametrize("path", ["/abc", "/0/1", "/-1", "/1x"])
def test_a_database_that_is_not_a_number_is_refused_not_taken_for_0(
    run_with_url: Callable[..., object], redis_url: str, r: redis.Redis, path: str
) -> None:
    url = redis_url.rpartition("/")[0] + path

    line = error_line(run_with_url(url), 2)  # type: ignore[arg-type]

    assert f"invalid Redis URL {url}: the database must be a number" in line
    assert r.dbsize() == 0


def test_a_database_option_that_is_not_a_number_is_refused(redis_url: str) -> None:
    line = error_line(invoke(*replay_args(redis_url + "?db=abc")), 2)

    assert "Invalid value for 'db'" in line


# --------------------------------------------------------------------------- passwords

#: URLs whose password (``se/cret`` and the like) earlier versions printed whole.
LEAKY_URLS = {
    "slash": ("redis://:se/cret@127.0.0.1:1/0", "redis://***@127.0.0.1:1/0"),
    "hash": ("redis://:se#cret@127.0.0.1:1/0", "redis://***@127.0.0.1:1/0"),
    "question": ("redis://:se?cret@127.0.0.1:1/0", "redis://***@127.0.0.1:1/0"),
    "user-slot": ("redis://secret@127.0.0.1:1/0", "redis://***@127.0.0.1:1/0"),
    "user-and-slash": ("redis://app:se/cret@127.0.0.1:1/0", "redis://***@127.0.0.1:1/0"),
    "query": ("redis://127.0.0.1:1/0?password=secret", "redis://127.0.0.1:1/0?password=***"),
}


@pytest.mark.parametrize("kind", sorted(LEAKY_URLS))
def test_no_error_shows_any_part_of_the_userinfo(
    kind: str, run_with_url: Callable[..., object]
) -> None:
    url, shown = LEAKY_URLS[kind]

    result = run_with_url(url)

    line = error_line(result, 2 if kind not in ("user-slot", "query") else 1)  # type: ignore[arg-type]
    assert shown in line
    assert "secret" not in result.output and "cret" not in result.output  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://app:pw@h:1/0", "redis://app:***@h:1/0"),
        ("redis://:pw@h/0", "redis://:***@h/0"),
        ("redis://app:@h/0", "redis://***@h/0"),
        ("redis://a:b@c@h/0", "redis://a:***@h/0"),
        ("redis://h/0?db=1&password=pw&x=1", "redis://h/0?db=1&password=***&x=1"),
        ("redis://h/0#pw", "redis://h/0#***"),
        ("unix://:pw@/run/redis.sock?db=2", "unix://:***@/run/redis.sock?db=2"),
        ("app:pw@h:6379", "app:***@h:6379"),
        ("redis://h/\x1b[31m", "redis://h/\\x1b[31m"),
        ("redis://h:6379/0", "redis://h:6379/0"),
    ],
)
def test_redact_url_keeps_the_user_only_beside_a_clean_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


#: Pieces of a generated secret: each token is findable, the separators are what break
#: naive URL parsing (and the encoding a careful user would use).
_TOKEN = st.integers(0, 99).map(lambda n: f"sEc{n}")
_SEPARATOR = st.text(alphabet="/#?@:%&=;+ !$*.,[]", max_size=2)
SECRETS = st.lists(st.tuples(_TOKEN, _SEPARATOR), min_size=1, max_size=4).map(
    lambda parts: "".join(token + sep for token, sep in parts)
)
#: Where a password goes (or is put by mistake), against a server that is not there
#: (port 1), a real one (PORT), and with other faults around it.
SHAPES = [
    "redis://:{s}@127.0.0.1:1/0",
    "redis://app:{s}@127.0.0.1:1/0",
    "redis://{s}@127.0.0.1:1/0",
    "redis://{s}:@127.0.0.1:1/0",
    "rediss://:{s}@127.0.0.1:1/0",
    "redis://:{s}@127.0.0.1:1/abc",
    "redis://:{s}@127.0.0.1:1/0?ssl_cert_reqs=none",
    "redis://:{s}@127.0.0.1:1/0?db=x",
    "redis://:{s}@127.0.0.1:port/0",
    "unix://:{s}@/nonexistent/redis.sock",
    "redis://:{s}@127.0.0.1:PORT/0",
    "redis://app:{s}@127.0.0.1:PORT/0",
    "redis://{s}@127.0.0.1:PORT/0",
    "redis://:{s}@127.0.0.1:PORT/99",
    "redis://:{s}@127.0.0.1:PORT/0?ssl_keyfile=x",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from(SHAPES), secret=SECRETS)
def test_property_no_error_text_contains_the_secret(
    shape: str, secret: str, redis_server: RedisServer
) -> None:
    if shape.startswith("redis://{s}"):
        # In the user's place a ':' would make a user name and a password of the secret,
        # and a user name beside a password is shown.
        secret = secret.replace(":", "")
    url = shape.replace("PORT", str(redis_server.port)).replace("{s}", secret)
    texts = [redact_url(url)]
    try:
        connect(url).close()
    except XtapeError as exc:
        texts.append(str(exc))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.xtape"
        for args in (record_args(url, out), replay_args(url)):
            result = invoke(*args)
            assert result.exit_code in (1, 2)
            texts.append(result.output)
    for text in texts:
        assert "sEc" not in text, (url, text)


def test_the_password_can_come_from_the_environment_and_never_shows(
    make_server: Callable[..., RedisServer], tmp_path: Path
) -> None:
    server = make_server(extra_args=["--requirepass", "hunter2-pw"])
    url = server.url

    line = error_line(invoke(*replay_args(url)), 2)
    assert "needs a password" in line and "$XTAPE_REDIS_PASSWORD" in line

    for name in ("XTAPE_REDIS_PASSWORD", "REDISCLI_AUTH"):
        ok(invoke(*replay_args(url, "--prefix", f"{name}:"), env={name: "hunter2-pw"}))
    out = tmp_path / "r.xtape"
    recorded = invoke("record", "REDISCLI_AUTH:*", "-o", out, "--url", url, "--from", "start",
                      "--count", "1", "-q", env={"REDISCLI_AUTH": "hunter2-pw"})  # fmt: skip
    ok(recorded)

    client = redis.Redis.from_url(url, password="hunter2-pw", protocol=2)
    try:
        names = {k.decode().split(":")[0] for k in client.scan_iter(_type="stream")}
    finally:
        client.close()
    assert names == {"XTAPE_REDIS_PASSWORD", "REDISCLI_AUTH"}
    assert sum(1 for _ in Recording(out).entries()) == 1


def test_a_wrong_password_names_where_it_came_from_and_is_not_shown(
    make_server: Callable[..., RedisServer],
) -> None:
    server = make_server(extra_args=["--requirepass", "right-pw"])
    url_with = server.url.replace("redis://", "redis://:wrong-pw@")

    from_url = invoke(*replay_args(url_with))
    from_env = invoke(*replay_args(server.url), env={"XTAPE_REDIS_PASSWORD": "wrong-pw"})
    # the URL's password wins over the environment's
    both = invoke(*replay_args(url_with), env={"XTAPE_REDIS_PASSWORD": "right-pw"})

    assert "refused the password from the URL (WRONGPASS " in error_line(from_url, 2)
    assert "refused the password from $XTAPE_REDIS_PASSWORD (WRONGPASS " in error_line(from_env, 2)
    assert "refused the password from the URL" in error_line(both, 2)
    for result in (from_url, from_env, both):
        assert "wrong-pw" not in result.output and "right-pw" not in result.output
        assert "cannot reach" not in result.output


def test_rediscli_auth_set_for_another_server_does_not_break_a_passwordless_one(
    redis_url: str, r: redis.Redis
) -> None:
    ok(invoke(*replay_args(redis_url), env={"REDISCLI_AUTH": "for-production"}))
    assert r.dbsize() > 0

    line = error_line(invoke(*replay_args(redis_url), env={"XTAPE_REDIS_PASSWORD": "given-pw"}), 2)
    assert "has no password set, but one was given ($XTAPE_REDIS_PASSWORD)" in line
    assert "given-pw" not in line


@pytest.mark.parametrize("command", ["record", "replay"])
def test_url_help_says_where_else_the_password_can_come_from(command: str) -> None:
    text = " ".join(ok(invoke(command, "--help")).stdout.split())

    assert "$XTAPE_REDIS_PASSWORD or $REDISCLI_AUTH" in text
    for option in ("--tls-ca-cert", "--tls-cert", "--tls-key", "--tls-insecure"):
        assert option in text


# --------------------------------------------------------------------------- what the server says


def test_a_database_the_server_does_not_have_is_named_with_the_range(
    run_with_url: Callable[..., object], redis_url: str
) -> None:
    url = redis_url.rpartition("/")[0] + "/99"

    line = error_line(run_with_url(url), 2)  # type: ignore[arg-type]

    assert line == f"xtape: error: Redis at {url} has no database 99 (databases 0-15)"


def test_a_user_name_without_password_gets_its_own_wording(redis_url: str) -> None:
    url = redis_url.replace("redis://", "redis://nosuchuser@")

    result = invoke(*replay_args(url))

    line = error_line(result, 2)
    assert "refused a user name given without a password (WRONGPASS" in line
    assert "nosuchuser" not in result.output


@pytest.fixture(scope="module")
def cluster_node() -> Iterator[RedisServer]:
    """One redis-server with cluster mode on (no slots: enough to be recognised)."""
    # cluster mode also listens on port + 10000, so redis-server refuses ports above 55535
    port = next(p for p in (free_port() for _ in range(200)) if p <= 55535)
    with RedisServer(port=port, extra_args=["--cluster-enabled", "yes"]) as server:
        yield server


def test_a_cluster_node_is_refused_only_for_a_database_other_than_0(
    run_with_url: Callable[..., object], cluster_node: RedisServer
) -> None:
    url = cluster_node.url.rpartition("/")[0] + "/3"

    line = error_line(run_with_url(url), 2)  # type: ignore[arg-type]

    assert line == (
        f"xtape: error: Redis at {url} is a node of a Redis Cluster, which has only "
        "database 0 (use .../0 or no database)"
    )


def test_a_cluster_node_serving_no_slots_is_one_clear_error(
    run_with_url: Callable[..., object], cluster_node: RedisServer
) -> None:
    # (cluster support itself: tests/cluster/test_cluster.py, on a formed cluster)
    line = error_line(run_with_url(cluster_node.url), 2)  # type: ignore[arg-type]

    assert line == (
        f"xtape: error: Redis at {cluster_node.url} is a node of a Redis Cluster that serves "
        "no slots yet"
    )


# --------------------------------------------------------------------------- TLS


def test_rediss_on_a_plain_port_fails_fast_with_a_tls_message(
    run_with_url: Callable[..., object], redis_url: str
) -> None:
    url = redis_url.replace("redis://", "rediss://")

    started = time.monotonic()
    result = run_with_url(url)
    elapsed = time.monotonic() - started

    line = error_line(result, 2)  # type: ignore[arg-type]
    assert f"Redis at {url} did not complete a TLS handshake" in line
    assert "plain (non-TLS) port" in line
    assert elapsed < 9.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--tls-insecure"], "the --tls-* options need a rediss:// URL"),
        (["--tls-ca-cert", "/nonexistent/ca.crt"], "--tls-ca-cert /nonexistent/ca.crt: no such file"),
        (["--tls-key", SMOKE], "--tls-key needs --tls-cert"),
        (["--tls-insecure", "--tls-ca-cert", SMOKE], "--tls-insecure turns off the certificate check"),
    ],
)
def test_tls_options_that_cannot_work_are_refused(
    run_with_url: Callable[..., object], options: list[object], message: str
) -> None:
    url = "redis://127.0.0.1:1/0" if options == ["--tls-insecure"] else "rediss://127.0.0.1:1/0"

    assert message in error_line(run_with_url(url, *options), 2)  # type: ignore[arg-type]


def test_a_tls_option_also_in_the_url_is_refused() -> None:
    url = "rediss://127.0.0.1:1/0?ssl_cert_reqs=required"

    line = error_line(invoke(*replay_args(url, "--tls-insecure")), 2)

    assert "--tls-insecure and the URL's ?ssl_cert_reqs= both set it" in line


def test_tls_round_trip_with_the_ca_option(
    tls_server: tuple[RedisServer, str], tls_files: dict[str, Path], tmp_path: Path
) -> None:
    server, url = tls_server
    ca = tls_files["ca.crt"]
    plain = connect(server.url)
    try:
        plain.flushall()
        ok(invoke(*replay_args(url, "--tls-ca-cert", ca, "--prefix", "tls:")))
        replayed = sorted(plain.scan_iter(match="tls:*", _type="stream"))
        assert replayed

        xadd(plain, "s", [b"over", b"tls"])
        out = tmp_path / "tls.xtape"
        ok(invoke("record", "s", "-o", out, "--url", url, "--tls-ca-cert", ca,
                  "--from", "start", "--count", "1", "-q"))  # fmt: skip
    finally:
        plain.close()
    [entry] = list(Recording(out).entries())
    assert entry.fields == ((b"over", b"tls"),)
    assert "ssl_ca_certs=" in str(Recording(out).header.source.get("url", ""))


def test_an_untrusted_certificate_says_which_option_to_use(
    run_with_url: Callable[..., object], tls_server: tuple[RedisServer, str]
) -> None:
    _, url = tls_server

    line = error_line(run_with_url(url), 2)  # type: ignore[arg-type]

    assert f"Redis at {url} did not complete a TLS handshake: " in line
    assert "certificate verify failed" in line and "--tls-ca-cert FILE" in line


def test_tls_insecure_skips_the_certificate_check(
    tls_server: tuple[RedisServer, str],
) -> None:
    _, url = tls_server

    ok(invoke(*replay_args(url, "--tls-insecure", "--prefix", "insecure:")))


def test_a_client_certificate_is_sent_with_tls_cert_and_key(
    tls_files: dict[str, Path], tls_server_checking_clients: str
) -> None:
    url = tls_server_checking_clients
    with_cert = ["--tls-ca-cert", tls_files["ca.crt"], "--tls-cert", tls_files["client.crt"],
                 "--tls-key", tls_files["client.key"]]  # fmt: skip

    ok(invoke(*replay_args(url, *with_cert)))
    without = invoke(*replay_args(url, "--tls-ca-cert", tls_files["ca.crt"]))

    assert without.exit_code in (1, 2)
    assert "Traceback" not in without.output
