"""Layers: a layer knows its digests before anyone reads its bytes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from lamina.oci.model import Descriptor


class Layer(Protocol):
    """A read-only layer: digests and size up front, bytes on demand."""

    media_type: str
    digest: str
    diff_id: str
    size: int

    def open(self) -> BinaryIO:
        """The blob's bytes exactly as stored (compressed or not, per ``media_type``)."""
        ...


@dataclass(frozen=True)
class FileLayer:
    """A layer whose blob is a file on disk (a cache entry or a blob of an OCI layout)."""

    path: Path
    media_type: str
    digest: str
    diff_id: str
    size: int

    def open(self) -> BinaryIO:
        """Open the blob for reading."""
        return open(self.path, "rb")


def descriptor(layer: Layer) -> Descriptor:
    """The manifest entry for ``layer``."""
    return Descriptor(layer.media_type, layer.digest, layer.size)
