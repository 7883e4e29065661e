#!/usr/bin/env bash
# The whole test suite, as CI runs it: prepare the machine, build and install lamina's wheel
# in a fresh venv, then run every test (unit and integration) on two workers. Unit tests
# import this checkout; integration tests run the installed wheel's `lamina`, as users do.
# Extra arguments go to pytest. Exits non-zero on any failure, including when no test was
# collected.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_support/ci_setup.sh
LAMINA_UNDER_TEST="$(build_support/install_wheel.sh)"
export LAMINA_UNDER_TEST
echo "test.sh: integration tests run $LAMINA_UNDER_TEST" >&2
# Images, caches and registries of running tests take up to about 9 GB at once (a passing
# test's temporary files are removed when it ends); say how much there is, for a failure
# that reads "No space left on device".
free_gb="$(df -P -BG "${TMPDIR:-/tmp}" | awk 'NR == 2 { print int($4) }')"
echo "test.sh: ${free_gb} GB free for temporary files; the tests use up to about 9 GB" >&2

status=0
.venv/bin/python -m pytest -n 2 tests "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "test.sh: pytest collected no tests; that is a failure" >&2
fi
exit "$status"
