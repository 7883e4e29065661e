#!/usr/bin/env bash
# Re-lock lamina's own runtime and test requirements (3rdparty/python/*requirements.txt) into one lock
# with hashes; existing pins are kept unless a requirement changed.
# The host's pip configuration is ignored, so the lock names only PyPI's files.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PIP_CONFIG_FILE=/dev/null .venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links \
    --output-file=3rdparty/python/requirements.lock \
    3rdparty/python/requirements.txt 3rdparty/python/test-requirements.txt
