"""An image: config plus layers; manifest and digest are derived once, on demand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from lamina.oci.layer import Layer, descriptor
from lamina.oci.model import OCI_CONFIG, OCI_MANIFEST, Descriptor, Platform, canonical_json, sha256_digest


@dataclass(frozen=True)
class Image:
    """A read-only image. ``config`` is the OCI image config object."""

    config: Mapping
    layers: tuple[Layer, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def config_bytes(self) -> bytes:
        """The config blob in lamina's canonical JSON."""
        return canonical_json(self.config)

    @cached_property
    def config_descriptor(self) -> Descriptor:
        """The manifest's reference to the config blob."""
        return Descriptor(OCI_CONFIG, sha256_digest(self.config_bytes), len(self.config_bytes))

    @cached_property
    def manifest(self) -> dict:
        """The OCI image manifest object."""
        out: dict = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.config_descriptor.to_json(),
            "layers": [descriptor(layer).to_json() for layer in self.layers],
        }
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    @cached_property
    def manifest_bytes(self) -> bytes:
        """The manifest blob in canonical JSON."""
        return canonical_json(self.manifest)

    @cached_property
    def digest(self) -> str:
        """The manifest digest: the image's identity."""
        return sha256_digest(self.manifest_bytes)

    @cached_property
    def manifest_descriptor(self) -> Descriptor:
        """A reference to this image's manifest, e.g. for ``index.json``."""
        return Descriptor(OCI_MANIFEST, self.digest, len(self.manifest_bytes), platform=self.platform)

    @property
    def platform(self) -> Platform:
        """The platform the config declares."""
        return Platform(
            self.config.get("os", "linux"), self.config.get("architecture", "amd64"), self.config.get("variant")
        )
