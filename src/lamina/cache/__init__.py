"""The local content-addressed cache: blobs by digest, action results by key.

Every entry is written to a temporary path inside the cache and renamed into place,
so a crash or a failed verification never leaves a half-written entry behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

from lamina.cache.actions import ActionCache, RemoteActions, action_key
from lamina.cache.store import BlobStore, BlobWriter

__all__ = ["ActionCache", "BlobStore", "BlobWriter", "Cache", "RemoteActions", "action_key", "default_cache_dir"]


def default_cache_dir() -> Path:
    """``$LAMINA_CACHE_DIR`` if set, else the user's cache directory (e.g. ``~/.cache/lamina``)."""
    configured = os.environ.get("LAMINA_CACHE_DIR")
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("lamina"))


class Cache:
    """One cache root holding a blob store, an action cache and scratch space."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self.blobs = BlobStore(self.root / "blobs")
        self.actions = ActionCache(self.root / "actions")

    def layer(self, blob: dict):
        """The layer for a cached blob (``{"digest", "diff_id", "size"}``): the local file,
        else the remote tier's lazily fetched copy; None when neither has it."""
        from lamina.oci import OCI_LAYER_GZIP, FileLayer

        if self.blobs.has(blob["digest"]):
            path = self.blobs.path(blob["digest"])
            return FileLayer(path, OCI_LAYER_GZIP, blob["digest"], blob["diff_id"], blob["size"])
        return self.actions.remote.layer(blob) if self.actions.remote is not None else None

    @contextmanager
    def tempdir(self) -> Iterator[Path]:
        """A scratch directory on the cache's filesystem (so renames into the cache are atomic)."""
        scratch = self.root / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(dir=scratch))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
