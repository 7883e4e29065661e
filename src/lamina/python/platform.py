"""The platform a base image runs Python on, read from its files without running anything.

What a wheel needs to match is the interpreter (CPython X.Y), the machine and the C
library (glibc version for ``manylinux``, musl version for ``musllinux``). All of it is
in the image: the interpreter's name and stdlib directory, its ELF header, the C
library's symbol versions. The full ``X.Y.Z`` version comes from the Debian package
database or the version string compiled into the interpreter; when neither says, only
``X.Y`` is known and markers see ``X.Y.0``.
"""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import Parser
from typing import TYPE_CHECKING, Any

from packaging.tags import Tag, compatible_tags, cpython_tags

from lamina.errors import ImageError
from lamina.oci.rootfs import FileTree

if TYPE_CHECKING:  # pyelftools is read only when a base is probed, never on a cache hit
    from elftools.elf.elffile import ELFFile

_BIN_DIRS = ("/usr/local/bin", "/usr/bin")
_LIB_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64")
_VERSIONED_PYTHON = re.compile(r"python3\.(\d+)")
_MAX_LINKS = 40
_GLIBC_VERSION_NAME = re.compile(r"GLIBC_2\.(\d+)(?:\.\d+)?")
_GLIBC_BANNER = re.compile(rb"GNU C Library [^\n\x00]* version (\d+)\.(\d+)")
_MUSL_VERSION = re.compile(rb"\x00(1\.\d+)\.\d+\x00")
_DEFAULT_MUSL = (1, 2)

# ELF e_machine -> the machine name that platform tags and ``platform_machine`` use.
_MACHINES = {
    "EM_X86_64": "x86_64",
    "EM_AARCH64": "aarch64",
    "EM_386": "i686",
    "EM_ARM": "armv7l",
    "EM_S390": "s390x",
    "EM_RISCV": "riscv64",
}
# Legacy manylinux names of glibc versions (PEP 513, 571, 599), and the machines they cover.
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
_LEGACY_MACHINES = {
    "manylinux2014": {"x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"},
    "manylinux2010": {"x86_64", "i686"},
    "manylinux1": {"x86_64", "i686"},
}


@dataclass(frozen=True)
class TargetPlatform:
    """The CPython a base image runs: everything wheel selection and markers depend on."""

    python_version: str
    interpreter: str
    machine: str
    libc: str
    libc_version: tuple[int, int]
    stdlib_dir: str

    @property
    def python_xy(self) -> tuple[int, int]:
        """(major, minor) of the interpreter."""
        major, minor = self.python_version.split(".")[:2]
        return int(major), int(minor)

    def platform_tags(self) -> list[str]:
        """Platform tags this machine and C library accept, newest C library first;
        ``linux_<machine>`` (wheels built for exactly such a system) last."""
        if self.libc == "musl":
            major, newest = self.libc_version
            tags = [f"musllinux_{major}_{minor}_{self.machine}" for minor in range(newest, -1, -1)]
        else:
            oldest = 5 if self.machine in ("x86_64", "i686") else 17
            tags = []
            for minor in range(self.libc_version[1], oldest - 1, -1):
                tags.append(f"manylinux_2_{minor}_{self.machine}")
                legacy = _LEGACY_MANYLINUX.get(minor)
                if legacy and self.machine in _LEGACY_MACHINES[legacy]:
                    tags.append(f"{legacy}_{self.machine}")
        return [*tags, f"linux_{self.machine}"]

    def tags(self) -> list[Tag]:
        """Wheel tags the interpreter accepts, most specific first (as ``packaging.tags.sys_tags``
        orders them): ``cpXY-cpXY-<platform>``, ``abi3``, ``none``, then pure-Python tags."""
        version = self.python_xy
        interpreter = f"cp{version[0]}{version[1]}"
        platforms = self.platform_tags()
        return [
            *cpython_tags(version, abis=[interpreter], platforms=platforms),
            *compatible_tags(version, interpreter=interpreter, platforms=platforms),
        ]

    def marker_environment(self) -> dict[str, str]:
        """Values for every PEP 508 marker variable, as the target interpreter would report them.

        The kernel (``platform_release``, ``platform_version``) is the host's at run time
        and unknowable at build time: both are empty.
        """
        full = self.python_version if self.python_version.count(".") >= 2 else f"{self.python_version}.0"
        return {
            "implementation_name": "cpython",
            "implementation_version": full,
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": full,
            "platform_python_implementation": "CPython",
            "python_version": "{}.{}".format(*self.python_xy),
            "sys_platform": "linux",
        }

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for cache keys and cached detection results)."""
        return {
            "python_version": self.python_version,
            "interpreter": self.interpreter,
            "machine": self.machine,
            "libc": self.libc,
            "libc_version": list(self.libc_version),
            "stdlib_dir": self.stdlib_dir,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TargetPlatform:
        """The inverse of ``to_json``."""
        major, minor = data["libc_version"]
        return cls(
            python_version=data["python_version"],
            interpreter=data["interpreter"],
            machine=data["machine"],
            libc=data["libc"],
            libc_version=(int(major), int(minor)),
            stdlib_dir=data["stdlib_dir"],
        )


def detect_platform(tree: FileTree, *, image: str = "base image") -> TargetPlatform:
    """Read the target platform from an image's files; ``image`` names it in errors."""
    found = _find_interpreter(tree)
    if found is None:
        raise ImageError(
            f"{image} has no CPython interpreter in /usr/bin or /usr/local/bin (no python3.X with "
            f"its lib/python3.X/os.py); use a base with python3.X, e.g. python:3.11-slim"
        )
    path, _minor, stdlib_dir = found
    binary = tree.read(path)
    if binary is None:
        raise ImageError(f"{image}: {path} cannot be read")
    elf = _read_elf(binary, f"{image}:{path}")
    machine = _machine(elf, f"{image}:{path}")
    libc, libc_version = _detect_libc(tree, elf, machine, image)
    return TargetPlatform(
        python_version=_full_version(tree, path, stdlib_dir, binary, elf),
        interpreter=path,
        machine=machine,
        libc=libc,
        libc_version=libc_version,
        stdlib_dir=stdlib_dir,
    )


# -- the interpreter ----------------------------------------------------------------------


def _find_interpreter(tree: FileTree) -> tuple[str, int, str] | None:
    """(path, minor version, stdlib dir) of the image's CPython 3: in /usr/local/bin before
    /usr/bin, the one ``python3`` links to before the newest other ``python3.X``."""
    for bin_dir in _BIN_DIRS:
        names = tree.listdir(bin_dir) or []
        versions = sorted(
            ((int(match.group(1)), name) for name in names if (match := _VERSIONED_PYTHON.fullmatch(name))),
            reverse=True,
        )
        preferred = posixpath.basename(_realpath(tree, f"{bin_dir}/python3"))
        ordered = sorted(versions, key=lambda item: item[1] != preferred)
        for minor, name in ordered:
            path = f"{bin_dir}/{name}"
            prefix = posixpath.dirname(posixpath.dirname(_realpath(tree, path)))
            stdlib_dir = posixpath.join(prefix, "lib", f"python3.{minor}")
            if tree.read(f"{stdlib_dir}/os.py") is not None:
                return path, minor, stdlib_dir
    return None


def _realpath(tree: FileTree, path: str) -> str:
    """``path`` with its last component's symlinks followed (bounded)."""
    for _ in range(_MAX_LINKS):
        target = tree.readlink(path)
        if target is None:
            return path
        path = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    return path


def _full_version(tree: FileTree, path: str, stdlib_dir: str, binary: bytes, elf: ELFFile) -> str:
    """``3.X.Z`` from Debian's package database (for Debian's own /usr/bin interpreter) or
    from the version string compiled into the interpreter or its libpython; else ``3.X``."""
    lib_dir, stdlib_name = posixpath.split(stdlib_dir)
    short = stdlib_name.removeprefix("python")
    if path.startswith("/usr/bin/"):
        packaged = _dpkg_version(tree, f"python{short}-minimal", short)
        if packaged:
            return packaged
    libpythons = [name for name in _needed(elf) if name.startswith(f"libpython{short}")]
    for blob in (binary, *(tree.read(posixpath.join(lib_dir, name)) for name in libpythons)):
        embedded = _embedded_version(blob, short) if blob else None
        if embedded:
            return embedded
    return short


def _dpkg_version(tree: FileTree, package: str, short: str) -> str | None:
    """The upstream version of an installed Debian package, if it is a ``short`` release."""
    status = tree.read("/var/lib/dpkg/status")
    if status is None:
        return None
    for stanza in re.split(r"\n\s*\n", status.decode("utf-8", "replace")):
        fields = Parser().parsestr(stanza, headersonly=True)
        if fields.get("Package") == package and "installed" in (fields.get("Status") or "").split():
            upstream = (fields.get("Version") or "").split(":")[-1].rsplit("-", 1)[0].replace("~", "")
            return upstream if re.fullmatch(rf"{re.escape(short)}\.\d+((a|b|rc)\d+)?", upstream) else None
    return None


def _embedded_version(blob: bytes, short: str) -> str | None:
    """CPython's ``PY_VERSION`` string (``"3.11.2"``) in a binary, when exactly one is there."""
    pattern = rb"\x00(" + re.escape(short.encode()) + rb"\.\d+(?:(?:a|b|rc)\d+)?\+?)\x00"
    found = {match.group(1).decode() for match in re.finditer(pattern, blob)}
    return found.pop() if len(found) == 1 else None


# -- ELF ---------------------------------------------------------------------------------------


def _read_elf(data: bytes, where: str) -> ELFFile:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        return ELFFile(io.BytesIO(data))
    except ELFError as err:
        raise ImageError(f"{where} is not an ELF file ({err}); lamina reads the target platform from it") from err


def _machine(elf: ELFFile, where: str) -> str:
    machine = elf["e_machine"]
    if machine == "EM_PPC64":
        return "ppc64le" if elf.little_endian else "ppc64"
    if machine not in _MACHINES:
        known = ", ".join(sorted({*_MACHINES.values(), "ppc64le"}))
        raise ImageError(f"{where}: unsupported machine {machine}; lamina knows {known}")
    return _MACHINES[machine]


def _program_interpreter(elf: ELFFile) -> str | None:
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_INTERP":
            return str(segment.get_interp_name())
    return None


def _needed(elf: ELFFile) -> list[str]:
    from elftools.elf.dynamic import DynamicSection

    return [
        str(tag.needed)
        for section in elf.iter_sections()
        if isinstance(section, DynamicSection)
        for tag in section.iter_tags("DT_NEEDED")
    ]


# -- the C library -----------------------------------------------------------------------------


def _detect_libc(tree: FileTree, elf: ELFFile, machine: str, image: str) -> tuple[str, tuple[int, int]]:
    """("musl", version) when the interpreter is loaded by ``ld-musl``, else ("glibc", version)
    of the image's ``libc.so.6`` for the same machine."""
    loader = _program_interpreter(elf)
    if loader and posixpath.basename(loader).startswith("ld-musl-"):
        return "musl", _musl_version(tree.read(loader))
    for path in _glibc_candidates(tree):
        data = tree.read(path)
        if data is None:
            continue
        libc = _read_elf(data, f"{image}:{path}")
        if _machine(libc, f"{image}:{path}") == machine:
            return "glibc", _glibc_version(libc, data, f"{image}:{path}")
    musl_loader = f"/lib/ld-musl-{machine}.so.1"
    musl = tree.read(musl_loader)
    if musl is not None:
        return "musl", _musl_version(musl)
    raise ImageError(
        f"{image} has no C library for {machine} (no libc.so.6 in {', '.join(_LIB_DIRS)} or their "
        f"multiarch directories, no {musl_loader}); use a glibc or musl base image"
    )


def _glibc_candidates(tree: FileTree) -> Iterator[str]:
    """Every ``libc.so.6`` in the library directories and their multiarch subdirectories."""
    for lib_dir in _LIB_DIRS:
        names = tree.listdir(lib_dir) or []
        if "libc.so.6" in names:
            yield f"{lib_dir}/libc.so.6"
        for name in names:
            if "-linux-" in name and "libc.so.6" in (tree.listdir(f"{lib_dir}/{name}") or []):
                yield f"{lib_dir}/{name}/libc.so.6"


def _glibc_version(libc: ELFFile, data: bytes, where: str) -> tuple[int, int]:
    """The newest ``GLIBC_2.N`` symbol version libc defines, else its banner's version."""
    from elftools.elf.gnuversions import GNUVerDefSection

    minors = [
        int(match.group(1))
        for section in libc.iter_sections()
        if isinstance(section, GNUVerDefSection)
        for _, auxiliaries in section.iter_versions()
        for auxiliary in auxiliaries
        if (match := _GLIBC_VERSION_NAME.fullmatch(auxiliary.name))
    ]
    if minors:
        return 2, max(minors)
    banner = _GLIBC_BANNER.search(data)
    if banner:
        return int(banner.group(1)), int(banner.group(2))
    raise ImageError(f"{where}: cannot tell the glibc version (no GLIBC_2.N symbol versions, no version banner)")


def _musl_version(loader: bytes | None) -> tuple[int, int]:
    """musl's ``1.N`` from the version string in its loader, else 1.2 (every musl since 2020)."""
    found = _MUSL_VERSION.search(loader or b"")
    if not found:
        return _DEFAULT_MUSL
    major, minor = found.group(1).decode().split(".")
    return int(major), int(minor)


def complete_platform(platform: TargetPlatform) -> dict[str, Any]:
    """pex's "complete platform" of ``platform``: its marker values and the wheel tags it accepts."""
    return {"marker_environment": platform.marker_environment(), "compatible_tags": [str(t) for t in platform.tags()]}


_MANYLINUX_TAG = re.compile(r"manylinux_(\d+)_(\d+)_(\w+)")
_MUSLLINUX_TAG = re.compile(r"musllinux_(\d+)_(\d+)_(\w+)")


def from_complete_platform(data: dict[str, Any], where: str) -> TargetPlatform:
    """The target platform a pex "complete platform" (``pex3 interpreter inspect --markers --tags``) describes."""
    try:
        markers, tags = data["marker_environment"], [str(t) for t in data["compatible_tags"]]
        version, machine = markers["python_full_version"], markers["platform_machine"]
    except (KeyError, TypeError):
        raise ImageError(
            f"{where}: not a pex complete platform (a JSON object with marker_environment and compatible_tags, "
            "as `pex3 interpreter inspect --markers --tags` writes)"
        ) from None
    if markers.get("platform_python_implementation", "CPython") != "CPython" or markers.get("sys_platform") != "linux":
        raise ImageError(f"{where}: lamina builds for CPython on Linux; this platform is {markers.get('sys_platform')}")
    glibc = [(int(m[1]), int(m[2])) for t in tags if (m := _MANYLINUX_TAG.search(t))]
    musl = [(int(m[1]), int(m[2])) for t in tags if (m := _MUSLLINUX_TAG.search(t))]
    libc, libc_version = ("musl", max(musl)) if musl else ("glibc", max(glibc, default=(2, 17)))
    xy = ".".join(version.split(".")[:2])
    return TargetPlatform(version, f"/usr/bin/python{xy}", machine, libc, libc_version, f"/usr/lib/python{xy}")
