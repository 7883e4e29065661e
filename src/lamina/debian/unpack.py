"""A .deb's data archive as layer entries. Nothing of the package is run: maintainer
scripts are never read, and what they would have made comes from ``rootfs``.

Documentation is left out, as distroless does, except each package's ``copyright``
(the licence a shipped image must carry); manual pages and info files go too.
"""

from __future__ import annotations

import lzma
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from debian.arfile import ArError
from debian.debfile import DebError, DebFile

from lamina.errors import ImageError
from lamina.tar.entries import DIRECTORY, FILE, SYMLINK, TarEntry

_DROPPED_TREES = ("usr/share/man/", "usr/share/info/", "usr/share/lintian/", "usr/share/doc-base/", "usr/share/bug/")


@dataclass(frozen=True)
class UnpackedDeb:
    """A package's control paragraph (for the package database) and its files."""

    name: str
    control: str
    entries: tuple[TarEntry, ...]


def _kept(path: str) -> bool:
    if path.startswith(_DROPPED_TREES):
        return False
    if path.startswith("usr/share/doc/"):
        parts = path.split("/")
        return len(parts) == 4 or (len(parts) == 5 and parts[4] == "copyright")
    return True


def _entry(member: tarfile.TarInfo, path: str, archive: tarfile.TarFile) -> TarEntry | None:
    mode, owner = member.mode & 0o7777, {"uid": member.uid, "gid": member.gid}
    if member.isdir():
        return TarEntry(path, DIRECTORY, mode, **owner)
    if member.isreg():
        return TarEntry(path, FILE, mode, data=archive.extractfile(member).read(), **owner)  # type: ignore[union-attr]
    if member.issym():
        return TarEntry(path, SYMLINK, 0o777, linkname=member.linkname, **owner)
    if member.islnk():
        return TarEntry.hardlink(path, member.linkname, mode)
    return None  # devices and fifos: no Debian runtime package needs one in an image


def unpack(path: Path, name: str) -> UnpackedDeb:
    """The control paragraph and kept data entries of the .deb at ``path`` (package ``name``)."""
    unreadable = (ArError, DebError, OSError, ValueError, EOFError, tarfile.TarError, lzma.LZMAError, zlib.error)
    try:
        with open(path, "rb") as handle:
            deb = DebFile(fileobj=handle)
            control = deb.debcontrol()
            archive = deb.data.tgz()
            entries = []
            for member in archive:  # one pass: getmembers() first would decompress everything twice
                member_path = member.name.removeprefix("./").rstrip("/")
                if not member_path or member_path == "." or not _kept(member_path + ("/" if member.isdir() else "")):
                    continue
                entry = _entry(member, member_path, archive)
                if entry is not None:
                    entries.append(entry)
    except unreadable as err:
        raise ImageError(f"{name}: {path.name} is not a readable .deb ({err})") from err
    return UnpackedDeb(name, control.dump(), tuple(entries))
