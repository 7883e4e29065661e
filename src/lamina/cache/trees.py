"""Directory trees in the cache (a builder's root filesystem, which the sandbox mounts): made
once in scratch space and renamed into place, with a manifest of every file beside them
(sha256 and mode of each regular file, each symlink's target). The first time a process
uses a tree it is checked against its manifest, so a damaged or tampered tree is remade
rather than built in, as blobs are re-hashed on their way out of the cache. Worker threads
and other runs asking for the same tree wait for the one that makes or checks it (a
thread lock, and a file lock under ``.locks/``)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from lamina import atomic
from lamina.cache.scratch import Scratch

log = logging.getLogger(__name__)
MANIFEST = ".manifest.json"


def manifest(root: Path) -> dict[str, str]:
    """``{relative path: "MODE SHA256" or "-> TARGET"}`` for every file and symlink under ``root``."""
    entries = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in (*filenames, *dirnames):
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                entries[relative] = f"-> {os.readlink(path)}"
            elif name in filenames:
                with open(path, "rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
                entries[relative] = f"{os.lstat(path).st_mode & 0o7777:o} {digest}"
    return dict(sorted(entries.items()))


class TreeStore:
    """Trees under ``root``, by key (e.g. the digest of the image unpacked there)."""

    def __init__(self, root: Path, scratch: Scratch) -> None:
        self.root = root
        self.scratch = scratch
        self._checked: set[str] = set()  # keys checked by this process
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, fill: Callable[[Path], object]) -> Path:
        """The tree ``key``, made by ``fill(empty directory)`` when missing or damaged."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            final = self.root / key
            if key in self._checked and final.is_dir():
                return final
            with atomic.locked(self.root / ".locks" / key):
                return self._get(key, fill)

    def ready(self, key: str) -> Path | None:
        """The tree ``key`` if this process made or checked it already, else None (never waits)."""
        final = self.root / key
        return final if key in self._checked and final.is_dir() else None

    def _get(self, key: str, fill: Callable[[Path], object]) -> Path:
        final, recorded = self.root / key, self.root / (key + MANIFEST)
        if final.is_dir():
            if recorded.is_file() and json.loads(recorded.read_text()) == manifest(final):
                self._checked.add(key)
                return final
            log.warning("the cached tree %s differs from its manifest; remaking it", final)
            self._discard(final)
        self.root.mkdir(parents=True, exist_ok=True)
        with self.scratch.tempdir() as scratch:
            tree = scratch / "root"
            tree.mkdir()
            fill(tree)
            # The manifest goes first: a tree in place without one is never mistaken for whole.
            atomic.write_bytes(recorded, json.dumps(manifest(tree), indent=0).encode())
            try:
                os.rename(tree, final)
            except OSError:
                if not final.is_dir():  # made meanwhile by a run that took no lock: the same tree
                    raise
        self._checked.add(key)
        return final

    def _discard(self, tree: Path) -> None:
        """Move a damaged tree aside (runs using it keep their mount), then remove it."""
        with self.scratch.tempdir() as scratch:
            try:
                os.rename(tree, scratch / "damaged")
            except OSError:
                return  # another run moved it first
            shutil.rmtree(scratch / "damaged", ignore_errors=True)
