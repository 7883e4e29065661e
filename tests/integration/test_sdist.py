"""sdists are built into wheels in an isolated environment; compiled ones are refused clearly."""

from __future__ import annotations

import hashlib
import tarfile
import textwrap

import pytest

from lamina.cache import Cache
from lamina.errors import BuildError
from lamina.python.platform import TargetPlatform
from lamina.python.sdist import build_wheel

pytestmark = pytest.mark.integration

PLATFORM = TargetPlatform("3.11.2", "/usr/bin/python3.11", "x86_64", "glibc", (2, 36), "/usr/lib/python3.11")
INDEX = ("https://pypi.org/simple",)


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


def test_pure_sdist_builds_once(tmp_path):
    cache = Cache(tmp_path / "cache")
    path, sha = _sdist(
        tmp_path, "puredemo", {"pyproject.toml": PYPROJECT.format(name="puredemo"), "puredemo.py": "X = 1\n"}
    )
    wheel = build_wheel(path, sha, path.name, PLATFORM, cache, INDEX)
    assert wheel.filename == "puredemo-1.0-py3-none-any.whl"
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
