"""Loading scenario files: YAML or JSON text -> a validated :class:`Scenario`.

Every problem becomes one :class:`ScenarioError` line ``path:line: key: what``, the line
being where the offending key sits in the file. All problems of a file are found in one
go (:func:`read_scenario`); :func:`load_scenario` raises them (one error, or
:class:`ScenarioInvalid` holding several).

Big files: YAML is built straight from libyaml's parse events (no node tree), events are
checked without pydantic (:mod:`.model`), and lines are looked up only for the keys an
error names (a second, light pass), so a 200,000-event file loads in seconds.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from xtape.errors import InputError, ScenarioError, YamlError
from xtape.scenario.locations import SourceMap, located_errors, raise_errors
from xtape.scenario.model import Problem, Scenario, check_document
from xtape.timeline import STDIN_NAME
from xtape.yamlfile.load import read_yaml
from xtape.yamlfile.locate import locate

TOO_DEEP = "nested too deeply to read"

SUFFIXES = (".yaml", ".yml", ".json")

#: ``progress(done, total)``: how much of a file is read (characters).
Progress = Callable[[int, int], None]


@dataclass
class Loaded:
    """What reading a file found: the scenario (None if it is not one) and every problem.

    With problems in single events, ``scenario`` still holds the other events, so the
    static check can look at them too (``xtape validate`` reports everything at once).
    """

    scenario: Scenario | None
    errors: list[InputError] = field(default_factory=list)


def load_scenario(path: str | Path, *, progress: Progress | None = None) -> Scenario:
    """Read and validate a scenario file (``.yaml``, ``.yml`` or ``.json``)."""
    loaded = read_scenario(path, progress=progress)
    raise_errors(loaded.errors)
    assert loaded.scenario is not None
    return loaded.scenario


def read_scenario(path: str | Path, *, progress: Progress | None = None) -> Loaded:
    """Read a scenario file and find every problem in it (none raised, except unreadable)."""
    shown = str(path)
    file = Path(path)
    stdin = shown == "-"
    if stdin:
        shown = STDIN_NAME  # YAML (JSON reads as YAML too)
    elif file.suffix.lower() not in SUFFIXES:
        return Loaded(None, [ScenarioError(shown, None, f"not a scenario file (expected one of {', '.join(SUFFIXES)})")])
    try:
        raw = sys.stdin.buffer.read() if stdin else file.read_bytes()
    except OSError as error:
        return Loaded(None, [ScenarioError(shown, None, f"cannot read: {error.strerror or error}")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return Loaded(None, [ScenarioError(shown, line, "not UTF-8 text")])
    del raw
    return read_scenario_text(text, shown, progress=progress)


def load_scenario_text(text: str, path: str = "<scenario>") -> Scenario:
    """Validate scenario ``text``; ``path`` is used in messages and for the default name."""
    loaded = read_scenario_text(text, path)
    raise_errors(loaded.errors)
    assert loaded.scenario is not None
    return loaded.scenario


def read_scenario_text(text: str, path: str = "<scenario>", *, progress: Progress | None = None) -> Loaded:
    """Like :func:`read_scenario`, for text already read."""
    try:
        data = _parse(text, path, progress)
    except YamlError as error:
        return Loaded(None, [ScenarioError(error.path, error.line, error.reason)])
    except ScenarioError as error:
        return Loaded(None, [error])
    source = SourceMap(path, {}, partial(locate, text))  # lines looked up only when needed
    problems: list[Problem] = []
    default_name = Path(path).stem if path != "<scenario>" else None
    try:
        scenario = check_document(data, default_name, problems)
    except RecursionError:  # JSON nested deeper than MAX_DEPTH (YAML refuses it on reading)
        return Loaded(None, [ScenarioError(path, None, TOO_DEEP)])
    del data
    errors = located_errors(source, ((loc, what, ScenarioError) for loc, what in problems))
    if scenario is not None:
        scenario.source = source
    return Loaded(scenario, errors)


def _parse(text: str, path: str, progress: Progress | None) -> Any:
    if path.lower().endswith(".json"):
        return _parse_json(text, path)
    return read_yaml(text, path, progress=progress)


class _DuplicateKey(Exception):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _DuplicateKey
    return found


def _parse_json(text: str, path: str) -> Any:
    try:
        data = json.loads(text, object_pairs_hook=_unique)
    except json.JSONDecodeError as error:
        raise ScenarioError(path, error.lineno, f"invalid JSON: {error.msg}") from None
    except RecursionError:
        raise ScenarioError(path, None, TOO_DEEP) from None
    except _DuplicateKey:
        read_yaml(text, path)  # JSON is YAML: its YamlError names the key and its line
        raise ScenarioError(path, None, "duplicate key in a JSON object") from None
    return data
