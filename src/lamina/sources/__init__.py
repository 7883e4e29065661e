"""Where base images come from: one reader per kind of reference, all returning an ``Image``.

Base layers are kept byte-for-byte: an uncompressed layer stays an uncompressed blob.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from lamina.errors import ImageError, RegistryError, TransportError
from lamina.oci import Image
from lamina.oci.model import Platform

if TYPE_CHECKING:  # the readers are imported when a base is read: listing targets needs none of them
    from lamina.cache import Cache
    from lamina.registry.client import RegistryClient

log = logging.getLogger(__name__)
SCHEMES = ("docker-archive", "oci-layout", "docker-daemon")
FORMS = (
    "an address of a base target (':name'), REGISTRY/REPO[:TAG][@sha256:DIGEST], docker-archive:PATH, "
    "oci-layout:PATH[:TAG], docker-daemon:NAME:TAG or scratch"
)


def scratch() -> Image:
    """An empty linux/amd64 image."""
    return Image({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}})


def current_digest(reference, registry_client, mirrors: Mapping[str, tuple[str, ...]]) -> str | None:
    """The digest ``reference``'s tag names now: from the first mirror that has it, else its registry."""
    tried = []
    for host in mirrors.get(reference.registry, ()):
        try:
            found = registry_client(host).manifest_digest(reference.repository, reference.identifier)
        except (RegistryError, TransportError) as err:
            tried.append(f"{host}: {err}")
            continue
        if found is not None:
            return found
        tried.append(f"{host}: no such tag")
    try:
        return registry_client(reference.registry).manifest_digest(reference.repository, reference.identifier)
    except (RegistryError, TransportError) as err:
        if not tried:
            raise
        raise RegistryError(f"{reference}: no mirror has it ({'; '.join(tried)}), and {err}") from None


def load_base(
    spec: str,
    build_root: Path,
    cache: Cache,
    *,
    registry_client: Callable[[str], RegistryClient] | None = None,
    pins: Mapping[str, str] | None = None,
    mirrors: Mapping[str, tuple[str, ...]] | None = None,
    platform: Platform | None = None,
) -> Image:
    """The image a ``base=`` value names (paths relative to the build root); anything else
    is a registry reference, pinned by its digest or by ``pins`` (reference -> digest)."""
    from lamina.registry.reference import Reference, parse_reference
    from lamina.sources import daemon, docker_archive, oci_layout, registry

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
    try:
        reference = parse_reference(spec)
    except RegistryError:
        raise ImageError(f"cannot use {spec!r} as a base image: expected {FORMS}") from None
    if registry_client is None:
        raise ImageError(f"base {spec!r} is in a registry, which this command does not read")
    pinned_digest = (pins or {}).get(str(reference))
    tried = []
    for host in (mirrors or {}).get(reference.registry, ()):  # as containerd: each mirror, then the registry
        mirrored = Reference(host, reference.repository, reference.tag, reference.digest)
        try:
            client = registry_client(host)
            pinned = registry.pin(mirrored, client, pinned_digest, shown=f"{spec} (from mirror {host})")
            return registry.read(pinned, client, cache.blobs, platform or registry.DEFAULT_PLATFORM)
        except (RegistryError, ImageError, TransportError) as err:
            log.info("mirror %s of %s: %s", host, reference.registry, err)
            tried.append(f"{host}: {err}")
    client = registry_client(reference.registry)
    try:
        pinned = registry.pin(reference, client, pinned_digest)
        return registry.read(pinned, client, cache.blobs, platform or registry.DEFAULT_PLATFORM)
    except (RegistryError, ImageError, TransportError) as err:
        if not tried:
            raise
        raise ImageError(
            f"base {spec}: no mirror has it ({'; '.join(tried)}), nor {reference.registry}: {err}"
        ) from None
