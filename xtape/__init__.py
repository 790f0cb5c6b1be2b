"""xtape: record, convert and replay Redis Streams traffic, byte-exact and on time.

The public API, for tests and users::

    from xtape import Recording, RecordingWriter, Scenario, ScenarioSource, replay

Names are imported lazily, so ``import xtape`` (and the CLI's start-up) stays cheap.
``xtape.replay`` and ``xtape.convert`` are the functions, even once their modules of the
same name are imported: take those modules' names with ``from xtape.replay import ...``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xtape._lazy import lazy_getattr, public_dir
from xtape.version import __version__ as __version__

_EXPORTS: dict[str, str] = {
    "CaptureResult": "xtape.regress",
    "Catalog": "xtape.catalog",
    "Codec": "xtape.codecs",
    "CodecResolver": "xtape.codecs",
    "ConvertOptions": "xtape.convert",
    "DiffResult": "xtape.diff",
    "DiffRules": "xtape.diff",
    "Event": "xtape.timeline",
    "MemoryPublisher": "xtape.replay",
    "Pacing": "xtape.replay",
    "PrintPublisher": "xtape.replay",
    "RecordOptions": "xtape.capture",
    "Recording": "xtape.recording",
    "RecordingWriter": "xtape.recording",
    "RedisPublisher": "xtape.replay",
    "RedisServer": "xtape.server",
    "RegressionCase": "xtape.regress",
    "ReplayOptions": "xtape.replay",
    "ReplayReport": "xtape.replay",
    "Scenario": "xtape.scenario",
    "ScenarioSource": "xtape.scenario",
    "Source": "xtape.timeline",
    "Transform": "xtape.transform",
    "XtapeError": "xtape.errors",
    "convert": "xtape.convert",
    "infer_catalog": "xtape.catalog",
    "load_catalog": "xtape.catalog",
    "diff_recordings": "xtape.diff",
    "get_codec": "xtape.codecs",
    "load_case": "xtape.regress",
    "load_scenario": "xtape.scenario",
    "open_source": "xtape.replay",
    "record": "xtape.capture",
    "replay": "xtape.replay",
    "replay_and_capture": "xtape.regress",
    "run_case": "xtape.regress",
    "summarize": "xtape.recording",
    "validate_recording": "xtape.catalog",
}

__all__ = [
    "CaptureResult",
    "Catalog",
    "Codec",
    "CodecResolver",
    "ConvertOptions",
    "DiffResult",
    "DiffRules",
    "Event",
    "MemoryPublisher",
    "Pacing",
    "PrintPublisher",
    "RecordOptions",
    "Recording",
    "RecordingWriter",
    "RedisPublisher",
    "RedisServer",
    "RegressionCase",
    "ReplayOptions",
    "ReplayReport",
    "Scenario",
    "ScenarioSource",
    "Source",
    "Transform",
    "XtapeError",
    "__version__",
    "convert",
    "diff_recordings",
    "get_codec",
    "infer_catalog",
    "load_case",
    "load_catalog",
    "load_scenario",
    "open_source",
    "record",
    "replay",
    "replay_and_capture",
    "run_case",
    "summarize",
    "validate_recording",
]

if TYPE_CHECKING:
    from xtape.capture import RecordOptions, record
    from xtape.catalog import Catalog, infer_catalog, load_catalog, validate_recording
    from xtape.codecs import Codec, CodecResolver, get_codec
    from xtape.convert import ConvertOptions, convert
    from xtape.diff import DiffResult, DiffRules, diff_recordings
    from xtape.errors import XtapeError
    from xtape.recording import Recording, RecordingWriter, summarize
    from xtape.regress import CaptureResult, RegressionCase, load_case, replay_and_capture, run_case
    from xtape.replay import (
        MemoryPublisher,
        Pacing,
        PrintPublisher,
        RedisPublisher,
        ReplayOptions,
        ReplayReport,
        open_source,
        replay,
    )
    from xtape.scenario import Scenario, ScenarioSource, load_scenario
    from xtape.server import RedisServer
    from xtape.timeline import Event, Source
    from xtape.transform import Transform

del TYPE_CHECKING

__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())
__dir__ = public_dir(__all__)
