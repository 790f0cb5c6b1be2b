"""xtape: record, convert and replay Redis Streams traffic, byte-exact and on time.

The public API, each verb taking its source first, then its target, then its options::

    from xtape import RecordOptions, record, replay, convert, diff_recordings, load_case, run_case

    record(URL, "today.xtape", RecordOptions(["orders:*"], duration=60))
    replay("today.xtape", URL)                          # a recording or a scenario
    convert("today.xtape", "today.yaml")
    diff_recordings("golden.xtape", "actual.xtape").same
    run_case(load_case("case.yaml")).status

Everything else lives in its subpackage (``xtape.recording``, ``xtape.scenario``,
``xtape.replay``, ``xtape.capture``, ``xtape.diff``, ``xtape.regress``, ``xtape.catalog``,
``xtape.codecs``, ``xtape.server``...). Names are imported lazily, so ``import xtape``
(and the CLI's start-up) stays cheap. ``xtape.replay`` and ``xtape.convert`` are the
functions, even once their modules of the same name are imported: take those modules'
names with ``from xtape.replay import ...``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xtape._lazy import lazy_getattr, public_dir
from xtape.version import __version__ as __version__

_EXPORTS: dict[str, str] = {
    "ConvertOptions": "xtape.convert",
    "DiffRules": "xtape.diff",
    "Event": "xtape.timeline",
    "Pacing": "xtape.replay",
    "RecordOptions": "xtape.capture",
    "Recording": "xtape.recording",
    "ReplayOptions": "xtape.replay",
    "ReplayReport": "xtape.replay",
    "Source": "xtape.timeline",
    "XtapeError": "xtape.errors",
    "convert": "xtape.convert",
    "diff_recordings": "xtape.diff",
    "load_case": "xtape.regress",
    "load_scenario": "xtape.scenario",
    "record": "xtape.capture",
    "replay": "xtape.replay",
    "run_case": "xtape.regress",
}

__all__ = [
    "ConvertOptions",
    "DiffRules",
    "Event",
    "Pacing",
    "RecordOptions",
    "Recording",
    "ReplayOptions",
    "ReplayReport",
    "Source",
    "XtapeError",
    "__version__",
    "convert",
    "diff_recordings",
    "load_case",
    "load_scenario",
    "record",
    "replay",
    "run_case",
]

#: Names that were at the top before 0.1 settled its API, and where they live now (no
#: aliases: asking for one says where to import it from).
_MOVED: dict[str, str] = {
    "CaptureResult": "xtape.regress",
    "Catalog": "xtape.catalog",
    "Codec": "xtape.codecs",
    "CodecResolver": "xtape.codecs",
    "DiffResult": "xtape.diff",
    "MemoryPublisher": "xtape.replay",
    "PrintPublisher": "xtape.replay",
    "RecordingWriter": "xtape.recording",
    "RedisPublisher": "xtape.replay",
    "RedisServer": "xtape.server",
    "RegressionCase": "xtape.regress",
    "Scenario": "xtape.scenario",
    "ScenarioSource": "xtape.scenario",
    "Transform": "xtape.transform",
    "get_codec": "xtape.codecs",
    "infer_catalog": "xtape.catalog",
    "load_catalog": "xtape.catalog",
    "open_source": "xtape.replay",
    "replay_and_capture": "xtape.regress",
    "summarize": "xtape.recording",
    "validate_recording": "xtape.catalog",
}

if TYPE_CHECKING:
    from xtape.capture import RecordOptions, record
    from xtape.convert import ConvertOptions, convert
    from xtape.diff import DiffRules, diff_recordings
    from xtape.errors import XtapeError
    from xtape.recording import Recording
    from xtape.regress import load_case, run_case
    from xtape.replay import Pacing, ReplayOptions, ReplayReport, replay
    from xtape.scenario import load_scenario
    from xtape.timeline import Event, Source

del TYPE_CHECKING

_exported = lazy_getattr(__name__, _EXPORTS, globals())


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        raise AttributeError(f"xtape.{name} is not at the top: from {_MOVED[name]} import {name}")
    if name == "replay_into":
        raise AttributeError("xtape.replay_into is now xtape.replay(source, url, options)")
    return _exported(name)


__dir__ = public_dir(__all__)
