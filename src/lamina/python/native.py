"""Native code in a layer, and whether the image has the shared libraries it needs,
decided from ELF headers and file names alone: nothing is run.

For every ELF file a layer adds, each ``DT_NEEDED`` library is looked up the way the
dynamic loader would: the file's ``RPATH`` (``$ORIGIN`` expanded) unless it has a
``RUNPATH``, the image's ``LD_LIBRARY_PATH``, its ``RUNPATH``, then the base image's
library directories (``/etc/ld.so.conf`` and the system directories). A library found
nowhere is reported with the file that needs it, before the image is written, instead
of an ``ImportError`` in production.
"""

from __future__ import annotations

import fnmatch
import io
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lamina.oci.rootfs import FileTree
from lamina.tar.entries import FILE, SYMLINK, TarEntry

ELF_MAGIC = b"\x7fELF"
# Debian's multiarch triplets, by the machine names of platform tags.
TRIPLETS = {
    "x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu", "i686": "i386-linux-gnu",
    "armv7l": "arm-linux-gnueabihf", "ppc64le": "powerpc64le-linux-gnu", "s390x": "s390x-linux-gnu",
    "riscv64": "riscv64-linux-gnu",
}  # fmt: skip
_MAX_INCLUDES = 64


@dataclass(frozen=True)
class NativeFile:
    """An ELF file of a layer: who ships it, what it needs, and where it asks the loader to look."""

    path: str  # in-image, absolute
    owner: str
    needed: tuple[str, ...]
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """For an action-cache entry."""
        return {"path": self.path, "owner": self.owner, "needed": list(self.needed),
                "rpath": list(self.rpath), "runpath": list(self.runpath)}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NativeFile:
        """The inverse of ``to_json``."""
        return cls(data["path"], data["owner"], tuple(data["needed"]), tuple(data["rpath"]), tuple(data["runpath"]))


SHAPE = {"path": str, "owner": str, "needed": [str], "rpath": [str], "runpath": [str]}


def _search_dirs(value: str, origin: str) -> tuple[str, ...]:
    dirs = []
    for part in value.split(":"):
        part = part.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
        if part:
            dirs.append(posixpath.normpath(part if part.startswith("/") else posixpath.join(origin, part)))
    return tuple(dirs)


def native_file(path: str, owner: str, data: io.BufferedIOBase) -> NativeFile | None:
    """What ``data`` (an ELF file at in-image ``path``) needs, or None when it is not a
    dynamically linked ELF file (or cannot be read as one)."""
    from elftools.common.exceptions import ELFError  # only when a layer is built
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(data)
        sections = [s for s in elf.iter_sections() if isinstance(s, DynamicSection)]
        tags = [(tag.entry.d_tag, tag) for section in sections for tag in section.iter_tags()]
    except (ELFError, ValueError, KeyError, EOFError, AttributeError):
        return None
    origin = posixpath.dirname("/" + path.lstrip("/"))
    needed = tuple(str(tag.needed) for kind, tag in tags if kind == "DT_NEEDED")
    if not needed:
        return None
    rpath = tuple(d for kind, tag in tags if kind == "DT_RPATH" for d in _search_dirs(str(tag.rpath), origin))
    runpath = tuple(d for kind, tag in tags if kind == "DT_RUNPATH" for d in _search_dirs(str(tag.runpath), origin))
    return NativeFile("/" + path.lstrip("/"), owner, needed, rpath, runpath)


def native_files(entries: Iterable[TarEntry], owners: Mapping[str, str], default_owner: str) -> list[NativeFile]:
    """The dynamically linked ELF files among a layer's entries."""
    found = []
    for entry in entries:
        if entry.kind != FILE or entry.size() < 64:
            continue
        if entry.data is not None:
            if not entry.data.startswith(ELF_MAGIC):
                continue
            native = native_file(entry.path, owners.get(entry.path, default_owner), io.BytesIO(entry.data))
        else:
            with open(entry.source, "rb") as handle:  # type: ignore[arg-type]
                if handle.read(4) != ELF_MAGIC:
                    continue
                handle.seek(0)
                native = native_file(entry.path, owners.get(entry.path, default_owner), handle)
        if native is not None:
            found.append(native)
    return sorted(found, key=lambda f: f.path)


@dataclass(frozen=True)
class LayerNatives:
    """A layer's native code (its dynamically linked ELF files) and the libraries it ships."""

    files: tuple[NativeFile, ...] = ()
    libraries: tuple[str, ...] = ()  # in-image paths of files and links named like a shared library

    def to_json(self) -> dict[str, Any]:
        """For an action-cache entry."""
        return {"native": [f.to_json() for f in self.files], "libraries": list(self.libraries)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LayerNatives:
        """The inverse of ``to_json``."""
        return cls(tuple(NativeFile.from_json(f) for f in data["native"]), tuple(data["libraries"]))

    @classmethod
    def of(cls, entries: Sequence[TarEntry], owners: Mapping[str, str], default_owner: str) -> LayerNatives:
        """What ``entries`` hold of native code."""
        libraries = sorted(
            "/" + e.path for e in entries if e.kind in (FILE, SYMLINK) and ".so" in posixpath.basename(e.path)
        )
        return cls(tuple(native_files(entries, owners, default_owner)), tuple(libraries))


NATIVES_SHAPE = {"native": [SHAPE], "libraries": [str]}


# -- the base image's libraries -------------------------------------------------------------------


@dataclass(frozen=True)
class BaseLibraries:
    """Where the base image's loader looks by default, and the files in those directories."""

    dirs: tuple[str, ...]
    files: frozenset[str]

    def to_json(self) -> dict[str, Any]:
        """For an action-cache entry."""
        return {"dirs": list(self.dirs), "files": sorted(self.files)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BaseLibraries:
        """The inverse of ``to_json``."""
        return cls(tuple(data["dirs"]), frozenset(data["files"]))


BASE_SHAPE = {"dirs": [str], "files": [str]}


def _conf_dirs(tree: FileTree, path: str, depth: int = 0) -> list[str]:
    """Directories an ``ld.so.conf`` file names, following ``include`` lines (bounded)."""
    data = tree.read(path)
    if data is None or depth > 4:
        return []
    dirs: list[str] = []
    for raw in data.decode("utf-8", "replace").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("include "):
            pattern = line.split(None, 1)[1].strip()
            pattern = pattern if pattern.startswith("/") else posixpath.join(posixpath.dirname(path), pattern)
            directory, name = posixpath.split(pattern)
            matches = [n for n in tree.listdir(directory) or [] if fnmatch.fnmatch(n, name)]
            for match in sorted(matches)[:_MAX_INCLUDES]:
                dirs += _conf_dirs(tree, posixpath.join(directory, match), depth + 1)
        elif line.startswith("/"):
            dirs.append(posixpath.normpath(line))
    return dirs


def library_dirs(tree: FileTree, machine: str, libc: str) -> tuple[str, ...]:
    """The directories the base's dynamic loader searches after RPATH/RUNPATH, in order."""
    if libc == "musl":
        configured = tree.read(f"/etc/ld-musl-{machine}.path")
        if configured is not None:
            text = configured.decode("utf-8", "replace").replace("\n", ":")
            return tuple(dict.fromkeys(posixpath.normpath(d) for d in text.split(":") if d.startswith("/")))
        return ("/lib", "/usr/local/lib", "/usr/lib")
    triplet = TRIPLETS.get(machine)
    system = [f"/lib/{triplet}", f"/usr/lib/{triplet}"] if triplet else []
    system += ["/lib64", "/usr/lib64"] if machine in ("x86_64", "aarch64", "ppc64le", "s390x", "riscv64") else []
    return tuple(dict.fromkeys([*_conf_dirs(tree, "/etc/ld.so.conf"), *system, "/lib", "/usr/lib"]))


def base_libraries(tree: FileTree, machine: str, libc: str) -> BaseLibraries:
    """The base's library directories and what is in them."""
    dirs = library_dirs(tree, machine, libc)
    files = {posixpath.join(d, name) for d in dirs for name in tree.listdir(d) or [] if ".so" in name}
    return BaseLibraries(dirs, frozenset(files))


# -- the check -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingLibrary:
    """A library a file needs that the image does not have."""

    file: NativeFile
    soname: str
    searched: tuple[str, ...]


def missing_libraries(
    files: Sequence[NativeFile], layer: Iterable[str], base: BaseLibraries, library_path: Sequence[str] = ()
) -> list[MissingLibrary]:
    """Every needed library of ``files`` that neither the layers (``layer``: in-image paths)
    nor the base provides where the loader would look."""
    present = set(layer) | base.files
    missing = []
    for file in files:
        for soname in file.needed:
            if "/" in soname:
                if posixpath.normpath(posixpath.join(posixpath.dirname(file.path), soname)) not in present:
                    missing.append(MissingLibrary(file, soname, ()))
                continue
            dirs = (() if file.runpath else file.rpath) + tuple(library_path) + file.runpath + base.dirs
            if not any(posixpath.join(d, soname) in present for d in dirs):
                missing.append(MissingLibrary(file, soname, tuple(dict.fromkeys(dirs))))
    return missing
