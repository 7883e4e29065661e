"""The target platform is read from an image's files alone.

Two kinds of tree: a real directory holding this machine's own Debian CPython, libc and
dpkg database (checked against what that interpreter says about itself when run), and
dict-backed trees whose ELF files are built here byte by byte for machines and C
libraries this host does not have (aarch64, musl).
"""

from __future__ import annotations

import json
import os
import platform as host_platform
import posixpath
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment
from packaging.tags import Tag, sys_tags

from lamina.errors import ImageError
from lamina.python.platform import TargetPlatform, detect_platform

EM_386, EM_X86_64, EM_MIPS, EM_AARCH64 = 3, 62, 8, 183
_ELF_HEADER = struct.Struct("<HHIQQQIHHHHHH")
_PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
PT_INTERP = 3


def elf(machine: int, *, interp: str | None = None, payload: bytes = b"") -> bytes:
    """A minimal little-endian ELF64 executable: header, a PT_INTERP program header naming
    ``interp`` (when given), then ``payload`` (strings a real binary would carry)."""
    interp_bytes = interp.encode() + b"\0" if interp else b""
    phnum = 1 if interp else 0
    data_offset = _ELF_HEADER.size + 16 + _PROGRAM_HEADER.size * phnum
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header += _ELF_HEADER.pack(2, machine, 1, 0, 64 if phnum else 0, 0, 0, 64, _PROGRAM_HEADER.size, phnum, 64, 0, 0)
    size = len(interp_bytes)
    program = _PROGRAM_HEADER.pack(PT_INTERP, 4, data_offset, 0, 0, size, size, 1) if interp else b""
    return header + program + interp_bytes + payload


class DictTree:
    """A ``FileTree`` from ``{path: bytes}`` files and ``{path: target}`` symlinks."""

    def __init__(self, files: dict[str, bytes], links: dict[str, str] | None = None) -> None:
        self.files = files
        self.links = links or {}

    def _resolve(self, path: str) -> str:
        for _ in range(40):
            if path not in self.links:
                return path
            path = posixpath.normpath(posixpath.join(posixpath.dirname(path), self.links[path]))
        return path

    def read(self, path: str) -> bytes | None:
        return self.files.get(self._resolve(path))

    def readlink(self, path: str) -> str | None:
        return self.links.get(path)

    def listdir(self, path: str) -> list[str] | None:
        path = self._resolve(path).rstrip("/") + "/"
        names = {p[len(path) :].split("/")[0] for p in [*self.files, *self.links] if p.startswith(path)}
        return sorted(names) or None


class DirectoryTree:
    """A ``FileTree`` over a real directory that stands for an image's root: symlinks,
    absolute ones included, resolve inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _host(self, path: str, follow_last: bool = True) -> Path:
        parts = [p for p in path.split("/") if p]
        resolved: list[str] = []
        for _ in range(200):
            if not parts:
                break
            name = parts.pop(0)
            host = self.root.joinpath(*resolved, name)
            if host.is_symlink() and (parts or follow_last):
                target = os.readlink(host)
                base = "/" if target.startswith("/") else "/" + "/".join(resolved)
                parts = [p for p in posixpath.normpath(posixpath.join(base, target)).split("/") if p] + parts
                resolved = []
            else:
                resolved.append(name)
        return self.root.joinpath(*resolved)

    def read(self, path: str) -> bytes | None:
        host = self._host(path)
        return host.read_bytes() if host.is_file() else None

    def readlink(self, path: str) -> str | None:
        host = self._host(path, follow_last=False)
        return os.readlink(host) if host.is_symlink() else None

    def listdir(self, path: str) -> list[str] | None:
        host = self._host(path)
        return sorted(os.listdir(host)) if host.is_dir() else None


# -- this machine's Debian CPython, copied into a real directory tree -------------------------


def _host_debian_python() -> Path:
    """This machine's Debian interpreter (/usr/bin/python3.X, the one python3 links to)."""
    return Path("/usr/bin") / os.readlink("/usr/bin/python3")


@pytest.fixture(scope="module")
def host_facts() -> dict[str, str]:
    """What the host's Debian python says about itself when run: the referee."""
    script = (
        "import json, platform, sysconfig; print(json.dumps({"
        "'version': platform.python_version(), 'machine': platform.machine(),"
        " 'libc': platform.libc_ver()[1], 'stdlib': sysconfig.get_path('stdlib'),"
        " 'multiarch': sysconfig.get_config_var('MULTIARCH')}))"
    )
    command = [str(_host_debian_python()), "-I", "-c", script]
    ran = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(ran.stdout)


@pytest.fixture(scope="module")
def debian_root(tmp_path_factory, host_facts) -> Path:
    """A merged-/usr root with the host's real interpreter, os.py, libc.so.6 and dpkg status."""
    root = tmp_path_factory.mktemp("debian-root")
    python = _host_debian_python()
    libc = Path("/usr/lib") / host_facts["multiarch"] / "libc.so.6"
    copies = {
        python: root / "usr/bin" / python.name,
        Path(host_facts["stdlib"]) / "os.py": root / host_facts["stdlib"].lstrip("/") / "os.py",
        libc: root / "usr/lib" / host_facts["multiarch"] / "libc.so.6",
        Path("/var/lib/dpkg/status"): root / "var/lib/dpkg/status",
    }
    for source, destination in copies.items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    (root / "usr/bin/python3").symlink_to(python.name)
    (root / "lib").symlink_to("usr/lib")
    (root / "bin").symlink_to("usr/bin")
    return root


def test_detects_the_hosts_debian_python_from_its_files(debian_root, host_facts):
    detected = detect_platform(DirectoryTree(debian_root))

    assert detected.python_version == host_facts["version"]
    assert detected.interpreter == str(_host_debian_python())
    assert detected.stdlib_dir == host_facts["stdlib"]
    assert detected.machine == host_facts["machine"]
    assert detected.libc == "glibc"
    assert detected.libc_version == tuple(int(part) for part in host_facts["libc"].split(".")[:2])


def test_full_version_comes_from_the_binary_without_a_package_database(debian_root, host_facts, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(debian_root, root, symlinks=True)
    (root / "var/lib/dpkg/status").unlink()

    assert detect_platform(DirectoryTree(root)).python_version == host_facts["version"]


def test_tags_of_a_glibc_platform_are_what_packaging_gives_this_interpreter():
    glibc = tuple(int(part) for part in host_platform.libc_ver()[1].split(".")[:2])
    running = TargetPlatform(
        python_version=host_platform.python_version(),
        interpreter=sys.executable,
        machine=host_platform.machine(),
        libc="glibc",
        libc_version=glibc,
        stdlib_dir="/unused",
    )
    expected = list(sys_tags())

    tags = running.tags()
    assert set(tags) == set(expected)
    assert [t for t in tags if not t.platform.startswith("linux_")] == [
        t for t in expected if not t.platform.startswith("linux_")
    ]
    xy = f"{sys.version_info.major}{sys.version_info.minor}"
    assert tags[0] == Tag(f"cp{xy}", f"cp{xy}", f"manylinux_{glibc[0]}_{glibc[1]}_{host_platform.machine()}")
    assert tags[-1] == Tag("py30", "none", "any")


# -- other machines and C libraries, from ELF files built here --------------------------------


def _aarch64_slim_image() -> DictTree:
    """A python:3.12-slim-like aarch64 image whose glibc says its version only in its banner,
    with a stray x86_64 libc and a Debian python3.11 that /usr/local/bin must win over."""
    banner = b"\0GNU C Library (Debian GLIBC 2.31-13) stable release version 2.31.\n\0"
    aarch64_loader = "/lib/ld-linux-aarch64.so.1"
    return DictTree(
        files={
            "/usr/local/bin/python3.12": elf(EM_AARCH64, interp=aarch64_loader),
            "/usr/local/lib/python3.12/os.py": b"# os\n",
            "/usr/bin/python3.11": elf(EM_AARCH64, interp=aarch64_loader, payload=b"\x003.11.2\x00"),
            "/usr/lib/python3.11/os.py": b"# os\n",
            "/usr/lib/aarch64-linux-gnu/libc.so.6": elf(EM_AARCH64, payload=banner),
            "/usr/lib/x86_64-linux-gnu/libc.so.6": elf(EM_X86_64, payload=banner.replace(b"2.31", b"2.36")),
        },
        links={"/usr/local/bin/python3": "python3.12", "/usr/local/bin/python": "python3", "/lib": "usr/lib"},
    )


def test_aarch64_glibc_from_elf_headers_and_banner():
    detected = detect_platform(_aarch64_slim_image())

    assert detected == TargetPlatform(
        python_version="3.12",
        interpreter="/usr/local/bin/python3.12",
        machine="aarch64",
        libc="glibc",
        libc_version=(2, 31),
        stdlib_dir="/usr/local/lib/python3.12",
    )
    platforms = detected.platform_tags()
    assert platforms[0] == "manylinux_2_31_aarch64"
    assert platforms[platforms.index("manylinux_2_17_aarch64") + 1] == "manylinux2014_aarch64"
    assert "manylinux_2_16_aarch64" not in platforms and "manylinux2010_aarch64" not in platforms
    assert platforms[-1] == "linux_aarch64"
    assert detected.tags()[0] == Tag("cp312", "cp312", "manylinux_2_31_aarch64")
    assert Tag("cp38", "abi3", "manylinux2014_aarch64") in detected.tags()
    assert Tag("py3", "none", "any") in detected.tags()


def test_only_x_y_known_means_markers_see_x_y_0():
    environment = detect_platform(_aarch64_slim_image()).marker_environment()

    assert environment["python_version"] == "3.12"
    assert environment["python_full_version"] == "3.12.0"
    assert Marker('platform_machine == "aarch64" and python_full_version < "3.12.1"').evaluate(environment)
    assert not Marker('sys_platform == "win32"').evaluate(environment)


def test_musl_from_the_program_interpreter_and_its_version_string():
    loader = "/lib/ld-musl-x86_64.so.1"
    tree = DictTree(
        files={
            "/usr/bin/python3.12": elf(EM_X86_64, interp=loader, payload=b"\x003.12.7\x00"),
            "/usr/lib/python3.12/os.py": b"# os\n",
            "/lib/libc.musl-x86_64.so.1": elf(EM_X86_64, payload=b"\0musl libc (x86_64)\0Version %s\n\x001.2.4\0"),
        },
        links={"/usr/bin/python3": "python3.12", loader: "libc.musl-x86_64.so.1"},
    )

    detected = detect_platform(tree)

    assert (detected.python_version, detected.libc, detected.libc_version) == ("3.12.7", "musl", (1, 2))
    assert detected.platform_tags() == [
        "musllinux_1_2_x86_64",
        "musllinux_1_1_x86_64",
        "musllinux_1_0_x86_64",
        "linux_x86_64",
    ]
    assert not any("manylinux" in tag.platform for tag in detected.tags())
    assert detected.marker_environment()["python_full_version"] == "3.12.7"


def test_i686_keeps_the_old_manylinux_aliases():
    i686 = TargetPlatform("3.11", "/usr/bin/python3.11", "i686", "glibc", (2, 12), "/usr/lib/python3.11")

    assert i686.platform_tags() == [
        "manylinux_2_12_i686",
        "manylinux2010_i686",
        *[f"manylinux_2_{minor}_i686" for minor in range(11, 4, -1)],
        "manylinux1_i686",
        "linux_i686",
    ]


# -- errors ------------------------------------------------------------------------------------

STDLIB = {"/usr/lib/python3.11/os.py": b""}
GLIBC_LOADER = "/lib64/ld-linux-x86-64.so.2"


@pytest.mark.parametrize(
    ("files", "complaint"),
    [
        ({}, "has no CPython interpreter in /usr/bin or /usr/local/bin"),
        ({"/usr/bin/python3.11": elf(EM_X86_64)}, "has no CPython interpreter"),
        ({**STDLIB, "/usr/bin/python3.11": b'#!/bin/sh\nexec python "$@"\n'}, "is not an ELF file"),
        ({**STDLIB, "/usr/bin/python3.11": elf(EM_MIPS)}, "unsupported machine EM_MIPS"),
        ({**STDLIB, "/usr/bin/python3.11": elf(EM_X86_64, interp=GLIBC_LOADER)}, "has no C library for x86_64"),
        (
            {
                **STDLIB,
                "/usr/bin/python3.11": elf(EM_X86_64, interp=GLIBC_LOADER),
                "/lib64/libc.so.6": elf(EM_386, payload=b"\0GNU C Library version 2.36.\n\0"),
            },
            "has no C library for x86_64",
        ),
    ],
)
def test_unusable_images_are_clear_image_errors(files, complaint):
    with pytest.raises(ImageError, match=re.escape(complaint)) as raised:
        detect_platform(DictTree(files), image="docker-archive:base.tar")
    assert str(raised.value).startswith("docker-archive:base.tar")


# -- values ------------------------------------------------------------------------------------


def test_json_round_trip():
    original = detect_platform(_aarch64_slim_image())
    data = json.loads(json.dumps(original.to_json()))

    assert TargetPlatform.from_json(data) == original


def test_marker_environment_defines_every_variable_packaging_knows():
    environment = detect_platform(_aarch64_slim_image()).marker_environment()

    assert set(default_environment()) <= set(environment)
    assert (environment["platform_machine"], environment["platform_release"]) == ("aarch64", "")
