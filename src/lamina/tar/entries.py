"""One file, directory, symlink or hard link of a layer, independent of where its bytes come from."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import ImageError

FILE, DIRECTORY, SYMLINK, HARDLINK = "file", "dir", "symlink", "hardlink"


def normalize_path(path: str) -> str:
    """The in-image path without a leading slash; refuses paths that escape the root."""
    parts = path.replace("\\", "/").split("/")
    if ".." in parts:
        raise ImageError(f"refusing layer entry {path!r}: it escapes the image root")
    normalized = posixpath.normpath("/" + path).lstrip("/")
    if not normalized or normalized == ".":
        raise ImageError(f"refusing layer entry {path!r}: it names the image root")
    return normalized


@dataclass(frozen=True)
class TarEntry:
    """A layer member. Files carry ``data`` in memory or a ``source`` path to stream from.

    Owners are numeric and default to root; only packaged files that a distribution ships
    with another owner (and lamina's own home of the nonroot user) set them.
    """

    path: str
    kind: str
    mode: int
    data: bytes | None = None
    source: Path | None = None
    linkname: str = ""
    uid: int = 0
    gid: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", normalize_path(self.path))
        if self.kind == HARDLINK:
            object.__setattr__(self, "linkname", normalize_path(self.linkname))

    @classmethod
    def file(cls, path: str, data: bytes, *, executable: bool = False) -> TarEntry:
        """A regular file with in-memory content."""
        return cls(path, FILE, 0o755 if executable else 0o644, data=data)

    @classmethod
    def from_path(cls, path: str, source: Path, *, executable: bool = False) -> TarEntry:
        """A regular file whose content is read from ``source`` when the layer is written."""
        return cls(path, FILE, 0o755 if executable else 0o644, source=Path(source))

    @classmethod
    def dir(cls, path: str) -> TarEntry:
        """A directory (0755)."""
        return cls(path, DIRECTORY, 0o755)

    @classmethod
    def symlink(cls, path: str, target: str) -> TarEntry:
        """A symbolic link to ``target`` (absolute targets resolve inside the image)."""
        return cls(path, SYMLINK, 0o777, linkname=target)

    @classmethod
    def hardlink(cls, path: str, target: str, mode: int) -> TarEntry:
        """A hard link to the earlier entry ``target`` (an in-image path)."""
        return cls(path, HARDLINK, mode, linkname=target)

    def size(self) -> int:
        """Byte size of a file's content (0 for directories and links)."""
        if self.kind != FILE:
            return 0
        return len(self.data) if self.data is not None else self.source.stat().st_size  # type: ignore[union-attr]

    def read(self) -> bytes:
        """A file's content."""
        return self.data if self.data is not None else self.source.read_bytes()  # type: ignore[union-attr]
