"""Read a base image from a registry, by digest: manifests and configs are stored in the
blob store by digest (so a pinned base needs no network once seen), and layers are
downloaded only when something reads them."""

from __future__ import annotations

import logging

from lamina.cache import fits, is_digest
from lamina.cache.store import BlobStore
from lamina.errors import ImageError, RegistryError
from lamina.oci import Image
from lamina.oci.model import Platform, json_object
from lamina.registry.client import DOCKER_MANIFEST_LIST, RegistryClient
from lamina.registry.layer import RegistryLayer
from lamina.registry.reference import Reference

log = logging.getLogger(__name__)
DEFAULT_PLATFORM = Platform("linux", "amd64")
_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", DOCKER_MANIFEST_LIST)


def _manifest(client: RegistryClient, repository: str, identifier: str, store: BlobStore) -> tuple[dict, str]:
    """A manifest by digest from the cache, else from the registry (then cached); (json, digest)."""
    what = f"{client.registry}/{repository}@{identifier}"
    if identifier.startswith("sha256:") and store.intact(identifier):
        return json_object(store.read_bytes(identifier), what), identifier
    data, _, digest = client.manifest(repository, identifier)
    store.put_bytes(data)
    return json_object(data, what), digest


def pin(reference: Reference, client: RegistryClient, pinned: str | None, shown: str | None = None) -> Reference:
    """``reference`` with a digest: its own, the lock's pin for its tag, or the tag's current one.
    Says so (naming it ``shown``, e.g. as written before a mirror) when the tag has moved since it
    was pinned, or was never pinned."""
    shown = shown or str(reference)
    if reference.digest:
        return reference
    if pinned is None:
        current = client.manifest_digest(reference.repository, reference.identifier)
        if current is None:
            raise ImageError(f"base {reference}: the registry has no such tag")
        log.warning("base %s is not pinned; using %s (run `lamina generate-lockfiles` to pin it)", shown, current)
        return reference.with_digest(current)
    try:  # a courtesy check, tried once: an offline build uses the pin without a word
        current = client.manifest_digest(reference.repository, reference.identifier, attempts=1)
    except RegistryError:
        current = None
    if current and current != pinned:
        log.warning(
            "base %s has moved to %s; building on the pinned %s (run `lamina generate-lockfiles` to move the pin)",
            shown, current, pinned,
        )  # fmt: skip
    return reference.with_digest(pinned)


def read(
    reference: Reference, client: RegistryClient, store: BlobStore, platform: Platform = DEFAULT_PLATFORM
) -> Image:
    """The image ``reference`` (with a digest) names; of an index, the one for ``platform``."""
    manifest, digest = _manifest(client, reference.repository, reference.identifier, store)
    if manifest.get("mediaType") in _INDEX_TYPES or "manifests" in manifest:
        if not fits(manifest, {"manifests": [{"digest": is_digest}]}):
            raise ImageError(f"base {reference}: its index is malformed")
        matching = [
            m for m in manifest["manifests"]
            if (m.get("platform") or {}).get("os") == platform.os
            and (m.get("platform") or {}).get("architecture") == platform.architecture
        ]  # fmt: skip
        if not matching:
            raise ImageError(f"base {reference} has no {platform} image")
        manifest, digest = _manifest(client, reference.repository, matching[0]["digest"], store)
    if not fits(
        manifest, {"config": {"digest": is_digest}, "layers": [{"mediaType": str, "digest": is_digest, "size": int}]}
    ):
        raise ImageError(f"base {reference}: its manifest {digest} is malformed")
    config_digest = manifest["config"]["digest"]
    client.fetch_blob(reference.repository, config_digest, store)
    config = json_object(store.read_bytes(config_digest), f"the config of base {reference}")
    diff_ids = config.get("rootfs", {}).get("diff_ids", [])
    if len(diff_ids) != len(manifest["layers"]):
        raise ImageError(
            f"base {reference}: its config lists {len(diff_ids)} layers, its manifest {len(manifest['layers'])}"
        )
    layers = tuple(
        RegistryLayer(
            client.registry,
            reference.repository,
            layer["mediaType"],
            layer["digest"],
            diff_id,
            int(layer["size"]),
            client,
            store,
        )
        for layer, diff_id in zip(manifest["layers"], diff_ids)
    )
    return Image(config, layers)
