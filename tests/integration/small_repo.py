"""A small repository for the trust tests: one CLI image using a wheel (tabulate) and an sdist
(docopt), locked against a loopback package index, on the examples' Debian base as a
docker-archive. Real wheels and sdists, downloaded from PyPI once per session."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

# What the repository needs, and what building docopt's sdist in an isolated environment needs.
PACKAGES = ("tabulate==0.10.0", "docopt==0.6.2", "setuptools", "wheel", "packaging")  # docopt builds from its sdist
# A compiled build requirement (of tests/data/asking-sdist), for both architectures the tests build on.
COMPILED = ("markupsafe==3.0.4",)

MAIN = '''"""Usage: main.py NAME"""
from docopt import docopt
from tabulate import tabulate


def main() -> int:
    print(tabulate([[docopt(__doc__)["NAME"]]], headers=["hello"]))
    return 0
'''


def download_wheelhouse(directory: Path) -> Path:
    """The files of ``PACKAGES`` from PyPI, without the host's pip configuration."""
    directory.mkdir(parents=True, exist_ok=True)
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(directory)]
    compiled = ["--only-binary=:all:", "--python-version=3.11", *COMPILED]
    for arguments in (
        PACKAGES,
        ["--platform=manylinux2014_x86_64", *compiled],
        ["--platform=manylinux2014_aarch64", *compiled],
    ):
        subprocess.run(
            [*download, *arguments], env={**os.environ, "PIP_CONFIG_FILE": os.devnull}, check=True,
            capture_output=True, timeout=600,
        )  # fmt: skip
    return directory


def lock_text(wheelhouse: Path, names: tuple[str, ...] = ("tabulate", "docopt")) -> str:
    """A pip-tools style lock pinning ``names`` to the wheelhouse's files."""
    lines = []
    for path in sorted(wheelhouse.iterdir()):
        name, version = path.name.split("-")[:2]
        if name.lower() in names:
            version = version.removesuffix(".tar.gz")
            lines.append(f"{name}=={version} \\\n    --hash=sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}\n")
    return "".join(lines)


def make_repo(root: Path, *, index_url: str, base: Path, lock: str | None = None, extra_toml: str = "") -> Path:
    """Write the repository at ``root``; ``lock`` defaults to none (``generate-lockfiles`` makes it)."""
    files = {
        "pants.toml": (
            '[source]\nroot_patterns = ["src"]\n'
            '[python]\nenable_resolves = true\n[python.resolves]\npython-default = "3rdparty/python/default.lock"\n'
            f'[lamina]\nindex_urls = ["{index_url}"]\n'
            '[oci]\ndefault_base = "docker-archive:base.tar"\n' + extra_toml
        ),
        "3rdparty/python/BUILD": "python_requirements(name='reqs')\n",
        "3rdparty/python/requirements.txt": "tabulate\ndocopt\n",
        "src/app/BUILD": "python_sources()\npython_image(name='cli', entry_point='app.main:main', image_tags=['v1'])\n",
        "src/app/main.py": MAIN,
        "src/app/__init__.py": "",
    }
    if lock is not None:
        files["3rdparty/python/default.lock"] = lock
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    shutil.copyfile(base, root / "base.tar")
    return root


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path -> sha256), to compare outputs byte for byte."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def native_sdist(destination: Path, fixture: str = "native-sdist/hello_native-1.0") -> Path:
    """A source tree under ``tests/data`` (by default the C-extension fixture) as an sdist,
    with fixed names and times."""
    source = Path(__file__).resolve().parents[1] / "data" / fixture
    path = destination / f"{source.name}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for file in sorted(source.iterdir()):
            info = tarfile.TarInfo(f"{source.name}/{file.name}")
            data = file.read_bytes()
            info.size, info.mtime, info.mode = len(data), 315532800, 0o644
            archive.addfile(info, io.BytesIO(data))
    return path
