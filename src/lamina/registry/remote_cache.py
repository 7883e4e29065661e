"""The registry as a shared cache: action results (and the layers they name) stored in
one repository, each under a tag that is its action key.

An entry is an OCI manifest whose config blob is the result's JSON and whose layers are
the blobs it names. A machine with an empty local cache reads results from here and
gets the layers lazily: a ``publish`` to the same registry mounts them without ever
downloading them. The shared cache only ever speeds a build up: when the registry
cannot be reached, lamina says so once and builds without it.
"""

from __future__ import annotations

import io
import json
import logging
import threading

from lamina.cache.actions import LAYER_BLOB, fits
from lamina.cache.store import BlobStore
from lamina.errors import DamagedBlobError, RegistryError, TransportError
from lamina.oci.model import OCI_LAYER_GZIP, OCI_MANIFEST, canonical_json, sha256_digest
from lamina.registry.client import RegistryClient
from lamina.registry.layer import RegistryLayer

log = logging.getLogger(__name__)
ACTION_RESULT = "application/vnd.lamina.action-result.v1+json"
_ENTRY = {"config": {"digest": LAYER_BLOB["digest"]}, "layers": [{"digest": LAYER_BLOB["digest"]}]}


class RegistryCache:
    """Action results in ``repository`` of the registry ``client`` speaks to."""

    def __init__(self, client: RegistryClient, repository: str, store: BlobStore) -> None:
        self.client, self.repository, self.store = client, repository, store
        self._held: set[str] = set()  # blob digests the repository is known to hold
        self._lock = threading.Lock()
        self._broken = False

    def _disable(self, err: Exception) -> None:
        if not self._broken:
            log.warning("the remote cache %s/%s is not used: %s", self.client.registry, self.repository, err)
        self._broken = True

    def held(self) -> dict[str, str]:
        """digest -> repository of every blob this run saw in the cache repository."""
        with self._lock:
            return dict.fromkeys(self._held, self.repository)

    def get(self, key: str) -> object | None:
        """The result stored under ``key``, or None (an entry of the wrong shape is a miss too)."""
        if self._broken:
            return None
        try:
            if self.client.manifest_digest(self.repository, key, attempts=2) is None:
                return None
            data, _, _ = self.client.manifest(self.repository, key)
            manifest = json.loads(data)
            if not fits(manifest, _ENTRY):
                log.info("remote cache entry %s is not a lamina action result; ignored", key)
                return None
            config_digest = manifest["config"]["digest"]
            self.client.fetch_blob(self.repository, config_digest, self.store)
            value = json.loads(self.store.read_bytes(config_digest))
        except (RegistryError, TransportError) as err:
            self._disable(err)
            return None
        except (ValueError, DamagedBlobError):
            return None
        with self._lock:
            self._held.update(layer["digest"] for layer in manifest["layers"])
        return value

    def put(self, key: str, value: dict, layers) -> None:
        """Store ``value`` under ``key`` with the layer blobs it names (skipping blobs already there)."""
        if self._broken:
            return
        config = canonical_json(value)
        config_digest = sha256_digest(config)
        try:
            for layer in layers:
                if layer["digest"] not in self._held and not self.client.has_blob(self.repository, layer["digest"]):
                    path = self.store.verify(layer["digest"])  # no damaged byte leaves the cache
                    self.client.upload_blob(
                        self.repository, layer["digest"], layer["size"], lambda p=path: open(p, "rb")
                    )
            if not self.client.has_blob(self.repository, config_digest):
                self.client.upload_blob(self.repository, config_digest, len(config), lambda: io.BytesIO(config))
            manifest = {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": ACTION_RESULT, "digest": config_digest, "size": len(config)},
                "layers": [
                    {"mediaType": OCI_LAYER_GZIP, "digest": layer["digest"], "size": layer["size"]} for layer in layers
                ],
            }
            self.client.put_manifest(self.repository, key, canonical_json(manifest), OCI_MANIFEST)
        except (RegistryError, TransportError) as err:
            self._disable(err)
            return
        with self._lock:
            self._held.update(layer["digest"] for layer in layers)

    def layer(self, blob: dict) -> RegistryLayer | None:
        """The blob as a layer fetched from the repository on first read, if it holds it."""
        if self._broken:
            return None
        if blob["digest"] not in self._held:
            try:
                if not self.client.has_blob(self.repository, blob["digest"]):
                    return None
            except (RegistryError, TransportError) as err:
                self._disable(err)
                return None
        return RegistryLayer(
            self.client.registry, self.repository, OCI_LAYER_GZIP, blob["digest"], blob["diff_id"], blob["size"],
            self.client, self.store,
        )  # fmt: skip
