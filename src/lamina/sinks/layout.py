"""Write an image (or a multi-architecture index) as an OCI image layout directory.

Blobs go in first, each copied (never linked: an output shares no inode with the
cache) and checked against its digest on the way; ``index.json`` last, via an atomic
rename, so a reader never sees an index that names a blob not yet written and a failed
build leaves the previous index in place. A blob is rewritten when the cache's ledger
says it is not the file lamina wrote (damaged, truncated, replaced), and kept otherwise,
so a no-op ``package`` only ``stat``s. Concurrent writers of one layout take turns.
"""

from __future__ import annotations

import json
from pathlib import Path

from lamina.atomic import locked, replacing, sweep, write_bytes
from lamina.cache import OutputRecord, file_digest
from lamina.oci import Image, canonical_json
from lamina.oci.index import ImageIndex, images_of
from lamina.sinks.verified import copy_layer

REF_NAME = "org.opencontainers.image.ref.name"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def _put(target: Path, digest: str, record: OutputRecord, *, data: bytes | None = None, layer=None) -> None:
    if record.intact(target, digest):
        return
    if target.is_file() and file_digest(target) == digest:  # written by another run or another cache
        record.remember(target, digest)
        return
    with replacing(target) as handle:
        if data is not None:
            handle.write(data)
        else:
            copy_layer(layer, handle)
    record.remember(target, digest)


def write(artifact: Image | ImageIndex, directory: Path, *, tag: str, record: OutputRecord) -> None:
    """Write an image, or an index and its images, to the layout at ``directory`` under
    ``tag`` (the only artifact there); ``record`` is the ledger's record of ``directory``."""
    with locked(directory):
        blobs = directory / "blobs" / "sha256"
        blobs.mkdir(parents=True, exist_ok=True)
        wanted: dict[str, dict] = {}
        for image in images_of(artifact):
            for layer in image.layers:
                wanted.setdefault(layer.digest, {"layer": layer})
            wanted.setdefault(image.config_descriptor.digest, {"data": image.config_bytes})
            wanted.setdefault(image.digest, {"data": image.manifest_bytes})
        wanted.setdefault(artifact.digest, {"data": artifact.manifest_bytes})
        paths = {blobs / digest.partition(":")[2]: digest for digest in wanted}
        for target, digest in paths.items():
            _put(target, digest, record, **wanted[digest])
        descriptor = artifact.manifest_descriptor.to_json()
        descriptor.pop("platform", None)
        descriptor["annotations"] = {REF_NAME: tag}
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]}
        write_bytes(directory / "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        write_bytes(directory / "index.json", canonical_json(index))
        for stale in blobs.iterdir():
            if stale not in paths and not stale.name.startswith("."):
                stale.unlink()
        sweep(blobs)
        sweep(directory)
        record.forget_all_but(set(paths))
        record.save()
