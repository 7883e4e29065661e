"""Wheels install into the venv layout as tar entries, with scripts pointing at the venv's python."""

from __future__ import annotations

import base64
import hashlib
import zipfile

import pytest

from lamina.errors import BuildError
from lamina.python.install import VenvLayout, Wheel, install_wheels
from lamina.python.platform import TargetPlatform

PLATFORM = TargetPlatform("3.11.2", "/usr/bin/python3.11", "x86_64", "glibc", (2, 36), "/usr/lib/python3.11")


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(tmp_path, name="demo", files=None):
    """A real wheel file, written by the test."""
    files = files or {f"{name}/__init__.py": b"def main():\n    return 0\n"}
    info = f"{name}-1.0.dist-info"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": f"[console_scripts]\n{name} = {name}:main\n".encode(),
    }
    record = "\n".join([*(_record_line(n, d) for n, d in files.items()), f"{info}/RECORD,,"]) + "\n"
    path = tmp_path / f"blob-{name}"
    with zipfile.ZipFile(path, "w") as archive:
        for n, d in {**files, f"{info}/RECORD": record.encode()}.items():
            archive.writestr(n, d)
    return Wheel(f"{name}-1.0-py3-none-any.whl", path)


def test_install_places_files_scripts_and_venv(tmp_path):
    entries = {e.path: e for e in install_wheels([make_wheel(tmp_path)], VenvLayout(), PLATFORM)}
    site = "opt/venv/lib/python3.11/site-packages"
    assert entries[f"{site}/demo/__init__.py"].data.startswith(b"def main")
    script = entries["opt/venv/bin/demo"]
    assert script.data.startswith(b"#!/opt/venv/bin/python\n") and script.mode == 0o755
    assert entries["opt/venv/bin/python"].linkname == "/usr/bin/python3.11"
    assert b"home = /usr/bin" in entries["opt/venv/pyvenv.cfg"].data
    assert entries[f"{site}/demo-1.0.dist-info/INSTALLER"].data == b"lamina\n"
    assert b"../../../bin/demo" in entries[f"{site}/demo-1.0.dist-info/RECORD"].data


def test_two_wheels_writing_one_file_is_an_error(tmp_path):
    first = make_wheel(tmp_path, "alpha", {"shared/x.py": b"1"})
    second = make_wheel(tmp_path, "beta", {"shared/x.py": b"2"})
    with pytest.raises(BuildError, match="both install"):
        install_wheels([first, second], VenvLayout(), PLATFORM)


def test_escaping_wheel_entries_are_refused(tmp_path):
    evil = make_wheel(tmp_path, "evil", {"../../../../etc/passwd": b"x"})
    with pytest.raises(BuildError, match="evil"):
        install_wheels([evil], VenvLayout(), PLATFORM)
