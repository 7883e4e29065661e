"""Images unpacked into the cache's tree store (``trees/``) as the sandbox's root
filesystem: for the bytecode compiler and for sdists built in a builder. A tree is keyed
by its image's digest, made once (by unpacking the image's layers, or adopted from a
directory its layers were applied to as they were written) and checked once per run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from lamina.oci import Image
from lamina.oci.rootfs import extract

if TYPE_CHECKING:
    from lamina.cache import Cache


def prepare_rootfs(image: Image, destination: Path) -> Path:
    """Unpack ``image`` into ``destination`` (empty), with the mount points the sandbox needs."""
    extract(image, destination)
    _add_mount_points(destination)
    return destination


def image_tree(image: Image, cache: Cache) -> Path:
    """``image`` unpacked under the cache's ``trees/`` for the sandbox: made once, checked once per run."""
    return cache.trees.get(_tree_key(image), lambda tree: prepare_rootfs(image, tree))


def adopt_image_tree(image: Image, cache: Cache, unpacked: Path) -> Path:
    """``image``'s tree, made of ``unpacked`` (its layers applied as they were written, in
    the cache's scratch space) unless the cache holds it already."""

    def fill(tree: Path) -> None:
        os.replace(unpacked, tree)  # onto the empty directory the store made
        _add_mount_points(tree)

    return cache.trees.get(_tree_key(image), fill)


def unpacked(image: Image, cache: Cache) -> Path | None:
    """``image``'s tree if this run made or checked it already (its files are then cheaper
    to read there than from its compressed layers), else None."""
    return cache.trees.ready(_tree_key(image))


def _tree_key(image: Image) -> str:
    return image.digest.replace(":", "-")


def _add_mount_points(root: Path) -> None:
    for directory in ("proc", "dev", "tmp"):  # bwrap mounts its own there; the root is read-only
        (root / directory).mkdir(exist_ok=True)
