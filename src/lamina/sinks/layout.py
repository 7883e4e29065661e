"""Write an image (or a multi-architecture index) as an OCI image layout directory.

Blobs go in first (hard-linked from the cache where possible; present blobs are
skipped), ``index.json`` last via an atomic rename: a reader never sees an index that
names a blob not yet written, and a failed build leaves the previous index in place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from lamina.oci import Image, canonical_json
from lamina.oci.index import ImageIndex, images_of

REF_NAME = "org.opencontainers.image.ref.name"


def _atomic_write(path: Path, data: bytes) -> None:
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _put_blob(blobs: Path, digest: str, *, data: bytes | None = None, source: Path | None = None) -> None:
    target = blobs / digest.split(":")[1]
    size = len(data) if data is not None else source.stat().st_size  # type: ignore[union-attr]
    if target.is_file() and target.stat().st_size == size:
        return
    if data is not None:
        _atomic_write(target, data)
        return
    temp = target.with_name(f".{target.name}.incoming")
    temp.unlink(missing_ok=True)
    try:
        os.link(source, temp)  # type: ignore[arg-type]
    except OSError:
        shutil.copyfile(source, temp)  # type: ignore[arg-type]
    os.replace(temp, target)


def write(artifact: Image | ImageIndex, directory: Path, *, tag: str) -> None:
    """Write an image, or an index and its images, to the layout at ``directory`` under
    ``tag`` (the only artifact there)."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    keep = {artifact.digest}
    for image in images_of(artifact):
        for layer in image.layers:
            source = getattr(layer, "path", None)
            if source is not None:
                _put_blob(blobs, layer.digest, source=source)
            else:
                with layer.open() as stream:
                    _put_blob(blobs, layer.digest, data=stream.read())
        _put_blob(blobs, image.config_descriptor.digest, data=image.config_bytes)
        _put_blob(blobs, image.digest, data=image.manifest_bytes)
        keep |= {layer.digest for layer in image.layers} | {image.config_descriptor.digest, image.digest}
    _put_blob(blobs, artifact.digest, data=artifact.manifest_bytes)
    descriptor = artifact.manifest_descriptor.to_json()
    descriptor.pop("platform", None)
    descriptor["annotations"] = {REF_NAME: tag}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [descriptor]}
    _atomic_write(directory / "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
    _atomic_write(directory / "index.json", canonical_json(index))
    for stale in blobs.iterdir():
        if f"sha256:{stale.name}" not in keep:
            stale.unlink()
