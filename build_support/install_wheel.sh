#!/usr/bin/env bash
# Build lamina's sdist and wheel into build/dist, and install the wheel, as users install it,
# into a fresh virtualenv build/wheel-venv: its locked requirements (hash-checked), then the
# wheel itself (not an editable checkout). Prints the path of that installation's `lamina`,
# which test.sh hands to the integration tests as LAMINA_UNDER_TEST.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

rm -rf build/dist build/wheel-venv
mkdir -p build
.venv/bin/python -m build --no-isolation --outdir build/dist . >build/build.log 2>&1 \
    || { cat build/build.log >&2; exit 1; }
python3 -m venv build/wheel-venv
build/wheel-venv/bin/python -m pip install --quiet --require-hashes -r 3rdparty/python/requirements.lock
build/wheel-venv/bin/python -m pip install --quiet --no-deps build/dist/lamina-*.whl
echo "$PWD/build/wheel-venv/bin/lamina"
