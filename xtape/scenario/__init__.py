"""Scenarios: the YAML/JSON format users write, checked, templated and rendered into a timeline.

    load_scenario(path) -> Scenario         validated, errors as ``path:line: key: what``
    check_scenario(scenario, variables)     undefined variables / generators, before publishing
    validate_scenario(path, variables)      every problem of a file, running none of its code
    render(scenario, ...) -> Timeline       the events of one pass, lazily
    ScenarioSource(path_or_scenario, ...)   a :class:`xtape.timeline.Source` for the replayer

``payload_to_fields`` / ``fields_to_payload`` / ``dump_scenario_yaml`` are the encoding
both ways, used by the converter. This package never imports redis.
"""

from __future__ import annotations

from xtape.scenario.check import Checked, validate_scenario
from xtape.scenario.context import BUILTINS, RenderContext
from xtape.scenario.encoding import (
    event_from_fields,
    fields_to_payload,
    has_placeholder,
    payload_to_fields,
)
from xtape.scenario.fixtures import builtin_generators
from xtape.scenario.loader import load_scenario, load_scenario_text, read_scenario
from xtape.scenario.model import EventSpec, Scenario
from xtape.scenario.plan import Plan, check_scenario, compile_scenario
from xtape.scenario.render import ScenarioSource, duration_ms, render, wall_clock_schedule
from xtape.scenario.values import Encoding, JsonEncoding
from xtape.yamlfile.dump import dump_scenario_yaml

__all__ = [
    "BUILTINS",
    "Checked",
    "Encoding",
    "EventSpec",
    "JsonEncoding",
    "Plan",
    "RenderContext",
    "Scenario",
    "ScenarioSource",
    "builtin_generators",
    "check_scenario",
    "compile_scenario",
    "dump_scenario_yaml",
    "duration_ms",
    "event_from_fields",
    "fields_to_payload",
    "has_placeholder",
    "load_scenario",
    "load_scenario_text",
    "payload_to_fields",
    "read_scenario",
    "render",
    "validate_scenario",
    "wall_clock_schedule",
]
