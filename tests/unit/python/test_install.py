"""Wheels install into the venv layout as tar entries, with scripts pointing at the venv's python."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile

import pytest

from lamina.errors import BuildError, ResolveError
from lamina.python.install import VenvLayout, Wheel, install_wheels
from lamina.python.metadata import requires_dist
from lamina.python.modules import top_level_modules
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
    installed = install_wheels([make_wheel(tmp_path)], VenvLayout(), PLATFORM, spill_dir=tmp_path)
    entries = {e.path: e for e in installed.entries}
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
        install_wheels([first, second], VenvLayout(), PLATFORM, spill_dir=tmp_path)


def test_escaping_wheel_entries_are_refused(tmp_path):
    evil = make_wheel(tmp_path, "evil", {"../../../../etc/passwd": b"x"})
    with pytest.raises(BuildError, match="evil"):
        install_wheels([evil], VenvLayout(), PLATFORM, spill_dir=tmp_path)


def test_files_that_are_not_wheels_are_clear_errors(tmp_path):
    bogus = tmp_path / "blob"
    bogus.write_bytes(b"<html>this is an error page</html>")
    with pytest.raises(BuildError, match=r"cannot install demo-1.0-py3-none-any.whl: it is not a valid wheel"):
        install_wheels([Wheel("demo-1.0-py3-none-any.whl", bogus)], VenvLayout(), PLATFORM, spill_dir=tmp_path)
    with pytest.raises(ResolveError, match=r"demo-1.0-py3-none-any.whl is not a valid wheel \(BadZipFile"):
        top_level_modules(bogus, "demo-1.0-py3-none-any.whl")
    latin = make_wheel(tmp_path, "latin")
    with zipfile.ZipFile(latin.path, "a") as archive:
        archive.writestr("latin-1.0.dist-info/top_level.txt", b"caf\xe9\n")
    with pytest.raises(ResolveError, match="top_level.txt is not UTF-8"):
        top_level_modules(latin.path, latin.filename)
    with pytest.raises(ResolveError, match=r"the metadata of latin==1.0 \(x\) is not UTF-8"):
        requires_dist(b"Name: latin\nRequires-Dist: caf\xe9\n", "latin==1.0 (x)")


_INFLATE = """
import sys
from pathlib import Path
from lamina.python.install import VenvLayout, Wheel, install_wheels
from lamina.python.metadata import requires_dist
from lamina.python.modules import top_level_modules
from lamina.python.platform import TargetPlatform
platform = TargetPlatform("3.11.2", "/usr/bin/python3.11", "x86_64", "glibc", (2, 36), "/usr/lib/python3.11")
installed = install_wheels([Wheel("bomb-1.0-py3-none-any.whl", Path(sys.argv[1]))], VenvLayout(), platform,
                           spill_dir=Path(sys.argv[2]))
big = next(e for e in installed.entries if e.path.endswith("zeros.bin"))
# VmHWM: this process's peak resident memory (ru_maxrss would count the forking parent's too)
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(big.size(), peak)
"""


def test_a_wheel_that_inflates_to_a_gigabyte_installs_in_bounded_memory(tmp_path):
    size, chunk = 1 << 30, b"\0" * (16 << 20)
    path = tmp_path / "bomb.whl"
    info = "bomb-1.0.dist-info"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        digest = hashlib.sha256()
        with archive.open("bomb/zeros.bin", "w", force_zip64=True) as member:
            for _ in range(size // len(chunk)):
                member.write(chunk)
                digest.update(chunk)
        files = {f"{info}/METADATA": b"Metadata-Version: 2.1\nName: bomb\nVersion: 1.0\n",
                 f"{info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}  # fmt: skip
        for name, data in files.items():
            archive.writestr(name, data)
        hashed = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
        lines = [f"bomb/zeros.bin,sha256={hashed},{size}", *(_record_line(n, d) for n, d in files.items())]
        archive.writestr(f"{info}/RECORD", "\n".join([*lines, f"{info}/RECORD,,"]) + "\n")
    assert path.stat().st_size < 20 << 20
    spill = tmp_path / "spill"
    spill.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", _INFLATE, str(path), str(spill)], capture_output=True, text=True, check=True, timeout=600
    )
    installed_size, max_rss_kb = map(int, result.stdout.split())
    assert installed_size == size
    assert max_rss_kb < 256 * 1024, f"installing needed {max_rss_kb // 1024} MB of memory"


def test_a_wheel_with_undecodable_metadata_is_a_clear_error(tmp_path):
    wheel = make_wheel(tmp_path, "odd")
    with zipfile.ZipFile(wheel.path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["odd-1.0.dist-info/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: caf\xe9\n"
    with zipfile.ZipFile(wheel.path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(BuildError, match=r"cannot install odd-1.0-py3-none-any.whl: it is not a valid wheel \(Unicode"):
        install_wheels([wheel], VenvLayout(), PLATFORM, spill_dir=tmp_path)
