#!/usr/bin/env bash
# The whole test suite, as CI runs it: prepare the machine, then run every test
# (unit and integration) on two workers. Extra arguments go to pytest.
# Exits non-zero on any failure, including when no test was collected.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_support/ci_setup.sh

status=0
.venv/bin/python -m pytest -n 2 tests "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "test.sh: pytest collected no tests; that is a failure" >&2
fi
exit "$status"
