"""What maintainer scripts and an installer would have made, made here as layer entries:
users and groups, the CA bundle, ``/tmp``, a home for the nonroot user, the loader's
``/etc/ld.so.cache``, the compilers' ``update-alternatives`` links (``cc``, ``c++``: a
builder's toolchain), and the package database that image scanners read
(``/var/lib/dpkg/status.d/<package>`` and its ``.md5sums`` file list, as distroless
writes them)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lamina.tar.entries import DIRECTORY, FILE, TarEntry

if TYPE_CHECKING:
    from lamina.debian.unpack import UnpackedDeb

NONROOT_UID = 65532
NONROOT_HOME = "/home/nonroot"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
_CA_DIR = "usr/share/ca-certificates/"

# name -> what gcc's and g++'s maintainer scripts register it for (update-alternatives --install)
ALTERNATIVES = {"cc": "/usr/bin/gcc", "c++": "/usr/bin/g++", "c89": "/usr/bin/c89-gcc", "c99": "/usr/bin/c99-gcc"}

PASSWD = f"""root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:{NONROOT_UID}:{NONROOT_UID}:nonroot:{NONROOT_HOME}:/sbin/nologin
"""
GROUP = f"""root:x:0:
nobody:x:65534:
nonroot:x:{NONROOT_UID}:
"""


def ca_bundle(debs: Sequence[UnpackedDeb]) -> bytes | None:
    """Every certificate ca-certificates ships, in the order update-ca-certificates uses
    (sorted paths), or None when no package ships certificates."""
    certificates = sorted(
        (entry.path, entry.read())
        for deb in debs
        for entry in deb.entries
        if entry.kind == FILE and entry.path.startswith(_CA_DIR) and entry.path.endswith(".crt")
    )
    if not certificates:
        return None
    return b"".join(data if data.endswith(b"\n") else data + b"\n" for _, data in certificates)


def synthesized(debs: Sequence[UnpackedDeb], files: Sequence[TarEntry], architecture: str) -> list[TarEntry]:
    """The entries of lamina's own layer for an image of ``debs`` (whose merged entries are ``files``)."""
    entries = [
        TarEntry.file("etc/passwd", PASSWD.encode()),
        TarEntry.file("etc/group", GROUP.encode()),
        TarEntry("tmp", DIRECTORY, 0o1777),
        TarEntry("root", DIRECTORY, 0o700),
        TarEntry("home", DIRECTORY, 0o755),
        TarEntry(NONROOT_HOME, DIRECTORY, 0o700, uid=NONROOT_UID, gid=NONROOT_UID),
        TarEntry.dir("var/lib/dpkg/status.d"),
    ]
    for deb in debs:
        entries.append(TarEntry.file(f"var/lib/dpkg/status.d/{deb.name}", deb.control.encode()))
        entries.append(TarEntry.file(f"var/lib/dpkg/status.d/{deb.name}.md5sums", md5sums(deb)))
    bundle = ca_bundle(debs)
    if bundle is not None:
        entries.append(TarEntry.file(CA_BUNDLE, bundle))
    from lamina.debian.ldcache import PATH as LD_SO_CACHE  # reads ELF files: only on a cache miss
    from lamina.debian.ldcache import ld_so_cache

    cache = ld_so_cache(files, architecture)
    if cache is not None:
        entries.append(TarEntry.file(LD_SO_CACHE, cache))
    return entries + alternatives({entry.path for entry in files})


def md5sums(deb: UnpackedDeb) -> bytes:
    """The package's file list as dpkg's ``md5sums`` has it (``MD5  path`` per regular file):
    which package owns a file, for image scanners and for lamina's own library advice."""
    return "".join(
        f"{hashlib.md5(entry.read(), usedforsecurity=False).hexdigest()}  {entry.path}\n"
        for entry in deb.entries
        if entry.kind == FILE
    ).encode()


def alternatives(paths: set[str]) -> list[TarEntry]:
    """``/usr/bin/NAME -> /etc/alternatives/NAME -> TOOL`` for each compiler the image has."""
    entries = []
    for name, tool in sorted(ALTERNATIVES.items()):
        if tool.lstrip("/") in paths:
            if not entries:
                entries.append(TarEntry.dir("etc/alternatives"))
            entries.append(TarEntry.symlink(f"etc/alternatives/{name}", tool))
            entries.append(TarEntry.symlink(f"usr/bin/{name}", f"/etc/alternatives/{name}"))
    return entries
