"""Native code is checked at build time: numpy on a base without libstdc++ fails ``package``,
naming the distribution, the file, the missing library and the Debian package to add (from
the archive's real Contents index); with it added, the image imports numpy."""

from __future__ import annotations

import shutil

import pytest
from oci_reading import image_outputs, lamina

pytestmark = pytest.mark.integration

BASE_BUILD = """debian_base(
    name="python3.11",
    packages=[{packages}],
    architectures=["amd64"],
    exclude=["openssl"],
)
"""
PACKAGES = '"base-files", "netbase", "tzdata", "ca-certificates", "python3.11-minimal", "libpython3.11-stdlib"'


def _repo(root):
    files = {
        "pants.toml": '[source]\nroot_patterns = ["src"]\n[python]\nenable_resolves = true\n'
        '[python.resolves]\npython-default = "3rdparty/python/default.lock"\n',
        "3rdparty/debian/BUILD": BASE_BUILD.format(packages=PACKAGES),
        "3rdparty/python/BUILD": "python_requirements(name='reqs')\n",
        "3rdparty/python/requirements.txt": "numpy>=2,<2.3\n",
        "src/numeric/BUILD": "python_sources(name='lib')\n"
        "python_image(name='numeric', entry_point='numeric.main:main', base='//3rdparty/debian:python3.11')\n",
        "src/numeric/__init__.py": "",
        "src/numeric/main.py": "import numpy\n\n\ndef main():\n    print(int(numpy.arange(4).sum()))\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_missing_shared_library_fails_the_build_with_the_package_that_ships_it(tmp_path, load_image, run_container):
    root = _repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    lamina("generate-lockfiles", cwd=root, cache=cache)
    failed = lamina("package", "::", cwd=root, cache=cache, check=False)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
    message = failed.stderr
    assert "src/numeric:numeric (at src/numeric/BUILD:2): the linux/amd64 image lacks shared libraries" in message
    assert (
        "numpy-2.2." in message and "_multiarray_umath.cpython-311-x86_64-linux-gnu.so needs libstdc++.so.6" in message
    )
    assert "(searched /opt/venv/lib/python3.11/site-packages/numpy" in message
    assert (
        "Add libstdc++6 to the packages of 3rdparty/debian:python3.11 (at 3rdparty/debian/BUILD:1), "
        "then run `lamina generate-lockfiles --resolve=3rdparty/debian:python3.11`" in message
    )
    assert not (root / "dist" / "src.numeric").exists()

    (root / "3rdparty/debian/BUILD").write_text(BASE_BUILD.format(packages=PACKAGES + ', "libstdc++6"'))
    lamina("generate-lockfiles", "--resolve=3rdparty/debian:python3.11", cwd=root, cache=cache)
    built = lamina("package", "--output=oci,tarball", "::", cwd=root, cache=cache)
    assert "src/numeric:numeric  sha256:" in built.stdout
    _, archive = image_outputs(root, "src/numeric", "numeric")
    result = run_container(load_image(archive))
    assert (result.exit_code, result.stdout.strip()) == (0, "6"), result.stderr
    shutil.rmtree(root / "dist")
