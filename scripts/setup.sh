#!/usr/bin/env bash
# Make .venv with xtape and its test tools, and install redis-server (and openssl) where missing.
# With --test, also Chromium: the tests open xtape's HTML reports in a real headless browser.
# Works on a fresh Debian/Ubuntu machine with only Python 3.11 (3.10+); idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3}"
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

apt_install() {
    echo "setup: installing $* with apt-get" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)  # test certificates for the TLS tests
# With --test: chromium opens the HTML reports; the import test and bench/export.py pipe
# `xtape cat` through jq; a real Prometheus server scrapes a live recorder
# (tests/observe/test_observe_prometheus.py). Each package is named as its command.
if [ "${1:-}" = "--test" ]; then
    for tool in chromium jq prometheus; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
fi
# xtape compiles one small C function at install (xtape/_speedups.c, the XADD packer of
# a fast replay); without a compiler it still installs and falls back to hiredis.
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
if ! "$PY" -c "import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" >/dev/null 2>&1; then
    missing+=(python3-dev)
fi
if [ ! -x .venv/bin/python ] && ! "$PY" -c "import ensurepip, venv" >/dev/null 2>&1; then
    missing+=("python3-venv")
fi
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi

# A redis-server started by the package's service is not used by xtape's tests or demo
# (they start their own on free ports), so nothing else is needed here.

if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# xtape is installed editable: a change to its Python code needs no reinstall, a change to
# what the install reads (dependencies, the C packer) does. The stamp holds a hash of
# those files; when it matches, the install is skipped (a second run starts at once).
# The build's output (setuptools' banner, compiler warnings) goes to a log, shown only
# when the install fails.
STAMP=.venv/.xtape-install-stamp
LOG=.venv/install.log
key="$(cat pyproject.toml setup.py xtape/_speedups.c | sha256sum | cut -d' ' -f1) $(.venv/bin/python -c 'import sys; print(sys.version.split()[0])')"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$key" ]; then
    echo "setup: installing xtape and its test tools into .venv (log: $LOG)" >&2
    rm -f "$STAMP"
    if ! { .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip &&
           .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'; } >"$LOG" 2>&1; then
        cat "$LOG" >&2
        echo "setup: installing xtape failed (the output above is in $LOG)" >&2
        exit 1
    fi
    echo "$key" >"$STAMP"
fi
