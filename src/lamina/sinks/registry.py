"""Push an image or an index to a registry, uploading only the blobs it does not have.

Each blob is checked with HEAD first; a blob that another repository of the same
registry holds (a registry base, the remote cache) is mounted instead of uploaded; a
blob that is uploaded is first read and checked against its digest.
Manifests go up by digest, the index after its images, the tags last: a reader never
sees a tag that names something incomplete, and a rerun is a no-op.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Self

from lamina import progress
from lamina.errors import RegistryError
from lamina.oci import OCI_INDEX, OCI_MANIFEST, Image
from lamina.oci.index import ImageIndex, images_of
from lamina.registry.client import RegistryClient
from lamina.registry.reference import Reference
from lamina.sinks.named import NamedImage
from lamina.sinks.verified import verify_layer


@dataclass
class PushReport:
    """What a push did: the digest pushed, and the blobs uploaded, mounted or already there."""

    digest: str = ""
    uploaded: dict[str, int] = field(default_factory=dict)  # digest -> bytes
    mounted: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)

    @property
    def uploaded_bytes(self) -> int:
        """Bytes of blobs uploaded (manifests not counted)."""
        return sum(self.uploaded.values())


def _blobs(artifact: Image | ImageIndex) -> dict[str, object]:
    """digest -> layer, or config bytes, of every blob the artifact's images need."""
    found: dict[str, object] = {}
    for image in images_of(artifact):
        for layer in image.layers:
            found.setdefault(layer.digest, layer)
        found.setdefault(image.config_descriptor.digest, image.config_bytes)
    return found


_MANIFEST_ATTEMPTS = 3  # a manifest refused for a blob the registry briefly lost is retried


def _push_blob(
    client: RegistryClient, repository: str, digest: str, item, report: PushReport, holders: dict[str, str]
) -> None:
    if client.has_blob(repository, digest):
        report.present.append(digest)
        return
    source = holders.get(digest)  # another repository of this registry that has it
    if source is None and getattr(item, "registry", None) == client.registry:
        source = getattr(item, "repository", None)  # a layer that lives in this registry
    if source and source != repository and client.mount_blob(repository, digest, source):
        report.mounted.append(digest)
        return
    if isinstance(item, bytes):
        import io

        client.upload_blob(repository, digest, len(item), lambda: io.BytesIO(item))
        size = len(item)
    else:
        verify_layer(item)  # no damaged byte reaches a registry
        client.upload_blob(repository, digest, item.size, item.open)
        size = item.size
    report.uploaded[digest] = size


def push(
    artifact: Image | ImageIndex,
    reference: Reference,
    tags: list[str],
    client: RegistryClient,
    *,
    holders: dict[str, str] | None = None,
    max_workers: int = 4,
) -> PushReport:
    """Push ``artifact`` to ``reference``'s repository under every tag; return what was done.

    ``holders`` (digest -> repository of the same registry) names blobs to mount rather
    than upload; it is updated with what this push put in place.
    """
    holders = {} if holders is None else holders
    report = PushReport()
    repository = reference.repository
    failed = threading.Event()  # after one blob fails, the others are not started

    def push_one(digest: str, item) -> None:
        if failed.is_set():
            return
        try:
            _push_blob(client, repository, digest, item, report, holders)
        except BaseException:
            failed.set()
            raise

    blobs = _blobs(artifact)
    with (
        progress.step(f"pushing {progress.count(len(blobs), 'blob')} to {repository}", len(blobs)) as advance,
        ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool,
    ):
        futures = [pool.submit(push_one, digest, item) for digest, item in blobs.items()]
        for future in futures:
            future.result()
            advance()
    for attempt in range(1, _MANIFEST_ATTEMPTS + 1):
        try:
            for image in images_of(artifact):
                client.put_manifest(repository, image.digest, image.manifest_bytes, OCI_MANIFEST)
            break
        except RegistryError as err:
            # Two pushes of the same blob at once can leave it briefly unknown to a distribution
            # registry (moby/moby#22854, containerd/nerdctl#2404): check every blob again, retry.
            if not {"MANIFEST_BLOB_UNKNOWN", "BLOB_UNKNOWN"} & set(err.codes) or attempt == _MANIFEST_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
            again = PushReport()
            for digest, item in blobs.items():
                _push_blob(client, repository, digest, item, again, holders)
            report.uploaded.update(again.uploaded)  # what was there or mounted is already counted
    media_type = OCI_INDEX if isinstance(artifact, ImageIndex) else OCI_MANIFEST
    if isinstance(artifact, ImageIndex):
        client.put_manifest(repository, artifact.digest, artifact.manifest_bytes, OCI_INDEX)
    for tag in tags:
        client.put_manifest(repository, tag, artifact.manifest_bytes, media_type)
    holders.update(dict.fromkeys(_blobs(artifact), repository))
    report.digest = artifact.digest
    return report


class Registries:
    """The ``publish`` output, open for one run: each image pushed to the repository and
    tags ``destination`` names for it, mounting what a repository of the same registry
    holds (``holders``: registry -> {digest: repository}, the remote cache's blobs first)."""

    def __init__(
        self,
        destination: Callable[[NamedImage], tuple[Reference, list[str]]],
        client: Callable[[str], RegistryClient],
        *,
        holders: dict[str, dict[str, str]],
        max_workers: int = 8,
    ) -> None:
        self.destination, self.client, self.holders, self.max_workers = destination, client, holders, max_workers
        self.reports: dict[str, PushReport] = {}  # address -> what its push did

    def __enter__(self) -> Self:
        return self

    def put(self, built: NamedImage) -> list[str]:
        """Push ``built``; return ``REPOSITORY:TAG`` for each tag."""
        reference, tags = self.destination(built)
        self.reports[built.address] = push(
            built.image, reference, tags, self.client(reference.registry),
            holders=self.holders.setdefault(reference.registry, {}), max_workers=self.max_workers,
        )  # fmt: skip
        return [f"{reference.name}:{tag}" for tag in tags]

    def __exit__(self, *exc) -> None:
        pass
