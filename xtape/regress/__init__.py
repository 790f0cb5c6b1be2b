"""Regression replay: replay inputs into a service, capture its outputs, diff them
against a golden recording (see ``docs/regression.md``).

    replay_and_capture(source, outputs, "actual.xtape", url=URL)   # replay --capture
    case = load_case("tests/regression/matcher.yaml")                # a case file
    result = run_case(case, command=["python", "-m", "matcher"])     # xtape test
    write_junit("report.xml", [result])
"""

from xtape.regress.capture import (
    DEFAULT_SETTLE_S,
    CaptureResult,
    check_capture_options,
    replay_and_capture,
)
from xtape.regress.case import (
    LatencyLimit,
    Readiness,
    RegressionCase,
    ServiceSpec,
    actual_path,
    load_case,
)
from xtape.regress.runner import CaseResult, run_case, run_cases
from xtape.regress.service import Service
from xtape.report.junit import junit_xml, write_junit

__all__ = [
    "DEFAULT_SETTLE_S",
    "CaptureResult",
    "CaseResult",
    "LatencyLimit",
    "Readiness",
    "RegressionCase",
    "Service",
    "ServiceSpec",
    "actual_path",
    "check_capture_options",
    "junit_xml",
    "load_case",
    "replay_and_capture",
    "run_case",
    "run_cases",
    "write_junit",
]
