#!/usr/bin/env bash
# The README's first command: install lamina into .venv, make the example base image
# (a Debian bookworm rootfs with CPython 3.11, via mmdebstrap; needs root) and package
# every image of the example monorepo. No Docker engine is needed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_support/apt_install.sh ca-certificates python3-venv mmdebstrap
build_support/setup_venv.sh
.venv/bin/python build_support/make_example_base.py
cd examples
../.venv/bin/lamina package ::
