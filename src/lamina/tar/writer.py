"""Write entries as a reproducible gzip-compressed layer straight into the blob store.

Reproducibility is made here, in one place: entries sorted by path, parent
directories implied, fixed mtime, numeric owners (root unless set) with no names, normalized modes, PAX
format, and a gzip header with no name and no time, compressed in blocks whose bytes do
not depend on how many threads compress them (``lamina.tar.gzip_blocks``). The
uncompressed digest (the OCI ``diff_id``) is computed in the same pass as the compressed one.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import BinaryIO

from lamina import progress
from lamina.cache.store import BlobStore
from lamina.errors import ImageError
from lamina.oci import OCI_LAYER_GZIP, FileLayer
from lamina.tar.entries import DIRECTORY, FILE, HARDLINK, SYMLINK, TarEntry
from lamina.tar.gzip_blocks import BlockGzipWriter

_BAR_FROM = 2000  # entries: a layer this big shows a progress bar while compressed

# 2000-01-01T00:00:00Z, as rules_pkg uses: fixed, and after the zip epoch.
MTIME = 946684800
COMPRESSLEVEL = 6


@dataclass(frozen=True)
class LayerBlob:
    """A written layer: compressed ``digest`` and ``size`` as stored, ``diff_id`` of the tar."""

    digest: str
    diff_id: str
    size: int

    def to_json(self) -> dict:
        """The fields, for an action-cache entry."""
        return {"digest": self.digest, "diff_id": self.diff_id, "size": self.size}

    def layer(self, blobs: BlobStore) -> FileLayer:
        """The image layer backed by this blob in ``blobs``."""
        return FileLayer(blobs.path(self.digest), OCI_LAYER_GZIP, self.digest, self.diff_id, self.size)


class _TeeToGzip(io.RawIOBase):
    """Hashes the uncompressed tar stream and forwards it into a deterministic gzip stream
    (and to ``also``, when given, as it is)."""

    def __init__(self, sink, threads: int, also: BinaryIO | None = None) -> None:
        self.diff_hash = hashlib.sha256()
        self._gzip = BlockGzipWriter(sink, COMPRESSLEVEL, threads)
        self._also = also

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.diff_hash.update(data)
        self._gzip.write(data)
        if self._also is not None:
            self._also.write(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._gzip.close()
        super().close()


def complete(entries: Iterable[TarEntry]) -> list[TarEntry]:
    """Entries sorted by path with missing parent directories added and duplicates checked."""
    by_path: dict[str, TarEntry] = {}
    for entry in entries:
        earlier = by_path.get(entry.path)
        if earlier is not None and earlier != entry and not (earlier.kind == entry.kind == DIRECTORY):
            raise ImageError(f"two different layer entries for /{entry.path}")
        by_path[entry.path] = entry
    _link_to_first(by_path)
    for path in list(by_path):
        parent = posixpath.dirname(path)
        while parent and parent not in by_path:
            by_path[parent] = TarEntry.dir(parent)
            parent = posixpath.dirname(parent)
    return [by_path[path] for path in sorted(by_path)]


def _link_to_first(by_path: dict[str, TarEntry]) -> None:
    """Make each group of hard links point at its first path in sorted order, which is
    where the writer puts the content (a tar link must follow the file it names)."""
    groups: dict[str, list[str]] = {}
    for entry in by_path.values():
        if entry.kind == HARDLINK:
            if entry.linkname not in by_path or by_path[entry.linkname].kind != FILE:
                raise ImageError(f"/{entry.path} is a hard link to /{entry.linkname}, which is not a file of the layer")
            groups.setdefault(entry.linkname, []).append(entry.path)
    for target, links in groups.items():
        first = min([target, *links])
        if first != target:
            by_path[first] = replace(by_path[target], path=first)
            for path in (target, *links):
                if path != first:
                    by_path[path] = TarEntry.hardlink(path, first, by_path[first].mode)


def _tarinfo(entry: TarEntry) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.path + ("/" if entry.kind == DIRECTORY else ""))
    info.mtime = MTIME
    info.uid, info.gid = entry.uid, entry.gid
    info.uname = info.gname = ""
    info.mode = entry.mode
    if entry.kind == FILE:
        info.type = tarfile.REGTYPE
        info.size = entry.size()
    elif entry.kind == DIRECTORY:
        info.type = tarfile.DIRTYPE
    elif entry.kind == SYMLINK:
        info.type = tarfile.SYMTYPE
        info.linkname = entry.linkname
    elif entry.kind == HARDLINK:
        info.type = tarfile.LNKTYPE
        info.linkname = entry.linkname
    return info


def write_layer(
    entries: Iterable[TarEntry], blobs: BlobStore, threads: int = 1, also: BinaryIO | None = None
) -> LayerBlob:
    """Write ``entries`` as a gzip layer into ``blobs`` (compressed on up to ``threads``
    threads, which changes no byte) and, uncompressed, to ``also`` when given; return its digests."""
    entries = complete(entries)
    # A bar for big layers only: small ones take no time.
    step = progress.step(f"compressing {len(entries)} files", len(entries)) if len(entries) >= _BAR_FROM else None
    with blobs.writer() as blob, step or nullcontext(lambda n=1: None) as advance:
        tee = _TeeToGzip(blob, threads, also)
        with tarfile.open(fileobj=tee, mode="w|", format=tarfile.PAX_FORMAT) as archive:
            for entry in entries:
                info = _tarinfo(entry)
                if entry.kind != FILE:
                    archive.addfile(info)
                elif entry.data is not None:
                    archive.addfile(info, io.BytesIO(entry.data))
                else:
                    with open(entry.source, "rb") as handle:  # type: ignore[arg-type]
                        archive.addfile(info, handle)
                advance()
        tee.close()
    return LayerBlob(digest=blob.digest, diff_id=f"sha256:{tee.diff_hash.hexdigest()}", size=blob.size)
