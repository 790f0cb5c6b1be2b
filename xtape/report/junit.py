"""JUnit XML for ``xtape test --junit FILE``: one ``<testcase>`` per case, as CI systems
(GitLab, Jenkins, GitHub test reporters) read it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from xtape.report.diff_text import strip_ansi


class _Latency(Protocol):
    def to_dict(self) -> Mapping[str, float]: ...


class CaseOutcome(Protocol):
    """What JUnit shows of a case (:class:`xtape.regress.runner.CaseResult` is one)."""

    @property
    def path(self) -> str | Path: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def service_output(self) -> str: ...
    @property
    def latency(self) -> Mapping[bytes, _Latency]: ...

    def summary(self) -> str: ...

    def details(self) -> str: ...


def junit_xml(results: Sequence[CaseOutcome], suite: str = "xtape") -> str:
    """The results as a JUnit XML document (text)."""
    failures = sum(r.status == "differs" for r in results)
    errors = sum(r.status in ("error", "invalid") for r in results)
    root = ET.Element("testsuites")
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors=str(errors),
        time=f"{sum(r.duration_s for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            node,
            "testcase",
            classname=f"xtape.{Path(r.path).stem}",
            name=r.name,
            file=str(r.path),
            time=f"{r.duration_s:.3f}",
        )
        if r.latency:
            props = ET.SubElement(case, "properties")
            for stream, lat in sorted(r.latency.items()):
                name = stream.decode("utf-8", "backslashreplace")
                for key, value in lat.to_dict().items():
                    ET.SubElement(props, "property", name=f"latency.{name}.{key}", value=f"{value:g}")
        if r.status == "differs":
            failure = ET.SubElement(case, "failure", message=r.summary(), type="differs")
            failure.text = _clean(r.details())
        elif r.status in ("error", "invalid"):
            error = ET.SubElement(case, "error", message=r.message, type=r.status)
            error.text = _clean(r.details() or r.message)
        if r.service_output:
            out = ET.SubElement(case, "system-out")
            out.text = _clean(strip_ansi(r.service_output))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: str | Path, results: Sequence[CaseOutcome], suite: str = "xtape") -> None:
    from xtape.outputs import write_text

    write_text(path, junit_xml(results, suite))


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters (a service may print them)."""
    return "".join(ch if ch in "\t\n\r" or ch >= " " else f"\\x{ord(ch):02x}" for ch in text)
