"""An image index: one image per platform under one digest (a multi-architecture image)."""

from __future__ import annotations

import platform as host
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from lamina.oci.image import Image
from lamina.oci.model import OCI_INDEX, OCI_MANIFEST, Descriptor, canonical_json, sha256_digest

# The OCI architecture of the machine lamina runs on, e.g. to pick the image ``docker load`` gets.
_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class ImageIndex:
    """A read-only index of images, one per platform."""

    images: tuple[Image, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def manifest(self) -> dict:
        """The OCI image index object."""
        out: dict = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [image.manifest_descriptor.to_json() for image in self.images],
        }
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    @cached_property
    def manifest_bytes(self) -> bytes:
        """The index blob in canonical JSON."""
        return canonical_json(self.manifest)

    @cached_property
    def digest(self) -> str:
        """The index digest: the multi-architecture image's identity."""
        return sha256_digest(self.manifest_bytes)

    @cached_property
    def manifest_descriptor(self) -> Descriptor:
        """A reference to this index, e.g. for a layout's ``index.json``."""
        return Descriptor(OCI_INDEX, self.digest, len(self.manifest_bytes))

    def for_host(self) -> Image:
        """The image for the machine lamina runs on, else the first."""
        return host_image(self.images) or self.images[0]


def host_architecture() -> str | None:
    """The OCI architecture of the machine lamina runs on (None for one OCI does not name)."""
    return _MACHINES.get(host.machine().lower())


def host_image(images: tuple[Image, ...]) -> Image | None:
    """Of one image per platform, the one for the machine lamina runs on, if there is one."""
    machine = host_architecture()
    return next((image for image in images if image.platform.architecture == machine), None)


def images_of(artifact: Image | ImageIndex) -> tuple[Image, ...]:
    """The images an image or an index holds."""
    return artifact.images if isinstance(artifact, ImageIndex) else (artifact,)


def single_image(artifact: Image | ImageIndex) -> Image:
    """The image a single-image consumer (``docker load``) should get."""
    return artifact.for_host() if isinstance(artifact, ImageIndex) else artifact


__all__ = ["OCI_MANIFEST", "ImageIndex", "host_image", "images_of", "single_image"]
