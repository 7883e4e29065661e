"""lamina works as users install it: the wheel and the sdist carry every file lamina reads
at run time, and the lamina these integration tests run (in CI, the wheel installed in a
fresh venv by build_support/install_wheel.sh) finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from oci_reading import REPO_ROOT, lamina_command

pytestmark = pytest.mark.integration

PACKAGE = REPO_ROOT / "src" / "lamina"


def _package_files() -> set[str]:
    """Every file of the lamina package in the checkout (byte code aside), package-relative."""
    return {
        str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_wheel_and_the_sdist_carry_every_file_of_the_package(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(REPO_ROOT)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("lamina-*.whl")
    (sdist,) = tmp_path.glob("lamina-*.tar.gz")
    expected = _package_files()
    assert "lamina/debian/keyrings/debian-archive-keyring.pgp" in expected
    with zipfile.ZipFile(wheel) as archive:
        assert expected <= set(archive.namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/src/", 1)[1] for name in archive.getnames() if "/src/lamina/" in name}
    assert expected <= in_sdist


def test_the_lamina_under_test_finds_everything_it_reads_at_run_time():
    command = lamina_command()
    interpreter = str(Path(command[0]).parent / "python") if len(command) == 1 else command[0]
    probe = (
        "import importlib.resources, lamina; "
        "print(lamina.__file__); "
        "print(importlib.resources.files('lamina.debian').joinpath('keyrings/debian-archive-keyring.pgp').is_file())"
    )
    location, found = subprocess.run(
        [interpreter, "-c", probe], capture_output=True, text=True, check=True, cwd="/"
    ).stdout.split()
    assert found == "True"
    if os.environ.get("LAMINA_UNDER_TEST"):  # CI: the installed wheel, not this checkout
        assert not Path(location).is_relative_to(REPO_ROOT / "src"), location
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("lamina ")
