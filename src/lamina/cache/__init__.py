"""The local content-addressed cache: blobs by digest, action results by key.

Every entry is written in this process's scratch directory and renamed into place, so
a crash or a failed verification never leaves a half-written entry behind, and a later
run sweeps the scratch directories of processes that died.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

from lamina.cache.actions import DIGEST, LAYER_BLOB, ActionCache, RemoteActions, Shape, action_key, fits
from lamina.cache.ledger import Ledger, OutputRecord
from lamina.cache.scratch import Scratch
from lamina.cache.store import BlobStore, BlobWriter, file_digest, is_digest
from lamina.cache.trees import TreeStore

__all__ = [
    "DIGEST", "LAYER_BLOB", "ActionCache", "BlobStore", "BlobWriter", "Cache", "Ledger", "OutputRecord",
    "RemoteActions", "Scratch", "Shape",
    "action_key", "default_cache_dir", "file_digest", "fits", "is_digest",
]  # fmt: skip


def default_cache_dir() -> Path:
    """``$LAMINA_CACHE_DIR`` if set, else the user's cache directory (e.g. ``~/.cache/lamina``)."""
    configured = os.environ.get("LAMINA_CACHE_DIR")
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("lamina"))


class Cache:
    """One cache root holding a blob store, an action cache, the ledger of outputs, unpacked
    trees and scratch space."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self.scratch = Scratch(self.root / "tmp")
        self.blobs = BlobStore(self.root / "blobs", self.scratch)
        self.actions = ActionCache(self.root / "actions", scratch=self.scratch)
        self.outputs = Ledger(self.root / "outputs")
        self.trees = TreeStore(self.root / "trees", self.scratch)

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
        """A scratch directory on the cache's file system (so renames into the cache are atomic)."""
        with self.scratch.tempdir() as path:
            yield path
