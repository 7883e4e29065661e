"""Build requirements are read from an sdist's pyproject.toml, never by running it."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from lamina.errors import BuildError
from lamina.python.build_lock import (
    LEGACY_BUILD_REQUIREMENTS,
    build_lock_path,
    sdist_build_requirements,
    unsatisfied,
)
from lamina.python.lockfile import load_lockfile


def _sdist(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"demo-1.0/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_build_requirements_come_from_pyproject_or_pips_default(tmp_path):
    modern = _sdist(tmp_path / "a.tar.gz", {"pyproject.toml": '[build-system]\nrequires = ["hatchling>=1.20"]\n'})
    assert sdist_build_requirements(modern, "demo-1.0.tar.gz") == ["hatchling>=1.20"]
    legacy = _sdist(tmp_path / "b.tar.gz", {"setup.py": "", "sub/pyproject.toml": "not the project's"})
    assert sdist_build_requirements(legacy, "demo-1.0.tar.gz") == list(LEGACY_BUILD_REQUIREMENTS)
    broken = _sdist(tmp_path / "c.tar.gz", {"pyproject.toml": "[build-system\n"})
    with pytest.raises(BuildError, match="demo-1.0.tar.gz: its pyproject.toml cannot be read"):
        sdist_build_requirements(broken, "demo-1.0.tar.gz")


def test_a_stale_build_lock_names_what_it_lacks(tmp_path):
    assert build_lock_path(Path("3rdparty/python/default.lock")) == Path("3rdparty/python/default.build.lock")
    lock = tmp_path / "default.build.lock"
    lock.write_text(f"setuptools==70.0.0 --hash=sha256:{'a' * 64}\n")
    assert unsatisfied(["setuptools>=40.8.0", "wheel", "setuptools>=75"], load_lockfile(lock)) == [
        "wheel",
        "setuptools>=75",
    ]
