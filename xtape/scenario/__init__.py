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

from typing import TYPE_CHECKING

from xtape._lazy import lazy_getattr, public_dir

_EXPORTS: dict[str, str] = {
    "BUILTINS": "xtape.scenario.context",
    "Checked": "xtape.scenario.check",
    "Encoding": "xtape.scenario.values",
    "EventSpec": "xtape.scenario.spec",
    "JsonEncoding": "xtape.scenario.values",
    "Plan": "xtape.scenario.plan",
    "RenderContext": "xtape.scenario.context",
    "Scenario": "xtape.scenario.model",
    "ScenarioSource": "xtape.scenario.render",
    "builtin_generators": "xtape.scenario.fixtures",
    "check_scenario": "xtape.scenario.plan",
    "compile_scenario": "xtape.scenario.plan",
    "dump_scenario_yaml": "xtape.yamlfile.dump",
    "duration_ms": "xtape.scenario.render",
    "event_from_fields": "xtape.scenario.encoding",
    "fields_to_payload": "xtape.scenario.encoding",
    "has_placeholder": "xtape.scenario.encoding",
    "load_scenario": "xtape.scenario.loader",
    "load_scenario_text": "xtape.scenario.loader",
    "payload_to_fields": "xtape.scenario.encoding",
    "read_scenario": "xtape.scenario.loader",
    "render": "xtape.scenario.render",
    "validate_scenario": "xtape.scenario.check",
    "wall_clock_schedule": "xtape.scenario.render",
}

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

if TYPE_CHECKING:
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
    from xtape.scenario.model import Scenario
    from xtape.scenario.plan import Plan, check_scenario, compile_scenario
    from xtape.scenario.render import ScenarioSource, duration_ms, render, wall_clock_schedule
    from xtape.scenario.spec import EventSpec
    from xtape.scenario.values import Encoding, JsonEncoding
    from xtape.yamlfile.dump import dump_scenario_yaml

del TYPE_CHECKING

__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())
__dir__ = public_dir(__all__)
