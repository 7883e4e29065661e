"""Where base images come from: one reader per kind of reference, all returning an ``Image``.

Base layers are kept byte-for-byte: an uncompressed layer stays an uncompressed blob.
"""

from __future__ import annotations

from pathlib import Path

from lamina.cache import Cache
from lamina.errors import ImageError
from lamina.oci import Image
from lamina.sources import daemon, docker_archive, oci_layout

SCHEMES = ("docker-archive", "oci-layout", "docker-daemon")
FORMS = "an address of a base target (':name'), docker-archive:PATH, oci-layout:PATH[:TAG], docker-daemon:NAME:TAG or scratch"


def scratch() -> Image:
    """An empty linux/amd64 image."""
    return Image({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}})


def load_base(spec: str, build_root: Path, cache: Cache) -> Image:
    """The image a ``base=`` value names (paths relative to the build root)."""
    kind, _, rest = spec.partition(":")
    if spec == "scratch":
        return scratch()
    if kind == "docker-archive" and rest:
        return docker_archive.read(build_root / rest, cache)
    if kind == "oci-layout" and rest:
        path, _, tag = rest.partition(":")
        return oci_layout.read(build_root / path, tag or None)
    if kind == "docker-daemon" and rest:
        return daemon.read(rest, cache)
    raise ImageError(f"cannot use {spec!r} as a base image: expected {FORMS}")
