"""Where a catalog comes from (no schema library imported: cheap when there is none)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: The file looked for beside a scenario and in the current directory.
CATALOG_NAME = "streams.yaml"
#: The environment variable that names a catalog.
CATALOG_ENV = "XTAPE_CATALOG"


def find_catalog_path(
    explicit: str | Path | None = None,
    near: str | Path | None = None,
    *,
    enabled: bool = True,
    environ: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> Path | None:
    """Which catalog applies: ``explicit`` (``--catalog``), else ``$XTAPE_CATALOG``, else
    ``streams.yaml`` beside ``near`` (the scenario), else in the current directory; None
    when there is none or ``enabled`` is false (``--no-catalog``)."""
    if not enabled:
        return None
    if explicit is not None:
        return Path(explicit)
    env = (os.environ if environ is None else environ).get(CATALOG_ENV, "")
    if env:
        return Path(env)
    places: list[Path] = []
    if near is not None:
        places.append(Path(near).parent / CATALOG_NAME)
    places.append(Path(cwd if cwd is not None else os.getcwd()) / CATALOG_NAME)
    return next((p for p in places if p.is_file()), None)
