"""The modules a wheel provides, namespace packages looked through."""

from __future__ import annotations

import zipfile

from lamina.python.modules import top_level_modules


def _wheel(path, files):
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_namespace_packages_stand_for_the_packages_inside(tmp_path):
    storage = _wheel(tmp_path / "google_cloud_storage-2.0-py3-none-any.whl", {
        "google/cloud/storage/__init__.py": "", "google/cloud/storage/blob.py": "",
        "google_cloud_storage-2.0.dist-info/top_level.txt": "google\n",
    })  # fmt: skip
    assert top_level_modules(storage, storage.name) == ["google.cloud.storage"]
    plain = _wheel(tmp_path / "attrs-23.2.0-py3-none-any.whl", {
        "attr/__init__.py": "", "attrs/__init__.py": "", "attrs-23.2.0.dist-info/top_level.txt": "attr\nattrs\n",
    })  # fmt: skip
    assert top_level_modules(plain, plain.name) == ["attr", "attrs"]
    derived = _wheel(tmp_path / "six-1.16.0-py2.py3-none-any.whl", {"six.py": "", "six-1.16.0.dist-info/RECORD": ""})
    assert top_level_modules(derived, derived.name) == ["six"]
