"""The matcher's regression check as a pytest test, with the xtape pytest plugin
(installed with xtape; nothing to configure):

    pytest examples/matcher/test_matcher.py                  # compare with golden.xtape
    pytest examples/matcher/test_matcher.py --xtape-update   # accept the new output
"""

from __future__ import annotations

import sys
from pathlib import Path

from xtape.pytest_plugin import XtapeFixture

HERE = Path(__file__).resolve().parent
#: Generated on every run: the answer's own id and its timestamp (entry ids are never compared).
RULES = {"ignore_fields": ["matchId", "rejectId", "ts"]}


def test_matcher_answers_as_recorded(xtape: XtapeFixture) -> None:
    with xtape.service([sys.executable, str(HERE / "service.py")], group=("order.request", "matcher")):
        actual = xtape.capture(
            HERE / "orders.yaml", ["order.accepted", "order.rejected"], max_speed=True, settle=0.5
        )
    assert actual.entries == 10
    xtape.assert_matches(HERE / "golden.xtape", actual, RULES)
