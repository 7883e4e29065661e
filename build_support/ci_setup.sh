#!/usr/bin/env bash
# Prepare a clean machine (Debian bookworm, root) for lamina's full test suite:
# the Debian packages the integration tests use, arm64 emulation (qemu-user-static), the
# virtualenv, a running Docker engine and a CPython 3.12 (example-python asks for it).
# Idempotent: what is already there is kept.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# One apt-get update at most, for everything that is missing.
build_support/apt_install.sh \
    ca-certificates python3-venv docker.io skopeo docker-registry apache2-utils openssl gcc iproute2 git bubblewrap postgresql \
    buildah
build_support/enable_emulation.sh
build_support/setup_venv.sh
build_support/start_docker.sh
build_support/ensure_python.sh 3.12 >/dev/null
