"""How a catalog's messages show a decoded value (no JSON Schema, no pydantic: ``xtape
infer`` shows values without loading the checkers of :mod:`xtape.catalog.schema`)."""

from __future__ import annotations

import json
from typing import Any


def shown(value: Any, limit: int = 60) -> str:
    """A decoded value in a message, as JSON: ``"x"``, ``5``, ``true``, shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
