"""Write an image (or index) as a ``docker load``-able tarball that is also an OCI archive.

It holds ``manifest.json`` (read by ``docker load``, including Docker 20.10) next to
an OCI layout (``oci-layout``, ``index.json``, ``blobs/``), as ``docker save`` of
Docker 25+ does. The bytes are deterministic, and an existing tarball that already
holds this image (``index.json`` is its first member) is left untouched.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from pathlib import Path

from lamina.oci import Image, canonical_json
from lamina.oci.index import ImageIndex, images_of, single_image
from lamina.tar.writer import MTIME

REF_NAME = "org.opencontainers.image.ref.name"


def _index(artifact: Image | ImageIndex, repo_tags: list[str]) -> bytes:
    descriptor = artifact.manifest_descriptor.to_json()
    descriptor.pop("platform", None)
    descriptor["annotations"] = {
        "io.containerd.image.name": ",".join(repo_tags),
        REF_NAME: repo_tags[0].rpartition(":")[2] if repo_tags else "latest",
    }
    return canonical_json(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [descriptor]}
    )


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = size, MTIME, 0o644, 0, 0, "", ""
    return info


def _holds(path: Path, index: bytes) -> bool:
    try:
        with tarfile.open(path) as archive:
            first = archive.next()
            return first is not None and first.name == "index.json" and archive.extractfile(first).read() == index
    except (OSError, tarfile.TarError):
        return False


def write(artifact: Image | ImageIndex, path: Path, *, repo_tags: list[str]) -> None:
    """Write an image or index tagged ``repo_tags`` to the tarball at ``path`` (atomically).

    ``manifest.json`` names one image, since ``docker load`` takes one per tag: of an
    index, the image for this machine's architecture.
    """
    index = _index(artifact, repo_tags)
    if _holds(path, index):
        return
    blob = lambda digest: "blobs/sha256/" + digest.split(":")[1]  # noqa: E731
    image = single_image(artifact)
    manifest_json = json.dumps(
        [
            {
                "Config": blob(image.config_descriptor.digest),
                "RepoTags": repo_tags,
                "Layers": [blob(l.digest) for l in image.layers],
            }
        ]
    ).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with (
            os.fdopen(fd, "wb") as handle,
            tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as archive,
        ):
            small = [
                ("index.json", index),
                ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                ("manifest.json", manifest_json),
            ]
            if isinstance(artifact, ImageIndex):
                small.append((blob(artifact.digest), artifact.manifest_bytes))
            for each in images_of(artifact):
                small += [
                    (blob(each.config_descriptor.digest), each.config_bytes),
                    (blob(each.digest), each.manifest_bytes),
                ]
            written = set()
            for name, data in small:
                if name not in written:
                    written.add(name)
                    archive.addfile(_info(name, len(data)), io.BytesIO(data))
            for each in images_of(artifact):
                for layer in each.layers:
                    if blob(layer.digest) in written:
                        continue
                    written.add(blob(layer.digest))
                    with layer.open() as stream:
                        archive.addfile(_info(blob(layer.digest), layer.size), stream)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
