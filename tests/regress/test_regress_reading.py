"""What a failing case shows (issue 17 item 6): the service's output without terminal
codes and saved in full beside the capture, names escaped in the summary line, the
placeholders a service command and environment may use, and `xtape test --help`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from support.regress import write_case
from typer.testing import CliRunner

from xtape.cli import app
from xtape.regress import Service, load_case, run_case
from xtape.regress.case import ServiceSpec

runner = CliRunner()


@pytest.mark.slow
def test_the_service_output_is_printed_without_colours_and_saved_in_full(tmp_path: Path) -> None:
    run_case(load_case(write_case(tmp_path, count=3)), update=True, runs=1)
    case = load_case(write_case(tmp_path, count=3, env={"VERSION": "2", "NOISY": "1"}))

    result = run_case(case)

    log = tmp_path / "golden.service.log"
    assert result.status == "differs" and result.service_log == log
    details = result.details()
    assert f"--- service output (all of it in {log}) ---\nready group svc on in" in details
    assert "\x1b" not in details
    assert "\x1b[1;34mready" in log.read_text(encoding="utf-8")


def test_control_characters_of_a_case_name_are_escaped_in_the_summary(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, service=False, name="evil\x1b[2Jname\nnext"))

    result = run_case(case)  # no golden yet: invalid, but the line is still one line

    line = result.summary()
    assert "\n" not in line and "\x1b" not in line
    assert line.startswith("INVALID  evil\\x1b[2Jname\\nnext (")


def test_placeholders_and_url_env_reach_the_service(tmp_path: Path) -> None:
    script = "import os, sys; print(sys.argv[1:], os.environ['MINE'], os.environ['OTHER_URL'], flush=True)"
    service = Service(
        [sys.executable, "-c", script, "{host}", "{port}", "{db}"],
        "redis://127.0.0.1:6390/3",
        env={"MINE": "at {url}"},
        url_env="OTHER_URL",
    )
    with service:
        assert service.proc is not None
        service.proc.wait(timeout=20)
        out = service.output
    assert "['127.0.0.1', '6390', '3'] at redis://127.0.0.1:6390/3 redis://127.0.0.1:6390/3" in out


def test_url_env_in_a_case_file(tmp_path: Path) -> None:
    path = write_case(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("  grace: 2s", "  grace: 2s\n  url_env: BROKER_URL"), encoding="utf-8")
    case = load_case(path)
    assert isinstance(case.service, ServiceSpec) and case.service.url_env == "BROKER_URL"


def test_help_of_test_url_says_a_throwaway_server_is_the_default() -> None:
    done = runner.invoke(app, ["test", "--help"], terminal_width=200)
    assert done.exit_code == 0
    text = " ".join(done.stdout.split())
    assert "--url URL Use this Redis instead of a throwaway redis-server per case (the default; $REDIS_URL is not read" in text
    assert "input and output streams are deleted there before its service starts" in text
    assert "default: $REDIS_URL" not in text
    assert "--runs N" in text and "--no-noise" in text
