#!/usr/bin/env bash
# Let this amd64 machine run arm64 programs (for building arm64 wheels in the sandbox):
# qemu-user-static, registered with binfmt_misc with the "F" flag, so the emulator is
# found inside sandboxes and chroots too. Idempotent; needs root.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_support/apt_install.sh qemu-user-static binfmt-support
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64
fi
grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 || {
    echo "enable_emulation.sh: qemu-aarch64 is registered without the F flag; sandboxed arm64 builds need it" >&2
    exit 1
}
