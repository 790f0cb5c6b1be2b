"""xtape: record, convert and replay Redis Streams traffic, byte-exact and on time."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
