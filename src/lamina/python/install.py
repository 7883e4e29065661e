"""Install wheels into an image's venv layout as tar entries: nothing runs, nothing touches the host.

``installer`` does the work (path validation, script shebangs, RECORD); lamina only
swaps its file-system writes for in-memory layer entries.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.records import Hash, RecordEntry
from installer.scripts import Script
from installer.sources import WheelFile
from installer.utils import Scheme, copyfileobj_with_hashing

from lamina.errors import BuildError
from lamina.python.platform import TargetPlatform
from lamina.tar import TarEntry


@dataclass(frozen=True)
class Wheel:
    """A wheel file and its real name (cache blobs are named by digest, installer needs the name)."""

    filename: str
    path: Path


@dataclass(frozen=True)
class VenvLayout:
    """Where a venv lives in the image, for the image's Python X.Y."""

    venv_dir: str = "/opt/venv"
    python_version: str = "3.11"

    @property
    def site_packages(self) -> str:
        """The venv's purelib and platlib directory."""
        return f"{self.venv_dir}/lib/python{self.python_version}/site-packages"

    def schemes(self, dist_name: str) -> dict[str, str]:
        """The install scheme paths ``installer`` writes to."""
        return {
            "purelib": self.site_packages,
            "platlib": self.site_packages,
            "scripts": f"{self.venv_dir}/bin",
            "data": self.venv_dir,
            "headers": f"{self.venv_dir}/include/site/python{self.python_version}/{dist_name}",
        }


class _LayerDestination(SchemeDictionaryDestination):
    """installer's scheme destination, writing into a dict of tar entries instead of disk."""

    def __init__(self, entries: dict[str, tuple[str, TarEntry]], wheel: str, schemes: dict[str, str], python: str):
        super().__init__(scheme_dict=schemes, interpreter=python, script_kind="posix")
        self.entries = entries
        self.wheel = wheel

    def write_to_fs(self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
        target = str(self._path_with_destdir(scheme, path))
        buffer = io.BytesIO()
        digest, size = copyfileobj_with_hashing(stream, buffer, self.hash_algorithm)
        if target in self.entries:
            raise BuildError(f"{self.wheel} and {self.entries[target][0]} both install {target}")
        self.entries[target] = (self.wheel, TarEntry.file(target, buffer.getvalue(), executable=is_executable))
        return RecordEntry(path, Hash(self.hash_algorithm, digest), size)

    def write_script(self, name: str, module: str, attr: str, section) -> RecordEntry:
        script_name, data = Script(name, module, attr, section).generate(self.interpreter, self.script_kind)
        return self.write_to_fs(Scheme("scripts"), script_name, io.BytesIO(data), is_executable=True)


def venv_skeleton(layout: VenvLayout, platform: TargetPlatform) -> list[TarEntry]:
    """``pyvenv.cfg`` and ``bin/python*`` links to the base image's interpreter."""
    home = posixpath.dirname(platform.interpreter)
    config = (
        f"home = {home}\ninclude-system-site-packages = false\nversion = {platform.python_version}\n"
        f"executable = {platform.interpreter}\n"
    )
    bin_dir = f"{layout.venv_dir}/bin"
    return [
        TarEntry.file(f"{layout.venv_dir}/pyvenv.cfg", config.encode()),
        TarEntry.dir(layout.site_packages),
        TarEntry.symlink(f"{bin_dir}/python", platform.interpreter),
        TarEntry.symlink(f"{bin_dir}/python3", "python"),
        TarEntry.symlink(f"{bin_dir}/python{layout.python_version}", "python"),
    ]


def install_wheels(wheels: Sequence[Wheel], layout: VenvLayout, platform: TargetPlatform) -> list[TarEntry]:
    """Entries of the venv with every wheel installed; scripts run the venv's python."""
    entries: dict[str, tuple[str, TarEntry]] = {}
    python = f"{layout.venv_dir}/bin/python"
    for wheel in sorted(wheels, key=lambda w: w.filename):
        dist_name = wheel.filename.split("-")[0]
        destination = _LayerDestination(entries, wheel.filename, layout.schemes(dist_name), python)
        try:
            with open(wheel.path, "rb") as handle, zipfile.ZipFile(handle) as archive:
                archive.filename = wheel.filename
                install(
                    source=WheelFile(archive), destination=destination, additional_metadata={"INSTALLER": b"lamina\n"}
                )
        except (InstallerError, ValueError, zipfile.BadZipFile) as err:
            raise BuildError(f"cannot install {wheel.filename}: {err}") from err
    return venv_skeleton(layout, platform) + [entry for _, entry in entries.values()]
