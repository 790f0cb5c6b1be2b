"""The quick parser (``xtape.cli.quick``) calls a command with exactly the values typer
would, or leaves the command line to typer (issue 18, item 14).

For every declared command, command lines are made from its own options: each option
alone with a value of its type, each flag, every option at once, repeated options,
``--opt=value``; and random lines of option words and awkward values (Hypothesis).
Whenever the quick parser takes a line, typer must take it too and call the command
with the same values; what typer refuses, the quick parser must leave to it.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.paths import ROOT

from xtape.cli import COMMAND_MODULE, app
from xtape.cli.decl import COMMANDS, Arg, Opt
from xtape.cli.injected import _Command
from xtape.cli.quick import _plain, parse

QUICK = sorted(name for name in COMMANDS if name != "test")
FILE = str(ROOT / "recordings" / "sample.xtape")


class _Called(Exception):
    """Raised in place of running the command: carries what typer called it with."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values


@pytest.fixture(autouse=True)
def _typer_calls_nothing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def record(self: _Command, *args: Any, **kwargs: Any) -> Any:
        raise _Called(kwargs)

    monkeypatch.setattr(_Command, "__call__", record)
    yield


def typer_values(name: str, words: list[str]) -> dict[str, Any] | None:
    """What typer calls command ``name`` with for ``words``; None if it refuses them."""
    import typer.main

    command = typer.main.get_command(app)
    try:
        command.main(args=[name, *words], prog_name="xtape", standalone_mode=False)
    except _Called as called:
        values = dict(called.values)
        values.pop("config", None)
        values.pop("print_config", None)
        return values
    except Exception as exc:  # (click's usage errors, duck-typed)
        assert hasattr(exc, "exit_code"), exc
        return None
    raise AssertionError(f"typer neither called {name} nor refused {words}")


def _params(name: str) -> list[tuple[str, Any, Opt | Arg, Any]]:
    f = COMMANDS[name].function
    hints = typing.get_type_hints(f, include_extras=True)
    out = []
    for p in inspect.signature(f).parameters.values():
        info = next(m for m in hints[p.name].__metadata__ if isinstance(m, (Opt, Arg)))
        out.append((p.name, hints[p.name].__origin__, info, p.default))
    return out


def _sample(annotation: Any) -> str:
    inner, _ = _plain(annotation)
    return {int: "3", float: "2.5", Path: FILE}.get(inner, "abc")


def _arguments(name: str) -> list[str]:
    """The words every line of ``name`` needs: its required arguments and options."""
    words = []
    for _, annotation, info, default in _params(name):
        if default is inspect.Parameter.empty:
            words += [FILE] if isinstance(info, Arg) else [info.decls[0], _sample(annotation)]
    return words


def _lines(name: str) -> Iterator[list[str]]:
    """Command lines made from ``name``'s own declarations."""
    args = _arguments(name)
    yield args
    everything = list(args)
    for _, annotation, info, default in _params(name):
        if isinstance(info, Arg) or default is inspect.Parameter.empty:
            continue
        inner, many = _plain(annotation)
        for decl in info.decls:
            on, _, off = decl.partition("/")
            if inner is bool:
                yield [*args, on]
                if off:
                    yield [*args, off]
                continue
            value = _sample(annotation)
            yield [*args, on, value]
            if on.startswith("--"):
                yield [f"{on}={value}", *args]
            if many:
                yield [*args, on, value, on, value + "2" if value != FILE else value]
        first = info.decls[0].partition("/")[0]
        everything += [first] if inner is bool else [first, _sample(annotation)]
    yield everything


def _compare(name: str, words: list[str]) -> dict[str, Any] | None:
    quick = parse(COMMANDS[name], words)
    if quick is not None:
        assert typer_values(name, words) == quick, words
    return quick


@pytest.mark.parametrize("name", QUICK)
def test_the_quick_parser_gives_what_typer_gives_for_every_option(name: str) -> None:
    taken = [words for words in _lines(name) if _compare(name, words) is not None]
    # Almost every line of a command's own options is plain: the quick path is the
    # usual one (the rest are values a check of typer's must see, such as a Path of a
    # file that is there).
    assert len(taken) >= 0.9 * len(list(_lines(name))), name


@pytest.mark.parametrize(
    "words",
    [
        ["--help"], ["-h"], ["--nope"], ["--limit", "x"], ["--limit", "-1"], ["-qn", "2"], ["-n2"],
        ["--", "x"], ["--limit", "2", "--limit", "3"], ["--limit"], ["--json=1"], [FILE, FILE],
        ["--limit", "1_000"], ["--limit", " 5"],
    ],
)
def test_what_the_quick_parser_is_not_sure_of_goes_to_typer(words: list[str]) -> None:
    line = [FILE, *words] if words and words[0] != FILE else words
    assert parse(COMMANDS["cat"], line) is None


def test_a_command_with_a_context_is_typers() -> None:
    assert parse(COMMANDS["test"], ["case.yaml"]) is None


_WORDS = st.sampled_from(
    ["-", "", "x", "3", "-3", "2.5", "1e3", "inf", " 7", "0", "a=b", "*", "--", "-q", "-o", FILE, "nan", "1_0"]
)


@settings(max_examples=150)
@given(data=st.data())
def test_random_lines_are_typers_or_the_same(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(QUICK))
    words = [decl.partition("/")[0] for _, _, info, _ in _params(name) if isinstance(info, Opt) for decl in info.decls]
    line = data.draw(st.lists(st.one_of(st.sampled_from(words), _WORDS), max_size=8))
    _compare(name, line)


def test_every_command_module_declares_what_the_table_says() -> None:
    for name, module in COMMAND_MODULE.items():
        assert COMMANDS[name].function.__module__ == f"xtape.cli.{module}", name


_RUN = """\
import json, sys
sys.argv = ["xtape", *sys.argv[1:]]
from xtape.cli import main
try:
    main()
finally:
    sys.stderr.write("\\ntyper imported: %s\\n" % ("typer" in sys.modules))
"""


def test_a_plain_replay_runs_without_typer_and_a_usage_error_with_it(tmp_path: Path) -> None:
    scenario = ROOT / "scenarios" / "smoke-test.yaml"
    done = subprocess.run(
        [sys.executable, "-c", _RUN, "replay", str(scenario), "--dry-run", "-q", "--seed", "5"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "typer imported: False" in done.stderr
    assert "service.heartbeat" in done.stdout
    refused = subprocess.run(
        [sys.executable, "-c", _RUN, "replay", str(scenario), "--dry-run", "--seed", "x"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )
    assert refused.returncode == 2
    assert "typer imported: True" in refused.stderr
    assert "--seed" in refused.stderr and "Traceback" not in refused.stderr


def test_an_invalid_log_format_is_said_in_the_environments_format_as_typer_says_it(tmp_path: Path) -> None:
    import json
    import os

    env = {**os.environ, "XTAPE_LOG_FORMAT": "json"}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, "cat", FILE, "-n", "1", "--log-format", "xml"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False, env=env,
    )
    assert done.returncode == 2
    assert "typer imported: False" in done.stderr
    said = json.loads(done.stderr.splitlines()[0])
    assert (said["level"], said["message"]) == ("error", "invalid --log-format 'xml': choose text or json")


def test_a_broken_pipe_that_is_not_standard_outputs_ends_with_exit_1_as_under_typer() -> None:
    from xtape.cli.quick import run

    def command() -> None:
        raise BrokenPipeError(32, "Broken pipe")  # (a socket's, say; stdout is open)

    assert run(command, {"log_format": "text"}) == 1
