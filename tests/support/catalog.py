"""Support for the catalog tests: the errors a catalog file gives, as the user reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from xtape.catalog import load_catalog
from xtape.errors import CatalogError, CatalogInvalid


def errors_of(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "streams.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    error = caught.value
    found = error.errors if isinstance(error, CatalogInvalid) else [error]
    return [str(e).replace(f"{path}:", "streams.yaml:") for e in found]
