"""sdists are built into wheels in an isolated environment; compiled ones are refused clearly."""

from __future__ import annotations

import hashlib
import tarfile
import textwrap
import zipfile

import pytest

from lamina.cache import Cache
from lamina.errors import BuildError
from lamina.python.index import PackageIndex
from lamina.python.platform import TargetPlatform
from lamina.python.sdist import build_wheel
from lamina.transport import Transport

pytestmark = pytest.mark.integration

PLATFORM = TargetPlatform("3.11.2", "/usr/bin/python3.11", "x86_64", "glibc", (2, 36), "/usr/lib/python3.11")
INDEX = PackageIndex(["https://pypi.org/simple"], Transport())


def _sdist(tmp_path, name, files):
    root = tmp_path / f"{name}-1.0"
    root.mkdir()
    files = {**files, "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"}
    for relative, text in files.items():
        (root / relative).write_text(textwrap.dedent(text))
    path = tmp_path / f"{name}-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(root, arcname=root.name)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


PYPROJECT = """
    [build-system]
    requires = ["setuptools>=61"]
    build-backend = "setuptools.build_meta"
    [project]
    name = "{name}"
    version = "1.0"
"""


# An in-tree backend that records where temporary files go during the build.
RECORDING_BACKEND = """
    import tempfile
    from setuptools import build_meta as _setuptools

    get_requires_for_build_wheel = _setuptools.get_requires_for_build_wheel
    prepare_metadata_for_build_wheel = _setuptools.prepare_metadata_for_build_wheel


    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        with open("puredemo.py", "w") as handle:
            handle.write(f"TMP = {tempfile.gettempdir()!r}\\n")
        return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
"""


def test_pure_sdist_builds_once_in_the_caches_scratch_space(tmp_path):
    cache = Cache(tmp_path / "cache")
    pyproject = PYPROJECT.format(name="puredemo").replace(
        'build-backend = "setuptools.build_meta"', 'build-backend = "recording"\n    backend-path = ["."]'
    )
    files = {"pyproject.toml": pyproject + '    [tool.setuptools]\n    py-modules = ["puredemo"]\n',
             "recording.py": RECORDING_BACKEND, "puredemo.py": "X = 1\n"}  # fmt: skip
    path, sha = _sdist(tmp_path, "puredemo", files)
    wheel = build_wheel(path, sha, path.name, PLATFORM, cache, INDEX)
    assert wheel.filename == "puredemo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel.path) as archive:
        recorded = archive.read("puredemo.py").decode()
    assert f"TMP = '{cache.scratch.directory()}" in recorded  # not the host's /tmp
    assert list(cache.scratch.directory().iterdir()) == []  # and nothing of the build is left there
    path.unlink()  # a second build would need the sdist: the cache answers instead
    assert build_wheel(path, sha, path.name, PLATFORM, cache, INDEX) == wheel


def test_compiled_sdist_is_refused_with_a_clear_error(tmp_path):
    cache = Cache(tmp_path / "cache")
    files = {
        "pyproject.toml": PYPROJECT.format(name="cdemo"),
        "setup.py": "from setuptools import Extension, setup\nsetup(ext_modules=[Extension('cdemo', ['cdemo.c'])])\n",
        "cdemo.c": '#include <Python.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "cdemo"};\n'
        "PyMODINIT_FUNC PyInit_cdemo(void) { return PyModule_Create(&m); }\n",
    }
    path, sha = _sdist(tmp_path, "cdemo", files)
    with pytest.raises(
        BuildError, match="cdemo-1.0.tar.gz contains compiled code.*pin a version that publishes a wheel"
    ):
        build_wheel(path, sha, path.name, PLATFORM, cache, INDEX)
    assert list(cache.actions.root.rglob("*.json")) == []
