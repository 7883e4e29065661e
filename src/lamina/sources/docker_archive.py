"""Read ``docker save`` tarballs (classic and Docker 25+ OCI-in-tar layouts).

Layer blobs are imported into the cache once; the import is remembered by the
archive's path, size and mtime, so a no-op build does not re-read a 200 MB base.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import tarfile
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from lamina.cache import LAYER_BLOB, Cache, action_key, fits
from lamina.errors import ImageError
from lamina.oci import OCI_LAYER_GZIP, OCI_LAYER_TAR, FileLayer, Image

_CHUNK = 1 << 20


_MAX_LINKS = 8


def _member(archive: tarfile.TarFile, name: object, path: Path) -> tarfile.TarInfo:
    """The regular-file member ``manifest.json`` names; links are followed inside the archive
    only, and a name that is missing, absolute or climbs with ``..`` is an error."""
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name.split("/"):
        raise ImageError(f"{path}: manifest.json names {name!r}, which is not a path inside the archive; refused")
    current = posixpath.normpath(name)
    for _ in range(_MAX_LINKS):
        try:
            member = archive.getmember(current)
        except KeyError:
            what = name if current == posixpath.normpath(name) else f"{name} (a link to {current})"
            raise ImageError(f"{path}: {what} is listed in manifest.json but missing from the archive") from None
        if member.isfile():
            return member
        if not (member.issym() or member.islnk()):
            raise ImageError(f"{path}: {name} is not a regular file in the archive")
        target = member.linkname if member.islnk() else posixpath.join(posixpath.dirname(current), member.linkname)
        if target.startswith("/") or posixpath.normpath(target).startswith(".."):
            raise ImageError(f"{path}: {name} is a link to {member.linkname!r}, outside the archive; refused")
        current = posixpath.normpath(target)
    raise ImageError(f"{path}: {name} is a chain of more than {_MAX_LINKS} links; refused")


def _import_layer(archive: tarfile.TarFile, name: str, cache: Cache, path: Path) -> dict:
    member = archive.extractfile(_member(archive, name, path))
    diff = hashlib.sha256()
    with cache.blobs.writer() as blob:
        head = member.read(2)
        compressed = head == b"\x1f\x8b"
        blob.write(head)
        while chunk := member.read(_CHUNK):
            blob.write(chunk)
    if compressed:
        try:
            with gzip.open(cache.blobs.path(blob.digest)) as stream:
                while chunk := stream.read(_CHUNK):
                    diff.update(chunk)
        except (OSError, EOFError, zlib.error) as err:
            raise ImageError(f"{path}: layer {name} is not a valid gzip stream ({err})") from None
        diff_id = f"sha256:{diff.hexdigest()}"
    else:
        diff_id = blob.digest
    return {"digest": blob.digest, "diff_id": diff_id, "size": blob.size, "gzip": compressed}


def _json(archive: tarfile.TarFile, name: object, path: Path):
    try:
        return json.load(archive.extractfile(_member(archive, name, path)))
    except (ValueError, UnicodeDecodeError) as err:
        raise ImageError(f"{path}: {name} is not valid JSON ({err})") from None


def _import(path: Path, cache: Cache) -> dict:
    try:
        with tarfile.open(path) as archive:
            try:
                archive.getmember("manifest.json")
            except KeyError:
                raise ImageError(f"{path} is not a docker-archive: it has no manifest.json") from None
            entries = _json(archive, "manifest.json", path)
            if not fits(entries, [{"Config": str, "Layers": [str]}]) or len(entries) != 1:
                raise ImageError(f"{path}: manifest.json must list exactly one image with a Config and its Layers")
            config = _json(archive, entries[0]["Config"], path)
            if not isinstance(config, dict):
                raise ImageError(f"{path}: the image config is not a JSON object")
            layers = [_import_layer(archive, name, cache, path) for name in entries[0]["Layers"]]
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ImageError(f"cannot read docker-archive {path}: {err}") from err
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    if diff_ids != [layer["diff_id"] for layer in layers]:
        raise ImageError(f"{path}: the layers' contents do not match the config's diff_ids; the archive is corrupt")
    return {"config": config, "layers": layers}


def read_cached(key: str, cache: Cache, archive: Callable[[], AbstractContextManager[Path]]) -> Image:
    """The image imported under action ``key``, importing the archive ``archive()`` yields on a miss."""
    imported = cache.actions.get(key, {"config": dict, "layers": [{**LAYER_BLOB, "gzip": bool}]})
    if imported is None or not all(cache.blobs.has(layer["digest"]) for layer in imported["layers"]):
        with archive() as path:
            imported = _import(path, cache)
        cache.actions.put(key, imported)
    layers = tuple(
        FileLayer(
            cache.blobs.path(layer["digest"]),
            OCI_LAYER_GZIP if layer["gzip"] else OCI_LAYER_TAR,
            layer["digest"],
            layer["diff_id"],
            layer["size"],
        )
        for layer in imported["layers"]
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
