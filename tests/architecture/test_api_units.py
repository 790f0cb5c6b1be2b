"""The one unit rule of the Python API (docs/architecture.md, "Units in the Python API"):
a duration a caller gives is a float of seconds in a name without a unit. Every public
option class and the keyword arguments of the public functions are inspected, so a new
``foo_ms: int`` fails here."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from collections.abc import Callable
from typing import Any

import pytest

import xtape.capture.snapshot
import xtape.shape
import xtape.shape.multiply
from xtape.capture import RecordOptions
from xtape.capture.recorder import record
from xtape.convert import ConvertOptions, convert
from xtape.cut import CutOptions
from xtape.diff import DiffRules
from xtape.diff.live import diff_live
from xtape.errors import UsageError
from xtape.plot.data import collect
from xtape.plot.rates import count_rates
from xtape.pytest_plugin import XtapeFixture
from xtape.recording import RecordingWriter
from xtape.recording.split import SplitWriter
from xtape.regress import (
    LatencyLimit,
    Readiness,
    RegressionCase,
    Service,
    ServiceSpec,
    check_capture_options,
    replay_and_capture,
    run_case,
)
from xtape.replay import Pacing, ReplayOptions
from xtape.replay.pacing import MODES
from xtape.transform import Transform

OPTION_CLASSES: list[type] = [
    RecordOptions, ReplayOptions, ConvertOptions, Transform, DiffRules,
    RegressionCase, Readiness, ServiceSpec, LatencyLimit, CutOptions, *MODES.values(),
]  # fmt: skip

FUNCTIONS: list[Callable[..., Any]] = [
    record, convert, replay_and_capture, check_capture_options, diff_live, run_case,
    Service.__init__, Service.stop, Pacing.rate_ramp, collect, count_rates,
    RecordingWriter.__init__, SplitWriter.__init__, XtapeFixture.service, XtapeFixture.capture,
]  # fmt: skip

#: A name that ends in a unit: ``block_ms``, ``since_ns``, ``timeout_s``, ``ms``.
UNIT_SUFFIX = re.compile(r"(?:^|_)(?:ms|ns|us|s|sec|secs|seconds|millis)$")
#: Words that make a name a duration.
DURATION_WORDS = {"duration", "interval", "delay", "timeout", "jitter", "tolerance", "block",
                  "settle", "grace", "idle", "since", "until", "last", "every", "latency", "ago"}  # fmt: skip
SECONDS = (float, float | None)


def _fields(cls: type) -> dict[str, Any]:
    # (names imported only for type checkers, e.g. the shape's EntryTest, resolved here)
    hints = typing.get_type_hints(cls, localns=vars(xtape.shape) | vars(xtape.shape.multiply) | vars(xtape.capture.snapshot))
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")}


def _params(func: Callable[..., Any]) -> dict[str, Any]:
    out = {}
    for name, param in inspect.signature(func).parameters.items():
        if name in ("self", "cls"):
            continue
        try:  # (one by one: a type imported only for type checkers is no duration)
            out[name] = typing.get_type_hints(_Annotated(param.annotation))["value"]
        except NameError:
            out[name] = param.annotation
    return out


class _Annotated:
    """One annotation for ``get_type_hints``, which resolves the builtins in it (``float |
    None``); a type named from a module stays a string (never a duration's type)."""

    def __init__(self, annotation: Any) -> None:
        self.__annotations__ = {"value": annotation}


def _scalar(annotation: Any) -> bool:
    """A value that could hold a duration (not a mapping of guards, say)."""
    return set(typing.get_args(annotation) or (annotation,)) <= {int, float, str, type(None)}


def _problems(names: dict[str, Any]) -> list[str]:
    out = []
    for name, annotation in names.items():
        if UNIT_SUFFIX.search(name):
            out.append(f"{name}: a unit in the name (durations are seconds, named without a unit)")
        elif DURATION_WORDS & set(name.split("_")) and _scalar(annotation) and annotation not in SECONDS:
            out.append(f"{name}: {annotation} (a duration is float seconds)")
    return out


@pytest.mark.parametrize("cls", OPTION_CLASSES, ids=lambda c: c.__name__)
def test_option_fields_are_float_seconds_named_without_a_unit(cls: type) -> None:
    assert _problems(_fields(cls)) == []


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__qualname__)
def test_public_functions_take_float_seconds_named_without_a_unit(func: Callable[..., Any]) -> None:
    assert _problems(_params(func)) == []


def test_the_check_itself_catches_what_the_rule_forbids() -> None:
    assert _problems({"block_ms": int, "since_ns": int | None, "ms": float, "delay": int}) == [
        "block_ms: a unit in the name (durations are seconds, named without a unit)",
        "since_ns: a unit in the name (durations are seconds, named without a unit)",
        "ms: a unit in the name (durations are seconds, named without a unit)",
        f"delay: {int} (a duration is float seconds)",
    ]
    assert _problems({"until": str | None}) == [f"until: {str | None} (a duration is float seconds)"]
    assert _problems({"streams": list, "keep_last": float | None, "window": int, "latency": dict[str, object]}) == []


def test_the_seconds_reach_the_loops_in_their_units() -> None:
    assert ReplayOptions(loop=True, loop_interval=1.5).interval_ns == 1_500_000_000
    window = Transform(since=0.25, until=2.0)
    assert (window.since_ns, window.until_ns) == (250_000_000, 2_000_000_000)
    ramp = Pacing.rate_ramp(10, 100, 1.0)
    assert ramp.deadline_ns(55, 0) == 1_000_000_000  # the ramp's 55 events take its second
    assert ConvertOptions(since=1.0, until=3.0).window.until_ns == 3_000_000_000
    assert DiffRules(compare_times=True, time_tolerance=0.005).to_dict()["time_tolerance"] == "5ms"
    assert LatencyLimit(latency=0.15).limit_ms(None) == pytest.approx(150)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ReplayOptions(loop=True, loop_interval=float("nan")), "--loop-interval"),
        (lambda: RecordOptions(["s"], block=0), "block must be from 0.001 to 3600 seconds"),
        (lambda: ConvertOptions(until=0.0), "--until must be after --since"),
        (lambda: DiffRules(time_tolerance="5ms"), "use a number of seconds"),  # type: ignore[arg-type]
        (lambda: Pacing.rate_ramp(1, 2, 0), "the duration must be more than zero"),
    ],
)
def test_a_duration_that_cannot_be_seconds_is_refused_where_the_option_is_built(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        build()


def test_a_rules_file_takes_a_time_tolerance_with_its_unit_and_still_reads_the_ms_key() -> None:
    from xtape.errors import DiffRulesError

    assert DiffRules.from_mapping({"time_tolerance": "5ms"}, where="r.yaml").time_tolerance == 0.005
    assert DiffRules.from_mapping({"time_tolerance_ms": 5}, where="r.yaml").time_tolerance == 0.005
    with pytest.raises(DiffRulesError, match=r"time_tolerance: invalid time_tolerance '5': use a number with a unit"):
        DiffRules.from_mapping({"time_tolerance": 5}, where="r.yaml")
