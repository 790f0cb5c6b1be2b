"""The stream catalog: which streams a system has and what their payloads hold.

    load_catalog(path) -> Catalog           streams.yaml, checked (errors as path:line: what)
    find_catalog(explicit, near)            --catalog, $XTAPE_CATALOG, streams.yaml beside/cwd
    Catalog.check(stream, flat)             the problems of one entry (None: unknown stream)
    validate_recording(path, catalog)       every entry of a recording, summarized per stream
    infer_catalog(path) -> Inferred         what a recording's streams hold; as YAML, or
                                            as a scenario of generators (convert --generators)

Scenarios are checked through :class:`xtape.scenario.ScenarioSource` and
:func:`xtape.scenario.validate_scenario`, which take a catalog. Never imports redis.
Names are imported on first use, so finding that there is no catalog costs nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from xtape.catalog.discover import CATALOG_ENV, CATALOG_NAME, find_catalog_path

if TYPE_CHECKING:
    from xtape.catalog.catalog import Catalog, find_catalog, load_catalog, load_catalog_text
    from xtape.catalog.infer import Inferred, infer_catalog
    from xtape.catalog.recordings import RecordingCheck, StreamCheck, validate_recording
    from xtape.catalog.schema import StreamSchema

_LAZY = {
    "Catalog": "catalog",
    "find_catalog": "catalog",
    "load_catalog": "catalog",
    "load_catalog_text": "catalog",
    "Inferred": "infer",
    "infer_catalog": "infer",
    "RecordingCheck": "recordings",
    "StreamCheck": "recordings",
    "validate_recording": "recordings",
    "StreamSchema": "schema",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"xtape.catalog.{module}"), name)


__all__ = [
    "CATALOG_ENV",
    "CATALOG_NAME",
    "Catalog",
    "Inferred",
    "RecordingCheck",
    "StreamCheck",
    "StreamSchema",
    "find_catalog",
    "find_catalog_path",
    "infer_catalog",
    "load_catalog",
    "load_catalog_text",
    "validate_recording",
]
