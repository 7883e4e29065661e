"""A layer that lives in a registry and is fetched into the local cache on first read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lamina.cache.store import BlobStore
from lamina.registry.client import RegistryClient


@dataclass(frozen=True)
class RegistryLayer:
    """A layer that lives in a repository of a registry, fetched into the cache on first read."""

    registry: str
    repository: str
    media_type: str
    digest: str
    diff_id: str
    size: int
    client: RegistryClient = field(compare=False, repr=False)
    store: BlobStore = field(compare=False, repr=False)

    @property
    def path(self) -> Path:
        """The blob in the local cache (downloaded now if needed)."""
        return self.client.fetch_blob(self.repository, self.digest, self.store)

    def open(self) -> BinaryIO:
        """The blob's bytes, from the local cache."""
        return open(self.path, "rb")
