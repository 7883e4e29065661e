#!/usr/bin/env python3
"""Make a Debian bookworm base with CPython 3.11 with mmdebstrap, as a docker-archive.

The benchmark's Dockerfile routes need a base that can run pip (no registry is
reachable from these machines, so none can be pulled); lamina's route builds on the
same base so that the routes differ only in how the app is built. The examples
themselves build on a ``debian_base`` and need none of this.

Idempotent: an existing archive is kept unless ``--force`` is given. Concurrent runs
(e.g. two pytest workers) serialize on a lock file, and the archive is written to a
temporary file and renamed into place, so it is never seen half-written.

This is a developer script: it uses only the standard library and never imports lamina.
mmdebstrap needs root; it is installed with apt-get when missing.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / ".bench" / "bookworm-python3.11.tar"
SUITE = "bookworm"
PACKAGES = ("python3.11-minimal", "libpython3.11-stdlib", "ca-certificates")
REPO_TAG = "lamina-bench/base:bookworm-python3.11"
# The bookworm release day; override with $SOURCE_DATE_EPOCH.
DEFAULT_SOURCE_DATE_EPOCH = 1686355200
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INTERPRETER = "/usr/bin/python3.11"
# Debian architecture names -> OCI/Go architecture names.
OCI_ARCHITECTURES = {"amd64": "amd64", "arm64": "arm64", "ppc64el": "ppc64le", "s390x": "s390x"}
CHUNK = 1 << 20


def main(argv: list[str] | None = None) -> int:
    """Make the base archive if missing (or when forced) and print its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="archive to write")
    parser.add_argument("--force", action="store_true", help="rebuild even if it exists")
    options = parser.parse_args(argv)
    output: Path = options.output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(output.with_name(output.name + ".lock")):
        if options.force or not output.exists():
            make_base_archive(output)
    print(output)
    return 0


def make_base_archive(output: Path, packages: tuple[str, ...] = PACKAGES, hooks: tuple[str, ...] = ()) -> None:
    """Bootstrap the rootfs with mmdebstrap and write it to ``output`` as a docker-archive.

    ``packages`` and extra mmdebstrap ``hooks`` let the benchmark make its pip-enabled base.
    """
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH))
    architecture = _oci_architecture()
    with tempfile.TemporaryDirectory(prefix=".rootfs-", dir=output.parent) as scratch:
        rootfs = Path(scratch) / "rootfs.tar"
        command = _bootstrap(rootfs, epoch, packages, hooks)
        diff_id = f"sha256:{_sha256_of(rootfs)}"
        config = _config(architecture, epoch, command, diff_id)
        partial = Path(scratch) / "archive.tar"
        _write_docker_archive(partial, rootfs, diff_id, config, epoch)
        os.replace(partial, output)


def _bootstrap(rootfs: Path, epoch: int, packages: tuple[str, ...], hooks: tuple[str, ...]) -> list[str]:
    """Run mmdebstrap into the tarball ``rootfs``; return the command (for the history)."""
    if os.geteuid() != 0:
        sys.exit("mmdebstrap_base.py: mmdebstrap --mode=root needs root; rerun as root")
    if shutil.which("mmdebstrap") is None:
        subprocess.run([str(REPO_ROOT / "build_support" / "apt_install.sh"), "mmdebstrap"], check=True)
    command = [
        "mmdebstrap",
        "--variant=essential",
        f"--include={','.join(packages)}",
        "--mode=root",
        # Host files that mmdebstrap copies in; the container runtime provides its own.
        '--customize-hook=rm -f "$1/etc/resolv.conf" "$1/etc/hostname"',
        *hooks,
        SUITE,
    ]
    environment = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
    print(f"mmdebstrap_base.py: {' '.join(command)} (~30 s)", file=sys.stderr)
    subprocess.run([*command, str(rootfs)], check=True, env=environment, stdin=subprocess.DEVNULL)
    return command


def _oci_architecture() -> str:
    """The OCI architecture of the rootfs mmdebstrap makes (the host's Debian one)."""
    debian = subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True, text=True).stdout.strip()
    try:
        return OCI_ARCHITECTURES[debian]
    except KeyError:
        sys.exit(f"mmdebstrap_base.py: unsupported Debian architecture {debian!r}")


def _config(architecture: str, epoch: int, command: list[str], diff_id: str) -> dict[str, object]:
    """The image config for the one-layer image whose layer has the digest ``diff_id``."""
    created = datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "architecture": architecture,
        "os": "linux",
        "created": created,
        "config": {"Env": [PATH_ENV], "Cmd": [INTERPRETER]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": " ".join(command)}],
    }


def _write_docker_archive(path: Path, rootfs: Path, diff_id: str, config: dict[str, object], epoch: int) -> None:
    """Write the classic ``docker save`` layout: manifest.json, the config, one layer."""
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    layer_name = f"{diff_id.removeprefix('sha256:')}/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [REPO_TAG], "Layers": [layer_name]}]
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        with rootfs.open("rb") as layer:
            archive.addfile(_member(layer_name, rootfs.stat().st_size, epoch), layer)
        archive.addfile(_member(config_name, len(config_bytes), epoch), io.BytesIO(config_bytes))
        archive.addfile(_member("manifest.json", len(manifest_bytes), epoch), io.BytesIO(manifest_bytes))


def _member(name: str, size: int, epoch: int) -> tarfile.TarInfo:
    """A regular-file entry with fixed owner, mode and time, so the archive is reproducible."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = epoch
    info.mode = 0o644
    return info


def _sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks (the rootfs is ~100 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``lock_path`` so only one run bootstraps at a time."""
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


if __name__ == "__main__":
    raise SystemExit(main())
