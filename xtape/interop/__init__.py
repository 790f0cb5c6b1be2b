"""Interop: recordings out to the formats analysts and robotics tools read, and back.

    export_parquet(rec, OUT.parquet)   one row per entry (+ OUT.markers.parquet), pyarrow
    export_mcap(rec, OUT.mcap)         a channel per stream, JSON messages + JSON Schemas
    import_file(FILE, OUT.xtape)       JSON lines (``xtape cat``) or MCAP -> a recording

Each is a reader or a writer beside the xtape ones and speaks the same entry type (see
docs/analysis.md). pyarrow and mcap are optional (the ``analysis`` extra) and imported
only by the module that needs them; :func:`require` says which extra to install.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from xtape.errors import ExtraUnavailable, UsageError

#: Output formats of ``xtape export``, by file suffix.
EXPORT_FORMATS = {".parquet": "parquet", ".mcap": "mcap"}


def require(module: str, what: str) -> None:
    """Raise :class:`~xtape.errors.ExtraUnavailable` when ``module`` is not installed."""
    if importlib.util.find_spec(module) is None:
        raise ExtraUnavailable(what, module, "analysis")


def export_format(path: str) -> str:
    """The format an output name asks for, by its suffix (a usage error listing the
    known ones otherwise)."""
    for suffix, name in EXPORT_FORMATS.items():
        if path.lower().endswith(suffix):
            return name
    known = ", ".join(f"OUT{suffix}" for suffix in EXPORT_FORMATS)
    raise UsageError(f"-o {path}: the format is told by the suffix: {known}")


def markers_path(output: str | Path) -> Path:
    """Where the gaps and markers of an export to ``output`` go: ``OUT.markers.parquet``."""
    out = Path(output)
    stem = out.name[: -len(".parquet")] if out.name.lower().endswith(".parquet") else out.name
    return out.with_name(stem + ".markers.parquet")


__all__ = ["EXPORT_FORMATS", "export_format", "markers_path", "require"]
