#!/usr/bin/env bash
# Create the development virtualenv .venv (if missing) and install lamina into it:
# first its locked requirements, hash-checked, then lamina itself, editable, with no
# further resolution (setuptools comes from the lock, so no build isolation is needed).
# Idempotent; safe to rerun after the lock changes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    echo "setup_venv.sh: creating .venv" >&2
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --require-hashes -r 3rdparty/python/requirements.lock
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
