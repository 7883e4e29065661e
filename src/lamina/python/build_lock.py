"""Build requirements are locked too: beside a resolve's lock (``default.lock``), a build
lock (``default.build.lock``, hash-pinned by pip-tools) pins what the resolve's sdists
need to build: ``[build-system] requires`` of each, or pip's legacy default for an sdist
without a ``pyproject.toml``. The sdists concerned are those the lock has no wheel for.
At build time each sdist's own requirements are taken from this lock, from verified files
only; one it does not satisfy means the build lock is stale.
"""

from __future__ import annotations

import posixpath
import tarfile
import tomllib
from collections.abc import Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from lamina.errors import BuildError
from lamina.python.index import IndexFile, PackageIndex
from lamina.python.lockfile import Lockfile

LEGACY_BUILD_REQUIREMENTS = ("setuptools>=40.8.0", "wheel")  # pip's, for an sdist without pyproject.toml
_MAX_PYPROJECT = 1 << 20


def build_lock_path(lock: Path) -> Path:
    """Where the build lock of the lock at ``lock`` lives (``x.lock`` -> ``x.build.lock``)."""
    return lock.with_name(f"{lock.stem}.build{lock.suffix}" if lock.suffix else f"{lock.name}.build")


def sdist_build_requirements(sdist: Path, filename: str) -> list[str]:
    """The ``[build-system] requires`` of an sdist (read from its ``pyproject.toml``, never run)."""
    try:
        with tarfile.open(sdist) as archive:
            member = next(
                (m for m in archive if m.isfile() and posixpath.normpath(m.name).count("/") == 1
                 and m.name.endswith("/pyproject.toml")),
                None,
            )  # fmt: skip
            if member is None:
                return list(LEGACY_BUILD_REQUIREMENTS)
            if member.size > _MAX_PYPROJECT:
                raise BuildError(f"{filename}: its pyproject.toml is larger than {_MAX_PYPROJECT} bytes")
            data = archive.extractfile(member).read()  # type: ignore[union-attr]
    except (tarfile.TarError, OSError, EOFError) as err:
        raise BuildError(f"cannot read {filename} as an sdist: {err}") from None
    try:
        system = tomllib.loads(data.decode("utf-8")).get("build-system")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise BuildError(f"{filename}: its pyproject.toml cannot be read ({err})") from None
    if not isinstance(system, dict) or "requires" not in system:
        return list(LEGACY_BUILD_REQUIREMENTS)
    requires = system["requires"]
    try:
        return [str(Requirement(r)) for r in requires]
    except (InvalidRequirement, TypeError) as err:
        raise BuildError(f"{filename}: invalid [build-system] requires ({err})") from None


def _linux_wheel(file: IndexFile) -> bool:
    try:
        tags = parse_wheel_filename(file.filename)[3]
    except InvalidWheelFilename:
        return False
    return any(t.platform == "any" or t.platform.startswith(("manylinux", "musllinux", "linux")) for t in tags)


def sdists_to_build(lock: Lockfile, index: PackageIndex) -> list[IndexFile]:
    """The sdist of each locked distribution the lock has no Linux wheel for (images are Linux)."""
    found = []
    for dist in lock.dists.values():
        hashes = {a.sha256 for a in dist.artifacts}
        files = [f for f in index.files(dist.name) if f.sha256 in hashes]
        sdists = sorted((f for f in files if not f.is_wheel), key=lambda f: f.filename)
        if sdists and not any(f.is_wheel and _linux_wheel(f) for f in files):
            found.append(sdists[0])
    return found


def unsatisfied(requirements: Sequence[str], build_lock: Lockfile) -> list[str]:
    """The build requirements the build lock does not pin (a stale build lock)."""
    missing = []
    for text in requirements:
        requirement = Requirement(text)
        pinned = build_lock.get(requirement.name)
        if pinned is None or not requirement.specifier.contains(pinned.version, prereleases=True):
            missing.append(text)
    return missing
