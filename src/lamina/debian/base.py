"""One base image per architecture from a Debian lock: the packages' files in one layer,
what their maintainer scripts would have made in a second, and a distroless-style
config (nonroot user, CA bundle in ``SSL_CERT_FILE``).

Both layers are cached under a key of the locked .debs' sha256s, so a warm build only
reads the action cache; a cold one downloads the .debs in parallel (each checked
against the lock) and unpacks them in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from lamina import progress
from lamina.cache import LAYER_BLOB, Cache, action_key
from lamina.cache.image_trees import adopt_image_tree
from lamina.debian.lock import LockedDeb
from lamina.debian.rootfs import CA_BUNDLE, NONROOT_HOME, NONROOT_UID, synthesized
from lamina.download import fetch_all
from lamina.oci import Image
from lamina.oci.mutate import append_layer
from lamina.oci.rootfs import extract_layer, extracting
from lamina.tar.entries import DIRECTORY, TarEntry
from lamina.tar.writer import LayerBlob, write_layer
from lamina.transport import Transport

if TYPE_CHECKING:
    from lamina.debian.unpack import UnpackedDeb

LAYER_FORMAT = 4  # 3: status.d/<package>.md5sums; 4: gzip in blocks (lamina.tar.gzip_blocks)
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Debian architecture -> OCI platform (architecture, variant)
PLATFORMS = {
    "amd64": ("amd64", None),
    "arm64": ("arm64", "v8"),
    "armhf": ("arm", "v7"),
    "i386": ("386", None),
    "ppc64el": ("ppc64le", None),
    "s390x": ("s390x", None),
}


def merged_entries(debs: Sequence[UnpackedDeb]) -> list[TarEntry]:
    """Every package's entries in one tree; where two packages ship the same path, the
    later (by name) wins, except that a directory never replaces or is replaced by a file."""
    by_path: dict[str, TarEntry] = {}
    for deb in debs:
        for entry in deb.entries:
            earlier = by_path.get(entry.path)
            if earlier is not None and (earlier.kind == DIRECTORY) != (entry.kind == DIRECTORY):
                continue  # e.g. a directory one package ships and another links: keep the first
            by_path[entry.path] = entry
    return list(by_path.values())


def _layers(
    debs: Sequence[LockedDeb],
    architecture: str,
    cache: Cache,
    transport: Transport,
    max_workers: int,
    jobs: int,
    tree: Path | None,
) -> list[LayerBlob]:
    from lamina.debian.unpack import unpack  # python-debian is needed only on a cache miss

    paths = fetch_all(debs, cache.blobs, transport, max_workers=max_workers)

    def unpack_one(deb: LockedDeb) -> UnpackedDeb:
        unpacked = unpack(paths[deb.sha256], deb.name)
        advance()
        return unpacked

    with (
        progress.step(f"unpacking {len(debs)} .debs for {architecture}", len(debs)) as advance,
        ThreadPoolExecutor(max_workers=max(1, min(max_workers, 4))) as pool,
    ):
        unpacked = list(pool.map(unpack_one, debs))
    files = merged_entries(unpacked)
    with ThreadPoolExecutor(max_workers=2) as pool:  # compress both layers at once
        lamina = pool.submit(write_layer, synthesized(unpacked, files, architecture), cache.blobs)
        if tree is None:
            packages = write_layer(files, cache.blobs, jobs)
        else:
            tree.mkdir()
            with extracting(tree, "of Debian packages") as also:
                packages = write_layer(files, cache.blobs, jobs, also)
        blobs = [packages, lamina.result()]
    if tree is not None:
        with blobs[1].layer(cache.blobs).open() as handle:
            extract_layer(handle, tree, blobs[1].digest)
    return blobs


def base_image(
    debs: Sequence[LockedDeb],
    architecture: str,
    cache: Cache,
    transport: Transport,
    *,
    max_workers: int = 8,
    jobs: int = 1,
    tree: bool = False,
    created: str,
) -> Image:
    """The base image of ``debs`` for the Debian ``architecture`` (downloads on ``max_workers``
    threads, the packages' layer compressed on ``jobs``). With ``tree``, when its layers are
    built, the image's sandbox tree (``lamina.cache.image_trees``) is unpacked from them as
    they are written, in time for the first build in it, rather than decompressed later."""
    debs = sorted(debs, key=lambda d: d.name)
    key = action_key(
        "debian-base-layers", LAYER_FORMAT, {"debs": [[d.name, d.sha256] for d in debs], "architecture": architecture}
    )
    hit = cache.actions.get(key, {"layers": [LAYER_BLOB]})
    layers = [cache.layer(blob) for blob in hit["layers"]] if hit is not None and len(hit["layers"]) == 2 else [None]
    if None not in layers:
        return _image(debs, architecture, layers, created)
    with cache.tempdir() as scratch:
        unpacked = scratch / "root" if tree else None
        blobs = [blob.to_json() for blob in _layers(debs, architecture, cache, transport, max_workers, jobs, unpacked)]
        cache.actions.put(key, {"layers": blobs}, layers=blobs)
        image = _image(debs, architecture, [cache.layer(blob) for blob in blobs], created)
        if unpacked is not None:
            adopt_image_tree(image, cache, unpacked)
    return image


def _image(debs: Sequence[LockedDeb], architecture: str, layers: list, created: str) -> Image:
    oci_arch, variant = PLATFORMS.get(architecture, (architecture, None))
    config: dict = {
        "architecture": oci_arch,
        "os": "linux",
        "created": created,
        "config": {
            "Env": [f"PATH={PATH}", f"SSL_CERT_FILE={CA_BUNDLE}"],
            "User": str(NONROOT_UID),
            "WorkingDir": NONROOT_HOME,
        },
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [],
    }
    if variant:
        config["variant"] = variant
    image = Image(config)
    names = ", ".join(d.name for d in debs)
    image = append_layer(image, layers[0], created_by=f"lamina: Debian packages {names}")
    return append_layer(image, layers[1], created_by="lamina: users, CA bundle, loader cache, package database")
