"""Write golden.xtape: run the case against the service on a throwaway redis-server and
keep what the service published (what ``xtape test case.yaml --update`` does).

    python examples/matcher/make_golden.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from xtape.regress import load_case, run_case


def main() -> int:
    case = load_case(Path(__file__).resolve().parent / "case.yaml")
    result = run_case(case, update=True)
    print(result.summary())
    if not result.passed:
        print(result.details() or result.message, file=sys.stderr)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
