"""A command's start imports what it needs and no more (issue 18, item 14).

Start-up is measured by ``bench/startup.py``; these tests hold what makes it quick in a
way that can be checked without a clock: which heavy libraries a command's process
has imported when it ends (typer, rich, pydantic, redis-py), that the quick coercion
of command-line values gives what typer's own gives, and that the table naming each
command's module is true.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT

from xtape.server import RedisServer

SAMPLE = str(ROOT / "recordings" / "sample.xtape")
SCENARIO = str(ROOT / "scenarios" / "smoke-test.yaml")

_RUN = """\
import json, sys
out, sys.argv = sys.argv[1], ["xtape", *sys.argv[2:]]
from xtape.cli import main
try:
    main()
finally:
    with open(out, "w") as fh:
        json.dump(sorted(sys.modules), fh)
"""


def _modules_of(tmp_path: Path, *args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules an ``xtape ARGS`` process had imported when it ended, and their
    top-level packages."""
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(out), *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )
    assert out.exists(), done.stderr
    names = json.loads(out.read_text())
    return {*names, *(name.split(".")[0] for name in names)}, done


#: (arguments, packages the command must not import, its exit code). A plain command
#: line runs without typer (``xtape.cli.quick``); ``--help`` and a usage error with it.
IMPORT_CASES: list[tuple[list[str], set[str], int]] = [
    (["--version"], {"typer", "rich", "pydantic", "redis", "msgpack"}, 0),
    (["info", SAMPLE], {"typer", "rich", "pydantic", "redis"}, 0),
    (["cat", SAMPLE, "--limit", "2"], {"typer", "rich", "pydantic", "redis", "yaml"}, 0),
    (["replay", SAMPLE, "--dry-run", "-q", "--max-speed"], {"typer", "pydantic", "redis", "yaml", "prometheus_client"}, 0),
    (["merge", SAMPLE, "-o", "merged.xtape", "-q"], {"typer", "pydantic", "redis", "yaml"}, 0),
    (["diff", SAMPLE, SAMPLE, "-q"], {"typer", "pydantic", "redis", "importlib.metadata"}, 0),
    (["convert", SAMPLE, "-o", "out.yaml", "-q"], {"typer", "pydantic", "redis", "importlib.metadata"}, 0),
    (["infer", SAMPLE, "-o", "catalog.yaml", "-q"], {"typer", "pydantic", "redis", "jsonschema", "importlib.metadata"}, 0),
    (["test", "--help"], {"pydantic", "redis"}, 0),
    (["import", "--help"], {"pydantic", "redis", "pyarrow", "mcap"}, 0),
    (["replay", "--help"], {"pydantic", "redis"}, 0),
    # jmespath only with --where (issue 21)
    (["cut", SAMPLE, "-o", "cut.xtape", "-q", "--sample", "50%"], {"typer", "pydantic", "redis", "yaml", "jmespath"}, 0),
    (["replay", SAMPLE, "--dry-run", "-q", "--max-speed", "--multiply", "2"], {"typer", "pydantic", "redis", "jmespath"}, 0),
    (["cat", SAMPLE, "--where", "fields.user", "-n", "1"], {"typer", "pydantic", "redis", "yaml"}, 0),
    # a scenario is loaded and checked without pydantic (the catalog's JSON Schemas aside)
    (["validate", SCENARIO, "--no-catalog"], {"typer", "pydantic", "redis", "jsonschema", "rich"}, 0),
    (["replay", SCENARIO, "--dry-run", "-q", "--no-catalog", "--max-speed"], {"typer", "pydantic", "redis", "jsonschema"}, 0),
    # ... and against its catalog (streams.yaml beside it), its checks compiled or cached
    (["validate", SCENARIO], {"typer", "pydantic", "redis", "jsonschema", "rich"}, 0),
    # (a scenario is told from a recording without the recording modules)
    (["replay", SCENARIO, "--dry-run", "-q", "--max-speed"], {"typer", "pydantic", "redis", "jsonschema", "xtape.recording", "orjson", "importlib.resources"}, 0),
    # a usage error is said in typer's words without pydantic, a summary line without rich
    (["cat", SAMPLE, "--limit", "x"], {"pydantic", "redis", "rich"}, 2),
    (["convert", SAMPLE, "-o", "said.yaml"], {"typer", "pydantic", "redis", "rich"}, 0),
    # a replay's --json report needs nothing of the diff's
    (["replay", SAMPLE, "--dry-run", "-q", "--json", "--max-speed"], {"typer", "pydantic", "redis", "xtape.diff", "xtape.codecs"}, 0),
    # plot reads the recording before it imports matplotlib (to draw)
    (["plot", str(ROOT / "pyproject.toml"), "-o", "out.html"], {"matplotlib", "pydantic", "redis"}, 2),
]


@pytest.mark.parametrize(("args", "banned", "code"), IMPORT_CASES, ids=[" ".join(a[:2]) for a, _, _ in IMPORT_CASES])
def test_a_command_does_not_import_what_it_does_not_need(
    tmp_path: Path, args: list[str], banned: set[str], code: int
) -> None:
    modules, done = _modules_of(tmp_path, *args)
    assert done.returncode == code, done.stderr
    assert modules & banned == set()


def test_a_refused_value_still_gets_typers_own_message(tmp_path: Path) -> None:
    # The quick coercion leaves a value it cannot vouch for to typer (and pydantic).
    _, done = _modules_of(tmp_path, "cat", SAMPLE, "--limit", "-1")
    assert done.returncode == 2
    assert done.stderr == (
        "xtape: error: Invalid value for '--limit' / '-n': Input should be greater than or "
        "equal to 0 (see 'xtape cat --help')\n"
    )
    _, done = _modules_of(tmp_path, "replay", SAMPLE, "--speed", "abc", "--dry-run")
    assert done.returncode == 2
    assert done.stderr == (
        "xtape: error: Invalid value for '--speed': Input should be a valid number, unable to "
        "parse string as a number (see 'xtape replay --help')\n"
    )


def test_version_without_typer_prints_what_typer_did(tmp_path: Path) -> None:
    quick = subprocess.run(
        [sys.executable, "-c", "import sys; sys.argv = ['xtape', '--version']\nfrom xtape.cli import main\nmain()"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    from typer.testing import CliRunner

    from xtape.cli import app

    through_typer = CliRunner().invoke(app, ["--version"])
    assert quick.returncode == through_typer.exit_code == 0
    assert quick.stdout == through_typer.stdout
    assert quick.stdout.startswith("xtape ")


def test_the_command_module_table_names_every_command_and_its_module() -> None:
    from xtape.cli import COMMAND_MODULE, COMMAND_MODULES, app

    registered = {
        (command.name or command.callback.__name__): command.callback.__module__  # type: ignore[union-attr]
        for command in app.registered_commands
    }
    assert {name: f"xtape.cli.{module}" for name, module in COMMAND_MODULE.items()} == registered
    assert set(COMMAND_MODULE.values()) == set(COMMAND_MODULES)


def _words(annotation: Any) -> list[Any]:
    """Command-line words (and defaults) to coerce for one annotation."""
    texts = ["", "abc", "-x", " 5", "5 ", "0", "7", "-3", "007", "1_000", "+4", "0x10", "1.5",
             "-0.25", "2.", ".5", "1e3", "inf", "nan", "99999999999999999999999", "\u0661",
             "recordings/sample.xtape", "missing/file.xtape", "recordings", "a\x00b"]
    return [*texts, 3, 2.5, True, Path("recordings/sample.xtape"), Path("missing")]


def test_quick_coercion_gives_what_typers_own_gives_or_steps_aside() -> None:
    typer_coercion = pytest.importorskip("typer._coercion")
    from typer.main import get_command

    from xtape.cli import app
    from xtape.cli._params import UNSET, quick_value

    group = get_command(app)
    checked = 0
    for command in [group, *group.commands.values()]:  # type: ignore[attr-defined]
        for param in command.params:
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is None:
                continue
            annotation = descriptor.annotation
            listed = getattr(annotation, "__origin__", None) is list
            for word in _words(annotation):
                value = (word, word) if listed else word
                quick = quick_value(annotation, descriptor.parameter_info, value)
                if quick is UNSET:
                    continue
                real = typer_coercion.build_runtime_param(descriptor)
                expected = real.coerce(value, param=param, ctx=None)
                assert quick == expected and type(quick) is type(expected), (command.name, param.name, value)
                checked += 1
    assert checked > 100  # (the quick path does handle the plain cases)


# --------------------------------------------------------------------------- replay's connection


def test_replay_into_a_plain_url_needs_no_redis_py(tmp_path: Path, make_server: Any) -> None:
    server = make_server(extra_args=["--requirepass", "pw d"])
    url = f"redis://:pw%20d@127.0.0.1:{server.port}/3"
    modules, done = _modules_of(tmp_path, "replay", SAMPLE, "--max-speed", "--url", url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["published"] == 155
    assert modules & {"redis", "pydantic"} == set()

    import redis

    client = redis.Redis(port=server.port, db=3, password="pw d", protocol=2)
    try:
        assert sum(client.xlen(key) for key in client.scan_iter()) == 155
        assert client.xrange("prod:order.request", count=1)[0][1][b"orderId"] == b"order_liq_1"
    finally:
        client.close()


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("redis://127.0.0.1:7000/2", ("127.0.0.1", 7000, 2, [])),
        ("redis://localhost", ("localhost", 6379, 0, [])),
        ("redis://[::1]:6390/", ("::1", 6390, 0, [])),
        ("redis://:p%40ss@h:1/0", ("h", 1, 0, [b"p@ss"])),
        ("redis://app:pw@h/0", ("h", 6379, 0, [b"app", b"pw"])),
    ],
)
def test_a_plain_url_is_connected_without_redis_py(url: str, target: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    from xtape.plain import _plain_target

    monkeypatch.delenv("XTAPE_REDIS_PASSWORD", raising=False)
    monkeypatch.delenv("REDISCLI_AUTH", raising=False)
    assert _plain_target(url) == target


def test_the_password_from_the_environment_is_used_as_connect_uses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from xtape.plain import _plain_target

    monkeypatch.setenv("XTAPE_REDIS_PASSWORD", "from-env")
    assert _plain_target("redis://h/0") == ("h", 6379, 0, [b"from-env"])
    assert _plain_target("redis://:url@h/0") == ("h", 6379, 0, [b"url"])


@pytest.mark.parametrize(
    "url",
    [
        "rediss://h:6380/0",  # TLS
        "unix:///tmp/redis.sock",
        "redis://h/0?socket_timeout=3",  # options: redis-py reads them
        "redis://h/0#x",
        "redis://user@h/0",  # a name alone
        "redis://user:@h/0",
        "redis://h/x",  # refused, in connect's words
        "redis://h:99999/0",
        "redis://a:b/c@h/0",  # unclean userinfo
        "http://h/0",
    ],
)
def test_anything_else_takes_the_usual_path(url: str) -> None:
    from xtape.plain import _plain_target

    assert _plain_target(url) is None


@pytest.fixture()
def silent_server() -> Iterator[str]:
    """The URL of a SIGSTOPped redis-server: it accepts connections, never answers."""
    server = RedisServer().start()
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield server.url
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
        server.close()


def test_replay_into_a_server_that_does_not_answer_says_so_as_connect_does(silent_server: str, tmp_path: Path) -> None:
    _, done = _modules_of(tmp_path, "replay", SAMPLE, "--max-speed", "--url", silent_server)
    assert done.returncode == 1
    assert done.stderr == f"xtape: error: cannot reach Redis at {silent_server}: the server did not answer within 4 s\n"


# --------------------------------------------------------------------------- the recorder's connection


def test_record_from_a_plain_url_needs_no_redis_py_and_keeps_the_bytes(tmp_path: Path, make_server: Any) -> None:
    import redis
    from support.capture import by_stream

    server = make_server(extra_args=["--requirepass", "pw d"])
    client = redis.Redis(port=server.port, db=3, password="pw d", protocol=2)
    try:
        for i in range(30):  # (a field name twice, binary names and values)
            client.execute_command("XADD", b"src:\xff", "*", b"n", i, b"\x00bin\xfe", bytes(range(256)), b"n", b"again")
        client.set_response_callback("XRANGE", lambda reply, **options: reply)
        raw = client.execute_command("XRANGE", b"src:\xff", "-", "+")
    finally:
        client.close()
    url = f"redis://:pw%20d@127.0.0.1:{server.port}/3"
    out = tmp_path / "out.xtape"
    modules, done = _modules_of(tmp_path, "record", "src:*", "--from", "start", "--count", "30", "--url", url, "-o", str(out), "-q")
    assert done.returncode == 0, done.stderr
    assert modules & {"redis", "pydantic", "typer"} == set()
    recorded = by_stream(out)[b"src:\xff"]
    assert len(recorded) == 30 and len(recorded[0][1]) == 6
    assert recorded == [(bytes(id_), list(fields)) for id_, fields in raw]  # every field, in the server's order


def test_record_from_a_server_that_does_not_answer_says_so_as_connect_does(silent_server: str, tmp_path: Path) -> None:
    _, done = _modules_of(tmp_path, "record", "x*", "--url", silent_server, "-o", str(tmp_path / "o.xtape"), "-q")
    assert done.returncode == 1
    assert done.stderr == f"xtape: error: cannot reach Redis at {silent_server}: the server did not answer within 4 s\n"
