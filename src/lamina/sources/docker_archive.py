"""Read ``docker save`` tarballs (classic and Docker 25+ OCI-in-tar layouts).

Layer blobs are imported into the cache once; the import is remembered by the
archive's path, size and mtime, so a no-op build does not re-read a 200 MB base.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from lamina.cache import Cache, action_key
from lamina.errors import ImageError
from lamina.oci import OCI_LAYER_GZIP, OCI_LAYER_TAR, FileLayer, Image

_CHUNK = 1 << 20


def _import_layer(archive: tarfile.TarFile, name: str, cache: Cache, path: Path) -> dict:
    member = archive.extractfile(name)
    if member is None:
        raise ImageError(f"{path}: layer {name} listed in manifest.json is missing")
    diff = hashlib.sha256()
    with cache.blobs.writer() as blob:
        head = member.read(2)
        compressed = head == b"\x1f\x8b"
        blob.write(head)
        while chunk := member.read(_CHUNK):
            blob.write(chunk)
            if not compressed:
                diff.update(chunk)
    if compressed:
        with gzip.open(cache.blobs.path(blob.digest)) as stream:
            while chunk := stream.read(_CHUNK):
                diff.update(chunk)
        diff_id = f"sha256:{diff.hexdigest()}"
    else:
        diff_id = blob.digest
    return {"digest": blob.digest, "diff_id": diff_id, "size": blob.size, "gzip": compressed}


def _import(path: Path, cache: Cache) -> dict:
    try:
        with tarfile.open(path) as archive:
            try:
                (entry,) = json.load(archive.extractfile("manifest.json"))
            except KeyError:
                raise ImageError(f"{path} is not a docker-archive: it has no manifest.json") from None
            except ValueError as err:
                raise ImageError(f"{path}: manifest.json must list exactly one image ({err})") from None
            config = json.load(archive.extractfile(entry["Config"]))
            layers = [_import_layer(archive, name, cache, path) for name in entry["Layers"]]
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ImageError(f"cannot read docker-archive {path}: {err}") from err
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    if diff_ids != [layer["diff_id"] for layer in layers]:
        raise ImageError(f"{path}: the layers' contents do not match the config's diff_ids; the archive is corrupt")
    return {"config": config, "layers": layers}


def read_cached(key: str, cache: Cache, archive: Callable[[], AbstractContextManager[Path]]) -> Image:
    """The image imported under action ``key``, importing the archive ``archive()`` yields on a miss."""
    imported = cache.actions.get(key)
    if imported is None or not all(cache.blobs.has(layer["digest"]) for layer in imported["layers"]):
        with archive() as path:
            imported = _import(path, cache)
        cache.actions.put(key, imported)
    layers = tuple(
        FileLayer(
            cache.blobs.path(l["digest"]),
            OCI_LAYER_GZIP if l["gzip"] else OCI_LAYER_TAR,
            l["digest"],
            l["diff_id"],
            l["size"],
        )
        for l in imported["layers"]
    )
    return Image(imported["config"], layers)


def read(path: Path, cache: Cache) -> Image:
    """The single image in the docker-archive at ``path``, imported once per file version."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ImageError(f"base image archive {path} does not exist") from None
    key = action_key(
        "docker-archive-import", 1, {"path": str(path.absolute()), "size": stat.st_size, "mtime": stat.st_mtime_ns}
    )
    return read_cached(key, cache, lambda: nullcontext(path))
