"""Comparing recordings: ``xtape diff`` as a library.

    from xtape.diff import DiffRules, diff_recordings
    result = diff_recordings("golden.xtape", "actual.xtape", DiffRules(ignore_fields=("ts",)))
    result.same; result.to_dict()     # the --json form

The terminal, HTML and JSON forms are renderers in :mod:`xtape.report`
(``render_text(result)``). See docs/diff.md for the rules, the output forms and the memory bounds.
"""

from xtape.diff.compare import FieldDiff, PathDiff
from xtape.diff.engine import diff_recordings
from xtape.diff.live import diff_live
from xtape.diff.result import DiffResult, EntryDiff, StreamResult
from xtape.diff.rules import DiffRules, Tolerance

__all__ = [
    "DiffResult",
    "DiffRules",
    "EntryDiff",
    "FieldDiff",
    "PathDiff",
    "StreamResult",
    "Tolerance",
    "diff_live",
    "diff_recordings",
]
