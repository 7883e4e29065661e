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
from typing import Self

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


def _write(
    archive: tarfile.TarFile, artifact: Image | ImageIndex, index: bytes | None, manifest_json: bytes, held: frozenset
) -> None:
    small = [("manifest.json", manifest_json)]
    if index is not None:
        small[:0] = [("index.json", index), ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')]
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
            if _blob(layer.digest) in written or layer.digest in held:
                continue
            written.add(_blob(layer.digest))
            with HashingReader(layer) as stream:
                try:
                    archive.addfile(_info(_blob(layer.digest), layer.size), stream)
                except OSError:  # a blob shorter than its size is damaged: say so; else it is a real I/O error
                    stream.check()
                    raise
                stream.check()


def _manifest_json(image: Image, repo_tags: list[str]) -> bytes:
    """What ``docker load`` reads: one image per tag list."""
    layers = [_blob(layer.digest) for layer in image.layers]
    return json.dumps(
        [{"Config": _blob(image.config_descriptor.digest), "RepoTags": repo_tags, "Layers": layers}]
    ).encode()


def write_for_engine(image: Image, path: Path, *, repo_tags: list[str], held: frozenset[str]) -> None:
    """A ``docker save``-style tarball of one image without the layers of ``held`` (digests):
    the engine's loader opens a layer's file only when it lacks that layer's chain."""
    with open(path, "xb") as handle, tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.copybufsize = _CHUNK
        _write(archive, image, None, _manifest_json(image, repo_tags), held)


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
    manifest_json = _manifest_json(image, repo_tags)
    content = sha256_digest(index + b"\n" + manifest_json)  # what the tarball must hold
    with locked(path.parent):
        sweep(path.parent)
        if record is not None and record.intact(path, content):
            return
        with replacing(path) as handle, tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as archive:
            archive.copybufsize = _CHUNK  # layers are copied (and hashed) a megabyte at a time, not 16 KB
            _write(archive, artifact, index, manifest_json, frozenset())
        if record is not None:
            record.remember(path, content)
            record.save()


class Tarballs:
    """The ``tarball`` output: one ``docker load``-able tarball per image target, at
    ``<dist>/<dir.sub>/<name>.tar`` (Pants' layout)."""

    def __init__(self, dist_dir: Path, ledger, *, shown_from: Path) -> None:
        self.dist_dir, self.ledger, self.shown_from = dist_dir, ledger, shown_from

    def __enter__(self) -> Self:
        return self

    def put(self, built) -> list[str]:
        """Write ``built``'s tarball (kept when the ledger says it is already this image's)."""
        path = self.dist_dir / (built.output_stem + ".tar")
        write(built.image, path, repo_tags=list(built.repo_tags), record=self.ledger.record(path))
        return [str(path.relative_to(self.shown_from))]

    def __exit__(self, *exc) -> None:
        pass
