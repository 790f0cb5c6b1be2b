"""``xtape record --config FILE``: every option of record from a YAML file, checked like
the other files (``path:line: key: what``); the command line wins; ``--print-config``
shows the effective configuration without the URL's password."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import redis
import typer
import typer.main
from support.e2e import error_line, invoke, ok

from xtape.cli import app
from xtape.cli.config import ConfigCommand, config_params
from xtape.recording import summarize


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> tuple[Path, str]:
    """``record --config FILE`` of a file holding ``text``: the file, and its one error line (exit 2)."""
    config = write(tmp_path / "r.yaml", text)
    return config, error_line(invoke("record", "--config", config), 2)


def printed(result: object) -> dict[str, tuple[str, str]]:
    """``--print-config``'s lines: ``{key: (value as written, where it came from)}``."""
    rows = {}
    for line in ok(result).stdout.splitlines()[1:]:  # type: ignore[arg-type]
        text, _, where = line.partition("  # ")
        key, _, value = text.partition(": ")
        rows[key] = (value.strip(), where)
    return rows


def test_every_option_of_record_is_a_key_of_its_config_file() -> None:
    command = typer.main.get_command(app).commands["record"]  # type: ignore[attr-defined]
    options = {
        max((o for o in p.opts if o.startswith("--")), key=len)[2:]
        for p in command.params
        if p.param_type_name == "option" and p.name not in ("config", "print_config")
    }
    assert set(config_params(command)) == options | {"streams"}
    assert {"split-size", "keep-last", "redact", "from", "url", "output", "log-format"} <= options


def test_a_recording_runs_from_the_config_file(tmp_path: Path, redis_url: str, r: redis.Redis) -> None:
    for i in range(7):
        r.xadd("orders:eu", {"n": i})
    out = tmp_path / "r.xtape"
    config = write(
        tmp_path / "record.yaml",
        f"streams: ['orders:*']\noutput: {out}\nurl: {redis_url}\nfrom: start\ncount: 7\nquiet: true\n",
    )
    result = ok(invoke("record", "--config", config))
    assert result.stderr == ""  # quiet: true, from the file
    assert summarize(out).entries == 7


def test_the_command_line_wins_over_the_file_and_print_config_says_where_each_value_came_from(tmp_path: Path) -> None:
    config = write(
        tmp_path / "record.yaml",
        "# a recorder\nstreams: [a, b]\noutput: split/\nsplit-size: 64MiB\nkeep-last: 24h\nredact: [password, token]\nurl: redis://app@10.0.0.7:6379/2\n",
    )
    rows = printed(invoke("record", "--config", config, "--print-config", "--keep-last", "2h", "--redact", "pin"))
    assert rows["streams"] == ("[a, b]", f"{config}:2")
    assert rows["split-size"] == ("64MiB", f"{config}:4")
    assert rows["keep-last"] == ("2h", "command line")
    assert rows["redact"] == ("[pin]", "command line")  # a repeatable option: the whole list
    assert rows["compression"] == ("zstd", "default")
    assert rows["url"][1] == f"{config}:7"
    rows = printed(invoke("record", "--config", config, "c", "--print-config", "--url", "redis://:hunter2@h:1/0"))
    assert rows["streams"] == ("[c]", "command line")
    assert rows["url"] == ("redis://:***@h:1/0", "command line")


def test_print_config_never_shows_a_password_even_from_the_environment(tmp_path: Path) -> None:
    result = invoke("record", "s", "-o", tmp_path / "r.xtape", "--print-config", env={"REDIS_URL": "redis://u:hunter2@h:1/0"})
    rows = printed(result)
    assert rows["url"] == ("redis://u:***@h:1/0", "$REDIS_URL")
    assert "hunter2" not in result.stdout


def test_an_unknown_key_is_named_with_its_line_and_the_key_it_meant(tmp_path: Path) -> None:
    config, line = refused(tmp_path, "streams: [a]\noutput: o.xtape\nkeep_last: 1h\n")
    assert line == f"xtape: error: {config}:3: unknown key 'keep_last' (did you mean 'keep-last'?)"


def test_a_value_of_the_wrong_kind_is_refused_with_its_line(tmp_path: Path) -> None:
    config, line = refused(tmp_path, "streams: [a]\noutput: o.xtape\n\ncount: 0\nfsync: yes\n")
    assert line.startswith(f"xtape: error: {config}:4: count: ")
    assert "0" in line and line.endswith("(and 1 more problem)")
    config, line = refused(tmp_path, "streams: [a]\noutput: o.xtape\nfsync: yes\n")
    assert line == f"xtape: error: {config}:3: fsync: expected true or false, got text"


def test_a_value_the_command_refuses_names_the_files_line(tmp_path: Path) -> None:
    config, line = refused(tmp_path, f"streams: [a]\noutput: {tmp_path}/o.xtape\nduration: 5x\n")
    assert line.startswith(f"xtape: error: {config}:3: duration: invalid --duration '5x': ")
    config, line = refused(tmp_path, f"streams: [a]\noutput: {tmp_path}/o.xtape\nkeep-last: 1h\n")
    assert line == f"xtape: error: {config}:3: keep-last: --keep-last needs --split-size or --split-duration"


def test_a_password_in_the_files_url_is_refused(tmp_path: Path) -> None:
    config, line = refused(tmp_path, "streams: [a]\noutput: o.xtape\nurl: redis://:hunter2@localhost/0\n")
    assert line.startswith(f"xtape: error: {config}:3: url: holds a password")
    assert "hunter2" not in line and "XTAPE_REDIS_PASSWORD" in line


def test_a_file_that_is_not_a_mapping_or_not_there_is_one_line(tmp_path: Path) -> None:
    config = write(tmp_path / "r.yaml", "- a\n")
    assert error_line(invoke("record", "--config", config), 2).endswith(f"{config}:1: expected a mapping of option names to values, got a list")
    line = error_line(invoke("record", "--config", tmp_path / "none.yaml"), 2)
    assert line.endswith("none.yaml: cannot read the config file: No such file or directory")


def test_an_option_added_to_a_command_is_a_key_with_no_edit_of_the_config_code(tmp_path: Path) -> None:
    """As ``--metrics``/``--snapshot`` added to record by another branch would be."""
    from xtape.cli import app as xtape_app

    other = type(xtape_app)(add_completion=False)
    seen: dict[str, object] = {}

    @other.command(cls=ConfigCommand)
    def fake(
        streams: Annotated[list[str], typer.Argument()],
        metrics: Annotated[str | None, typer.Option("--metrics", metavar="ADDR")] = None,
        snapshot: Annotated[str | None, typer.Option("--snapshot", metavar="D")] = None,
    ) -> None:
        seen.update(streams=streams, metrics=metrics, snapshot=snapshot)

    @other.command()
    def unused() -> None:
        """(a second command keeps ``fake`` a subcommand)"""

    from typer.testing import CliRunner

    config = write(tmp_path / "c.yaml", "streams: [a]\nmetrics: ':9464'\nsnapshot: 5m\n")
    result = CliRunner().invoke(other, ["fake", "--config", str(config), "--snapshot", "1m"])
    assert result.exit_code == 0, result.output
    assert seen == {"streams": ["a"], "metrics": ":9464", "snapshot": "1m"}
    config = write(tmp_path / "c.yaml", "streams: [a]\nmetric: ':9464'\n")
    result = CliRunner().invoke(other, ["fake", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}:2: unknown key 'metric' (did you mean 'metrics'?)" in result.stderr


def test_the_log_format_may_come_from_the_file_too(tmp_path: Path) -> None:
    import json

    config = write(tmp_path / "r.yaml", f"streams: [a]\noutput: {tmp_path}/o.xtape\nlog-format: json\nuntil-idle: soon\n")
    result = invoke("record", "--config", config)
    assert result.exit_code == 2
    record = json.loads(result.stderr)
    assert record["event"] == "error"
    assert record["message"].startswith(f"{config}:4: until-idle: invalid --until-idle 'soon'")
