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
if [ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null 2>&1; then
    missing+=(chromium)
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
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
