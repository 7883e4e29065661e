"""Install wheels into an image's venv layout as tar entries: nothing runs, nothing touches the host.

``installer`` does the work (path validation, script shebangs, RECORD); lamina only
swaps its file-system writes for layer entries. Memory stays bounded whatever a wheel
inflates to: file contents are kept in memory up to a budget, then spilled to files in
a scratch directory, and read back only when the layer is written.
"""

from __future__ import annotations

import io
import posixpath
import threading
import zipfile
import zlib
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

from lamina import progress
from lamina.atomic import temp_name
from lamina.errors import BuildError
from lamina.python.platform import TargetPlatform
from lamina.tar import TarEntry

MEMORY_BUDGET = 64 << 20  # bytes of installed files kept in memory before spilling to disk
# What zipfile and installer raise for a file that is not a valid wheel (RuntimeError: an encrypted member).
NOT_A_WHEEL = (
    InstallerError, ValueError, KeyError, EOFError, RuntimeError, NotImplementedError, zlib.error, zipfile.BadZipFile,
)  # fmt: skip


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


@dataclass(frozen=True)
class Installed:
    """What installing wheels made: the venv's entries, and which wheel owns each path."""

    entries: list[TarEntry]
    owners: dict[str, str]  # in-image path (no leading slash) -> wheel file name


class _Budget:
    """Bytes that may still be held in memory, shared by every file of one install."""

    def __init__(self, total: int) -> None:
        self.left = total
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self._lock:
            if size > self.left:
                return False
            self.left -= size
            return True


class _Spool(io.RawIOBase):
    """One installed file: in memory while the budget lasts, else in a file of ``spill_dir``."""

    def __init__(self, budget: _Budget, spill_dir: Path) -> None:
        self._budget, self._spill_dir = budget, spill_dir
        self._buffer: io.BytesIO | None = io.BytesIO()
        self._file: BinaryIO | None = None
        self.path: Path | None = None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self._buffer is not None and not self._budget.take(len(data)):
            self.path = self._spill_dir / temp_name("installed")
            self._file = open(self.path, "xb")  # noqa: SIM115 - closed in entry()
            self._file.write(self._buffer.getvalue())
            self._buffer = None
        (self._buffer if self._buffer is not None else self._file).write(data)  # type: ignore[union-attr]
        return len(data)

    def entry(self, target: str, executable: bool) -> TarEntry:
        if self._file is not None:
            self._file.close()
            return TarEntry.from_path(target, self.path, executable=executable)  # type: ignore[arg-type]
        return TarEntry.file(target, self._buffer.getvalue(), executable=executable)  # type: ignore[union-attr]


class _LayerDestination(SchemeDictionaryDestination):
    """installer's scheme destination, writing into a dict of tar entries instead of disk."""

    def __init__(self, installed: dict, wheel: str, schemes: dict[str, str], python: str, budget, spill_dir: Path):
        super().__init__(scheme_dict=schemes, interpreter=python, script_kind="posix")
        self.installed, self.wheel = installed, wheel
        self.budget, self.spill_dir = budget, spill_dir

    def write_to_fs(self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
        target = str(self._path_with_destdir(scheme, path))
        if target in self.installed:
            raise BuildError(f"{self.wheel} and {self.installed[target][0]} both install {target}")
        spool = _Spool(self.budget, self.spill_dir)
        digest, size = copyfileobj_with_hashing(stream, spool, self.hash_algorithm)
        self.installed[target] = (self.wheel, spool.entry(target, is_executable))
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


def _install_one(wheel: Wheel, installed: dict, layout: VenvLayout, python: str, budget, spill_dir: Path) -> None:
    """Install one wheel into ``installed`` (in-image path -> (wheel, entry))."""
    dist_name = wheel.filename.split("-")[0]
    destination = _LayerDestination(installed, wheel.filename, layout.schemes(dist_name), python, budget, spill_dir)
    try:
        with open(wheel.path, "rb") as handle, zipfile.ZipFile(handle) as archive:
            archive.filename = wheel.filename
            install(source=WheelFile(archive), destination=destination, additional_metadata={"INSTALLER": b"lamina\n"})
    except NOT_A_WHEEL as err:
        raise BuildError(
            f"cannot install {wheel.filename}: it is not a valid wheel ({type(err).__name__}: {err}); "
            "check the lock's hash for it, or pin another version"
        ) from None


def installed_size(wheel: Wheel) -> int:
    """The bytes ``wheel`` installs (its members' uncompressed sizes), read from the zip's directory."""
    try:
        with zipfile.ZipFile(wheel.path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except NOT_A_WHEEL as err:
        raise BuildError(
            f"cannot read {wheel.filename}: it is not a valid wheel ({type(err).__name__}: {err}); "
            "check the lock's hash for it, or pin another version"
        ) from None


def install_wheels(
    wheels: Sequence[Wheel],
    layout: VenvLayout,
    platform: TargetPlatform,
    *,
    spill_dir: Path,
    memory_budget: int = MEMORY_BUDGET,
    skeleton: bool = True,
) -> Installed:
    """The venv with every wheel installed (with ``skeleton=False``, the wheels' files
    alone); scripts run the venv's python. Files beyond ``memory_budget`` go to
    ``spill_dir``, which must outlive the returned entries."""
    installed: dict[str, tuple[str, TarEntry]] = {}
    python = f"{layout.venv_dir}/bin/python"
    budget = _Budget(memory_budget)
    with progress.step(f"installing {progress.count(len(wheels), 'wheel')}", len(wheels)) as advance:
        for wheel in sorted(wheels, key=lambda w: w.filename):
            _install_one(wheel, installed, layout, python, budget, spill_dir)
            advance()
    entries = (venv_skeleton(layout, platform) if skeleton else []) + [entry for _, entry in installed.values()]
    owners = {entry.path: wheel for wheel, entry in installed.values()}
    return Installed(entries, owners)
