"""The stream catalog: which streams a system has and what their payloads hold.

    load_catalog(path) -> Catalog           streams.yaml, checked (errors as path:line: what)
    find_catalog(explicit, near)            --catalog, $XTAPE_CATALOG, streams.yaml beside/cwd
    Catalog.check(stream, flat)             the problems of one entry (None: unknown stream)
    validate_recording(path, catalog)       every entry of a recording, summarized per stream
    infer_catalog(path) -> Inferred         what a recording's streams hold; as YAML, or
                                            as a scenario of generators (convert --generators)

Scenarios are checked through :class:`xtape.scenario.ScenarioSource` and
:func:`xtape.scenario.validate_scenario`, which take a catalog. Never imports redis.
"""

from __future__ import annotations

from xtape.catalog.catalog import (
    CATALOG_ENV,
    CATALOG_NAME,
    Catalog,
    find_catalog,
    find_catalog_path,
    load_catalog,
    load_catalog_text,
)
from xtape.catalog.infer import Inferred, infer_catalog
from xtape.catalog.recordings import RecordingCheck, StreamCheck, validate_recording
from xtape.catalog.schema import StreamSchema

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
