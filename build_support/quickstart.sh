#!/usr/bin/env bash
# The README's first command: install lamina into .venv and package every image of the
# example monorepo, bases and builder included (built from Debian packages; no Docker
# engine, no registry, no root beyond installing python3-venv and bubblewrap, the sandbox
# psycopg2 is compiled in, when they are missing).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_support/apt_install.sh ca-certificates python3-venv bubblewrap
build_support/setup_venv.sh
cd examples
../.venv/bin/lamina package ::
