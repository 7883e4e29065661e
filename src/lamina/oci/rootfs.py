"""A read-only merged view of an image's filesystem, for inspecting a base without running it.

Layers are applied bottom to top with OCI whiteouts (``.wh.NAME`` deletes, ``.wh..wh..opq``
empties a directory). Only member headers are indexed up front; file bytes are read
when asked for.
"""

from __future__ import annotations

import posixpath
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lamina.errors import ImageError
from lamina.oci.image import Image
from lamina.oci.layer import Layer

_MAX_LINKS = 40
_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"


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

    def _resolve(self, path: str, follow_last: bool = True) -> str | None:
        """The path with every symlink resolved, or None if it leaves the known tree."""
        parts = [p for p in _clean(path).split("/") if p]
        resolved = "/"
        hops = 0
        while parts:
            name = parts.pop(0)
            candidate = posixpath.join(resolved, name)
            member = self._members.get(candidate)
            if member is not None and member.info.issym() and (parts or follow_last):
                hops += 1
                if hops > _MAX_LINKS:
                    return None
                target = member.info.linkname
                base = "/" if target.startswith("/") else resolved
                parts = [p for p in posixpath.normpath(posixpath.join(base, target)).split("/") if p] + parts
                resolved = "/"
            else:
                resolved = candidate
        return resolved

    def readlink(self, path: str) -> str | None:
        """A symlink's target, or None."""
        resolved = self._resolve(path, follow_last=False)
        member = self._members.get(resolved) if resolved else None
        return member.info.linkname if member is not None and member.info.issym() else None

    def listdir(self, path: str) -> list[str] | None:
        """Sorted names in a directory, or None."""
        resolved = self._resolve(path)
        if resolved is None or resolved not in self._children:
            return None
        return sorted(self._children[resolved])

    def read(self, path: str) -> bytes | None:
        """A regular file's bytes (hard links followed), or None."""
        resolved = self._resolve(path)
        member = self._members.get(resolved) if resolved else None
        if member is not None and member.info.islnk():
            member = self._members.get(_clean(member.info.linkname))
        if member is None or not member.info.isfile():
            return None
        with self._layers[member.layer].open() as handle, tarfile.open(fileobj=handle, mode="r:*") as archive:
            extracted = archive.extractfile(member.info)
            return extracted.read() if extracted is not None else None


def extract(image: Image, destination: Path) -> None:
    """Write an image's merged filesystem into the empty directory ``destination``: layers in
    order, whiteouts and opaque markers applied, device nodes skipped. Python's ``tar``
    extraction filter refuses members that would land outside ``destination`` (absolute
    paths, ``..``, paths through a symlink that leaves it)."""
    for layer in image.layers:
        try:
            with layer.open() as handle, tarfile.open(fileobj=handle, mode="r|*") as archive:
                for info in archive:
                    path = _clean(info.name)
                    directory, name = posixpath.split(path)
                    if path == "/" or info.ischr() or info.isblk() or info.isfifo():
                        continue
                    target = destination / path.lstrip("/")
                    if name == _OPAQUE:
                        parent = destination / directory.lstrip("/")
                        for child in parent.iterdir() if parent.is_dir() else ():
                            _delete(child)
                    elif name.startswith(_WHITEOUT):
                        _delete(target.with_name(name[len(_WHITEOUT) :]))
                    else:
                        if target.is_symlink() or (target.exists() and not (info.isdir() and target.is_dir())):
                            _delete(target)
                        info.name = path.lstrip("/")
                        archive.extract(info, destination, filter="tar", set_attrs=not info.issym())
        except (tarfile.TarError, OSError, EOFError) as err:
            raise ImageError(f"cannot unpack layer {layer.digest}: {err}") from err


def _delete(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
