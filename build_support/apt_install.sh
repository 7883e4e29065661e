#!/usr/bin/env bash
# Install the given Debian packages, but only those not installed yet: a machine that
# already has everything is left alone and `apt-get update` runs at most once per call.
# Usage: build_support/apt_install.sh PACKAGE...
set -euo pipefail

missing=()
for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "apt_install.sh: need root to install: ${missing[*]}" >&2
    exit 1
fi
echo "apt_install.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
