"""Write an image (or index) as a ``docker load``-able tarball that is also an OCI archive.

It holds ``manifest.json`` (read by ``docker load``, including Docker 20.10) next to
an OCI layout (``oci-layout``, ``index.json``, ``blobs/``), as ``docker save`` of
Docker 25+ does. The bytes are deterministic; every layer is checked against its
digest while it is copied in. An existing tarball is kept only when the cache's ledger
says it is, untouched, the one lamina wrote for this image; else it is rewritten.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from lamina.atomic import locked, replacing, sweep
from lamina.cache import OutputRecord
from lamina.oci import Image, canonical_json, sha256_digest
from lamina.oci.index import ImageIndex, images_of, single_image
from lamina.sinks.verified import HashingReader
from lamina.tar.writer import MTIME

REF_NAME = "org.opencontainers.image.ref.name"
_CHUNK = 1 << 20


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


def _blob(digest: str) -> str:
    return "blobs/sha256/" + digest.split(":")[1]


def _write(archive: tarfile.TarFile, artifact: Image | ImageIndex, index: bytes, manifest_json: bytes) -> None:
    small = [("index.json", index), ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("manifest.json", manifest_json)]
    if isinstance(artifact, ImageIndex):
        small.append((_blob(artifact.digest), artifact.manifest_bytes))
    for each in images_of(artifact):
        small += [(_blob(each.config_descriptor.digest), each.config_bytes), (_blob(each.digest), each.manifest_bytes)]
    written = set()
    for name, data in small:
        if name not in written:
            written.add(name)
            archive.addfile(_info(name, len(data)), io.BytesIO(data))
    for each in images_of(artifact):
        for layer in each.layers:
            if _blob(layer.digest) in written:
                continue
            written.add(_blob(layer.digest))
            with HashingReader(layer) as stream:
                try:
                    archive.addfile(_info(_blob(layer.digest), layer.size), stream)
                except OSError:  # a blob shorter than its size is damaged: say so; else it is a real I/O error
                    stream.check()
                    raise
                stream.check()


def write(
    artifact: Image | ImageIndex, path: Path, *, repo_tags: list[str], record: OutputRecord | None = None
) -> None:
    """Write an image or index tagged ``repo_tags`` to the tarball at ``path`` (atomically).

    ``manifest.json`` names one image, since ``docker load`` takes one per tag: of an
    index, the image for this machine's architecture. ``record`` is the ledger's record of
    ``path``; without one the tarball is always written.
    """
    index = _index(artifact, repo_tags)
    image = single_image(artifact)
    manifest_json = json.dumps(
        [
            {
                "Config": _blob(image.config_descriptor.digest),
                "RepoTags": repo_tags,
                "Layers": [_blob(l.digest) for l in image.layers],
            }
        ]
    ).encode()
    content = sha256_digest(index + b"\n" + manifest_json)  # what the tarball must hold
    with locked(path.parent):
        sweep(path.parent)
        if record is not None and record.intact(path, content):
            return
        with replacing(path) as handle, tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as archive:
            archive.copybufsize = _CHUNK  # layers are copied (and hashed) a megabyte at a time, not 16 KB
            _write(archive, artifact, index, manifest_json)
        if record is not None:
            record.remember(path, content)
            record.save()
