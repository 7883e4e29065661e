"""Reading layer bytes on their way to an output, checked against the layer's digest.

Every sink reads blobs through here, so no byte that changed on disk (in the cache or
in a base image's layout) reaches an output or a registry: the copy is abandoned and a
``DamagedBlobError`` names the blob and where it was read from.
"""

from __future__ import annotations

import hashlib
from typing import BinaryIO

from lamina.errors import DamagedBlobError
from lamina.oci.layer import Layer

_CHUNK = 1 << 20


def _where(layer: Layer) -> str:
    return str(getattr(layer, "path", None) or layer.digest)


def damaged(layer: Layer, actual: str) -> DamagedBlobError:
    """The error for a layer whose bytes hash to ``actual``."""
    where = _where(layer)
    return DamagedBlobError(
        f"the blob {layer.digest} read from {where} is damaged: its bytes hash to {actual}; nothing was written",
        digest=layer.digest,
        path=where,
    )


class HashingReader:
    """A layer's stream that hashes what is read; ``check()`` after the last read."""

    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self._stream: BinaryIO = layer.open()
        self._hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the blob (all that is left when negative)."""
        data = self._stream.read(size)
        self._hash.update(data)
        return data

    def check(self) -> None:
        """Raise ``DamagedBlobError`` unless everything read matches the layer's digest."""
        while self.read(_CHUNK):
            pass
        actual = f"sha256:{self._hash.hexdigest()}"
        if actual != self.layer.digest:
            raise damaged(self.layer, actual)

    def close(self) -> None:
        """Close the blob."""
        self._stream.close()

    def __enter__(self) -> HashingReader:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def copy_layer(layer: Layer, destination: BinaryIO) -> None:
    """Copy the layer's blob to ``destination``, checked against its digest."""
    with HashingReader(layer) as source:
        while chunk := source.read(_CHUNK):
            destination.write(chunk)
        source.check()


def verify_layer(layer: Layer) -> None:
    """Read the layer's blob once and check it against its digest."""
    with HashingReader(layer) as source:
        source.check()
