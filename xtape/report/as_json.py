"""The JSON forms of reports (``--json``): the data of ``to_dict``, as one text."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (a replay's --json does not import the diff, nor a diff the replay)
    from xtape.diff.result import DiffResult
    from xtape.replay.report import ReplayReport


def diff_json(result: DiffResult) -> str:
    """``xtape diff --json``: the result, indented, ending in a newline."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


def replay_json(report: ReplayReport, *, seed: int | None = None) -> str:
    """``xtape replay --json``: the report on one line (with the seed of a generated run)."""
    data = report.to_dict()
    if seed is not None:
        data["seed"] = seed
    return json.dumps(data, ensure_ascii=False)


__all__ = ["diff_json", "replay_json"]
