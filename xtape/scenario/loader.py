"""Loading scenario files: YAML or JSON text -> a validated :class:`Scenario`.

Every problem becomes one :class:`ScenarioError` line ``path:line: key: what``, the line
being where the offending key sits in the file.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from xtape.errors import ScenarioError
from xtape.scenario.locations import Loc, SourceMap, format_loc, scenario_error, show
from xtape.scenario.model import EventSpec, JsonEncoding, Scenario
from xtape.scenario.yaml_io import load_yaml

SUFFIXES = (".yaml", ".yml", ".json")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (``.yaml``, ``.yml`` or ``.json``)."""
    shown = str(path)
    file = Path(path)
    if file.suffix.lower() not in SUFFIXES:
        raise ScenarioError(
            f"not a scenario file (expected one of {', '.join(SUFFIXES)})", shown
        )
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise ScenarioError(f"cannot read: {error.strerror or error}", shown) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ScenarioError("not UTF-8 text", shown, line) from None
    return load_scenario_text(text, shown)


def load_scenario_text(text: str, path: str = "<scenario>") -> Scenario:
    """Validate scenario ``text``; ``path`` is used in messages and for the default name."""
    if path.lower().endswith(".json"):
        _load_json(text, path)  # strict JSON syntax first (YAML would forgive a trailing comma)
    try:
        data, lines = load_yaml(text, path)
    except ScenarioError:
        if not path.lower().endswith(".json"):
            raise
        data, lines = _load_json(text, path)  # JSON that YAML 1.1 cannot read (rare)
    source = SourceMap(path, lines)
    if data is None:
        raise scenario_error(source, (), "empty scenario: expected a mapping with an events: list")
    if not isinstance(data, dict):
        raise scenario_error(
            source, (), f"a scenario must be a mapping with an events: list (got {show(data)})"
        )
    if "name" not in data and path != "<scenario>":
        data = {"name": Path(path).stem, **data}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise _translate(error, source) from None
    scenario._source = source
    return scenario


def _load_json(text: str, path: str) -> tuple[Any, dict[Loc, int]]:
    try:
        return json.loads(text), {}
    except json.JSONDecodeError as error:
        raise ScenarioError(f"invalid JSON: {error.msg}", path, error.lineno) from None


def _translate(error: ValidationError, source: SourceMap) -> ScenarioError:
    """The first (topmost in the file) pydantic error as one ``path:line: key: what`` line."""
    found = [_explain(detail) for detail in error.errors()]
    found.sort(key=lambda item: source.line(item[0]))
    loc, message = found[0]
    more = len(found) - 1
    if more:
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return ScenarioError(message, source.path, source.line(loc))


def _explain(detail: ErrorDetails) -> tuple[Loc, str]:
    """The location whose line to show, and the message (starting with the key path)."""
    loc, message = _explain_at(detail)
    if detail["type"] == "extra_forbidden":
        return loc, message
    where = format_loc(loc[:-1] if detail["type"] == "missing" else loc)
    return loc, f"{where}: {message}" if where else message


def _explain_at(detail: ErrorDetails) -> tuple[Loc, str]:
    loc: Loc = tuple(detail["loc"])
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    got = show(detail.get("input"))
    if kind == "xtape":
        return (*loc, *ctx.get("subloc", ())), str(ctx["message"])
    if kind == "extra_forbidden":
        parent, key = loc[:-1], loc[-1]
        return loc, _unknown_key(parent, key)
    if kind == "missing":
        return loc, f"missing required key {loc[-1]!r}"
    if kind in ("string_type", "string_sub_type"):
        return loc, f"must be a string (got {got})"
    if kind == "string_too_short":
        return loc, "must not be empty"
    if kind == "too_short":
        return loc, "must not be empty"
    if kind == "bool_type":
        return loc, f"must be true or false (got {got})"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"must be a mapping (got {got})"
    if kind == "list_type":
        return loc, f"must be a list (got {got})"
    message = detail["msg"]
    return loc, f"{message[:1].lower()}{message[1:]} (got {got})"


def _unknown_key(parent: Loc, key: object) -> str:
    valid: list[str] = []
    if parent == ():
        valid = list(Scenario.model_fields)
    elif len(parent) == 2 and parent[0] == "events":
        valid = list(EventSpec.model_fields)
    elif parent == ("encoding",):
        valid = [field.alias or name for name, field in JsonEncoding.model_fields.items()]
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(str(key), valid, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    elif valid:
        message += f" (valid keys: {', '.join(valid)})"
    where = format_loc(parent)
    return f"{where}: {message}" if where else message
