"""An image's filesystem without running it: read through a merged view of its layers
(``LayeredTree``: only member headers are indexed up front, file bytes are read when
asked for) or of a directory it was unpacked into (``DirectoryTree``), and unpacked
(``extract``).

Layers are applied bottom to top with OCI whiteouts (``.wh.NAME`` deletes, ``.wh..wh..opq``
empties a directory).
"""

from __future__ import annotations

import fcntl
import os
import posixpath
import shutil
import tarfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from lamina.errors import ImageError
from lamina.oci.image import Image
from lamina.oci.layer import Layer

_MAX_LINKS = 40
_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"
_PIPE_BYTES = 1 << 20


class FileTree(Protocol):
    """Read access to an image's files by absolute in-image path."""

    def read(self, path: str) -> bytes | None:
        """A regular file's bytes, following symlinks inside the tree; None if absent."""
        ...

    def readlink(self, path: str) -> str | None:
        """A symlink's target, or None if ``path`` is not a symlink."""
        ...

    def listdir(self, path: str) -> list[str] | None:
        """Sorted names in a directory, or None if ``path`` is not a directory."""
        ...


@dataclass(frozen=True)
class _Member:
    layer: int
    info: tarfile.TarInfo


def _clean(path: str) -> str:
    """A member name as an absolute in-image path: ``./a``, ``a`` and ``/a`` are ``/a``; ``..``
    cannot climb above the root. Leading dots of names (``.wh.x``, ``.bashrc``) are kept."""
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


class LayeredTree:
    """``FileTree`` over the layers of an image."""

    def __init__(self, layers: tuple[Layer, ...]) -> None:
        self._layers = layers
        self._members: dict[str, _Member] = {}
        self._children: dict[str, set[str]] = {"/": set()}
        for position, layer in enumerate(layers):
            self._apply(position, layer)

    @classmethod
    def from_image(cls, image: Image) -> LayeredTree:
        """The merged filesystem of ``image``."""
        return cls(tuple(image.layers))

    def add(self, layer: Layer) -> None:
        """Put ``layer`` on top of the tree (as the image with that layer appended would have it)."""
        self._layers = (*self._layers, layer)
        self._apply(len(self._layers) - 1, layer)

    def _remove(self, path: str) -> None:
        """Forget ``path`` and everything below it (iteratively: trees may be thousands deep)."""
        self._children.get(posixpath.dirname(path), set()).discard(posixpath.basename(path))
        stack = [path]
        while stack:
            current = stack.pop()
            stack.extend(posixpath.join(current, child) for child in self._children.pop(current, ()))
            self._members.pop(current, None)

    def _holds_layer(self, path: str, position: int) -> bool:
        """Whether layer ``position`` put ``path`` or anything below it in the tree."""
        stack = [path]
        while stack:
            current = stack.pop()
            member = self._members.get(current)
            if member is not None and member.layer == position:
                return True
            stack.extend(posixpath.join(current, child) for child in self._children.get(current, ()))
        return False

    def _add(self, path: str, member: _Member | None) -> None:
        """Record ``path`` (and any missing parent directories) without recursion."""
        child = path
        parent = posixpath.dirname(child)
        while child != "/":
            known = parent in self._children
            self._children.setdefault(parent, set()).add(posixpath.basename(child))
            if known:
                break
            child, parent = parent, posixpath.dirname(parent)
        if member is not None:
            self._members[path] = member
        if member is None or member.info.isdir():
            self._children.setdefault(path, set())

    def _apply(self, position: int, layer: Layer) -> None:
        try:
            with layer.open() as handle, tarfile.open(fileobj=handle, mode="r|*") as archive:
                for info in archive:
                    path = _clean(info.name)
                    directory, name = posixpath.split(path)
                    if name == _OPAQUE:  # hides what lower layers put in the directory, not this layer's entries
                        for child in list(self._children.get(directory, ())):
                            if not self._holds_layer(posixpath.join(directory, child), position):
                                self._remove(posixpath.join(directory, child))
                    elif name.startswith(_WHITEOUT):
                        self._remove(posixpath.join(directory, name[len(_WHITEOUT) :]))
                    elif path != "/":
                        if path in self._members and not (info.isdir() and self._members[path].info.isdir()):
                            self._remove(path)
                        self._add(path, _Member(position, info))
        except (tarfile.TarError, OSError, EOFError) as err:
            raise ImageError(f"cannot read layer {layer.digest}: {err}") from err

    def _link(self, path: str) -> str | None:
        member = self._members.get(path)
        return member.info.linkname if member is not None and member.info.issym() else None

    def readlink(self, path: str) -> str | None:
        """A symlink's target, or None."""
        resolved = _resolve(path, self._link, follow_last=False)
        return self._link(resolved) if resolved else None

    def resolve(self, path: str, *, follow_last: bool = True) -> str | None:
        """``path`` with its symlinks resolved inside the tree (None for a loop)."""
        return _resolve(path, self._link, follow_last=follow_last)

    def member(self, path: str) -> tarfile.TarInfo | None:
        """The tar header of what ``path`` (resolved, the last link not followed) names, or None."""
        resolved = _resolve(path, self._link, follow_last=False)
        found = self._members.get(resolved) if resolved else None
        return found.info if found is not None else None

    def listdir(self, path: str) -> list[str] | None:
        """Sorted names in a directory, or None."""
        resolved = _resolve(path, self._link)
        if resolved is None or resolved not in self._children:
            return None
        return sorted(self._children[resolved])

    def read(self, path: str) -> bytes | None:
        """A regular file's bytes (hard links followed), or None."""
        resolved = _resolve(path, self._link)
        member = self._members.get(resolved) if resolved else None
        if member is not None and member.info.islnk():
            member = self._members.get(_clean(member.info.linkname))
        if member is None or not member.info.isfile():
            return None
        with self._layers[member.layer].open() as handle, tarfile.open(fileobj=handle, mode="r:*") as archive:
            extracted = archive.extractfile(member.info)
            return extracted.read() if extracted is not None else None


def _resolve(path: str, link: Callable[[str], str | None], follow_last: bool = True) -> str | None:
    """``path`` with every symlink (``link(path)`` gives its target) resolved inside the
    tree, or None after too many hops."""
    parts = [p for p in _clean(path).split("/") if p]
    resolved = "/"
    hops = 0
    while parts:
        name = parts.pop(0)
        candidate = posixpath.join(resolved, name)
        target = link(candidate) if (parts or follow_last) else None
        if target is not None:
            hops += 1
            if hops > _MAX_LINKS:
                return None
            base = "/" if target.startswith("/") else resolved
            parts = [p for p in posixpath.normpath(posixpath.join(base, target)).split("/") if p] + parts
            resolved = "/"
        else:
            resolved = candidate
    return resolved


class DirectoryTree:
    """``FileTree`` over an image already unpacked into ``root`` (a sandbox tree); its
    symlinks resolve inside ``root``, as in the image."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _host(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def _link(self, path: str) -> str | None:
        host = self._host(path)
        return os.readlink(host) if os.path.islink(host) else None

    def readlink(self, path: str) -> str | None:
        """A symlink's target, or None."""
        resolved = _resolve(path, self._link, follow_last=False)
        return self._link(resolved) if resolved else None

    def listdir(self, path: str) -> list[str] | None:
        """Sorted names in a directory, or None."""
        resolved = _resolve(path, self._link)
        host = self._host(resolved) if resolved else None
        return sorted(os.listdir(host)) if host and os.path.isdir(host) and not os.path.islink(host) else None

    def read(self, path: str) -> bytes | None:
        """A regular file's bytes, or None."""
        resolved = _resolve(path, self._link)
        host = self._host(resolved) if resolved else None
        if host is None or os.path.islink(host) or not os.path.isfile(host):
            return None
        with open(host, "rb") as handle:
            return handle.read()


def extract(image: Image, destination: Path) -> None:
    """Write an image's merged filesystem into the empty directory ``destination``: layers in
    order, whiteouts and opaque markers applied, device nodes skipped. Python's ``tar``
    extraction filter refuses members that would land outside ``destination`` (absolute
    paths, ``..``, paths through a symlink that leaves it)."""
    for layer in image.layers:
        with layer.open() as handle:
            extract_layer(handle, destination, layer.digest)


def extract_layer(stream: BinaryIO, destination: Path, name: str) -> None:
    """Apply one layer, read as a (compressed or plain) tar stream, on ``destination`` as
    ``extract`` does; ``name`` (its digest) is for the error."""
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as archive:
            for info in archive:
                path = _clean(info.name)
                directory, base = posixpath.split(path)
                if path == "/" or info.ischr() or info.isblk() or info.isfifo():
                    continue
                target = destination / path.lstrip("/")
                if base == _OPAQUE:
                    parent = destination / directory.lstrip("/")
                    for child in parent.iterdir() if parent.is_dir() else ():
                        _delete(child)
                elif base.startswith(_WHITEOUT):
                    _delete(target.with_name(base[len(_WHITEOUT) :]))
                else:
                    if target.is_symlink() or (target.exists() and not (info.isdir() and target.is_dir())):
                        _delete(target)
                    info.name = path.lstrip("/")
                    archive.extract(info, destination, filter="tar", set_attrs=not info.issym())
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ImageError(f"cannot unpack layer {name}: {err}") from err


@contextmanager
def extracting(destination: Path, name: str) -> Iterator[BinaryIO]:
    """A stream to write one uncompressed layer tar into: another thread applies it on
    ``destination`` (as ``extract_layer``) while it is written, so a layer is unpacked as it
    is made rather than decompressed again afterwards. Its error, if any, is raised here."""
    read_end, write_end = os.pipe()
    with suppress(OSError):  # a bigger pipe means fewer switches between the two threads
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    reader, writer = os.fdopen(read_end, "rb"), os.fdopen(write_end, "wb", buffering=_PIPE_BYTES)
    errors: list[BaseException] = []

    def apply() -> None:
        try:
            extract_layer(reader, destination, name)
            while reader.read(_PIPE_BYTES):  # the tar's trailing padding
                pass
        except BaseException as err:  # noqa: BLE001 - raised in the writer's thread below
            errors.append(err)
        finally:
            reader.close()  # a writer still writing gets BrokenPipeError, then this error

    thread = threading.Thread(target=apply, name="lamina-extract", daemon=True)
    thread.start()
    try:
        yield writer
        writer.close()
    except BrokenPipeError:
        if not errors:
            raise
    finally:
        with suppress(OSError):
            writer.close()
        thread.join()
    if errors:
        raise errors[0]


def _delete(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
