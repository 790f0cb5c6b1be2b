#!/usr/bin/env bash
# Lint, type-check and run the whole test suite against real redis-server processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check xtape tests bench
.venv/bin/mypy
.venv/bin/pytest -q "$@"
