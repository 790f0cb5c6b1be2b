#!/usr/bin/env bash
# Lint, type-check and run the whole test suite against real redis-server processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check xtape tests bench
.venv/bin/mypy
# On both cores (pytest-xdist; a module's tests stay on one worker): tests/README.md says
# how the suite runs and what it takes. `scripts/test.sh -n 0` runs it serially.
.venv/bin/pytest -q -n 2 --dist loadscope "$@"
