"""``/etc/ld.so.cache`` for a base image, made without running ``ldconfig``.

The dynamic loader (and ``ldconfig -p``, which ``ctypes.util.find_library`` runs) reads
this file to find a library by its soname. It is glibc's "new" format (1.1), without
the old libc5 part and without extensions, both optional: a 48-byte header, one 24-byte
entry per library (flags, soname offset, path offset), then the strings. Entries must
be sorted in descending ``_dl_cache_libcmp`` order, which ld.so's binary search assumes.
"""

from __future__ import annotations

import functools
import io
import posixpath
import struct
from collections.abc import Sequence

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from lamina.tar.entries import FILE, SYMLINK, TarEntry

PATH = "etc/ld.so.cache"
_HEADER = struct.Struct("<17s3sIIB3xI12x")
_ENTRY = struct.Struct("<iIIIQ")
_LITTLE_ENDIAN = 2
_LIBC6 = 0x0003
# Debian architecture -> (multiarch triplet, the flags ld.so accepts on it: FLAG_ELF_LIBC6 | the ABI's flag).
ARCHITECTURES = {
    "amd64": ("x86_64-linux-gnu", _LIBC6 | 0x0300),
    "arm64": ("aarch64-linux-gnu", _LIBC6 | 0x0A00),
    "i386": ("i386-linux-gnu", _LIBC6),
    "armhf": ("arm-linux-gnueabihf", _LIBC6 | 0x0900),
    "ppc64el": ("powerpc64le-linux-gnu", _LIBC6 | 0x0500),
    "s390x": ("s390x-linux-gnu", _LIBC6 | 0x0400),
}


def libcmp(a: bytes, b: bytes) -> int:
    """glibc's ``_dl_cache_libcmp``: byte order, except that digit runs compare as numbers
    and sort after any other character."""
    a, b, i, j = a + b"\0", b + b"\0", 0, 0
    while a[i]:
        if 48 <= a[i] <= 57:
            if not 48 <= b[j] <= 57:
                return 1
            start = i
            while 48 <= a[i] <= 57:
                i += 1
            first, start = int(a[start:i]), j
            while 48 <= b[j] <= 57:
                j += 1
            second = int(b[start:j])
            if first != second:
                return first - second
        elif 48 <= b[j] <= 57:
            return -1
        elif a[i] != b[j]:
            return a[i] - b[j]
        else:
            i, j = i + 1, j + 1
    return a[i] - b[j]


def encode(entries: Sequence[tuple[str, str, int]]) -> bytes:
    """The cache file for ``(soname, path, flags)`` entries."""
    items = [(soname.encode(), path.encode(), flags) for soname, path, flags in entries]
    items.sort(key=functools.cmp_to_key(lambda x, y: libcmp(y[0], x[0]) or y[2] - x[2]))
    strings_at = _HEADER.size + _ENTRY.size * len(items)
    strings, offsets = bytearray(), {}

    def offset(value: bytes) -> int:
        if value not in offsets:
            offsets[value] = strings_at + len(strings)
            strings.extend(value + b"\0")
        return offsets[value]

    body = b"".join(_ENTRY.pack(flags, offset(soname), offset(path), 0, 0) for soname, path, flags in items)
    header = _HEADER.pack(b"glibc-ld.so.cache", b"1.1", len(items), len(strings), _LITTLE_ENDIAN, 0)
    return header + body + bytes(strings)


def _soname(data: bytes) -> str | None:
    try:
        elf = ELFFile(io.BytesIO(data))
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                for tag in section.iter_tags("DT_SONAME"):
                    return str(tag.soname)
    except (ELFError, ValueError, KeyError, EOFError, AttributeError):
        return None
    return None


def _conf_dirs(files: dict[str, TarEntry]) -> list[str]:
    """Directories named by ``/etc/ld.so.conf.d/*.conf`` (what Debian's ld.so.conf includes)."""
    dirs = []
    for path in sorted(p for p in files if p.startswith("etc/ld.so.conf.d/") and p.endswith(".conf")):
        for raw in files[path].read().decode("utf-8", "replace").splitlines():
            line = raw.split("#", 1)[0].strip()
            if line.startswith("/"):
                dirs.append(posixpath.normpath(line).lstrip("/"))
    return dirs


def ld_so_cache(entries: Sequence[TarEntry], architecture: str) -> bytes | None:
    """The cache for the shared libraries among ``entries`` (a base image's files), or None
    for an architecture whose cache flags lamina does not know."""
    if architecture not in ARCHITECTURES:
        return None
    triplet, flags = ARCHITECTURES[architecture]
    files = {e.path: e for e in entries if e.kind in (FILE, SYMLINK)}
    dirs = dict.fromkeys([*_conf_dirs(files), f"lib/{triplet}", f"usr/lib/{triplet}", "lib", "usr/lib"])
    found: dict[str, str] = {}
    for directory in dirs:
        for path in sorted(p for p in files if posixpath.dirname(p) == directory):
            entry, name = files[path], posixpath.basename(path)
            if entry.kind != FILE or not name.startswith("lib") or ".so" not in name:
                continue
            soname = _soname(entry.read())
            if soname and soname not in found:
                linked = posixpath.join(directory, soname)
                found[soname] = "/" + (linked if linked in files else path)
    return encode([(soname, path, flags) for soname, path in found.items()])
