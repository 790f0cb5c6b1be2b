#!/usr/bin/env bash
# Run the demo: record -> convert -> replay against a throwaway redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/xtape demo "$@"
