"""Where the tests find the checkout's files."""

from __future__ import annotations

from pathlib import Path

#: The checkout's root (the folder holding ``tests/``, ``xtape/``, ``scenarios/``).
ROOT = Path(__file__).resolve().parents[2]

#: Real FastStream and taskiq apps run by the codec and regression tests.
FRAMEWORKS = Path(__file__).resolve().parent / "frameworks"

#: The sample recording shipped in recordings/.
SAMPLE = ROOT / "recordings" / "sample.xtape"
