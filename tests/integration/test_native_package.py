"""``package`` builds a C-extension sdist in the image's builder (a debian_base with a
compiler), sandboxed, with build requirements from the build lock ``generate-lockfiles``
wrote: the image imports the extension and runs, carries no compiler, a second ``package``
compiles nothing, and two clean caches at two paths give the same image digest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from index_server import IndexServer
from oci_reading import image_outputs, lamina, layer_names, manifest, top_descriptor
from small_repo import download_wheelhouse, native_sdist

BUILDER = Path(__file__).resolve().parents[1] / "data" / "builder" / "3rdparty" / "debian"
MAIN = 'import hello_native\n\n\ndef main():\n    print(hello_native.greet("image"))\n'


def _repo(root: Path, index_url: str, base: Path) -> Path:
    files = {
        "pants.toml": (
            '[source]\nroot_patterns = ["src"]\n'
            '[python]\nenable_resolves = true\nbuilder = "//3rdparty/debian:builder"\n'
            f'[lamina]\nindex_urls = ["{index_url}"]\n[oci]\ndefault_base = "docker-archive:base.tar"\n'
        ),
        "3rdparty/python/BUILD": "python_requirements(name='reqs')\n",
        "3rdparty/python/requirements.txt": "hello-native\n",
        "src/app/BUILD": "python_sources()\npython_image(name='img', entry_point='app.main:main')\n",
        "src/app/main.py": MAIN,
        "src/app/__init__.py": "",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    shutil.copytree(BUILDER, root / "3rdparty/debian")
    shutil.copyfile(base, root / "base.tar")
    return root


@pytest.mark.integration
def test_a_native_sdist_is_built_in_the_builder_and_runs(tmp_path, python_base, load_image, run_container):
    files = download_wheelhouse(tmp_path / "files")  # setuptools, wheel, packaging: the build requirements
    native_sdist(files)
    server = IndexServer(files).start()
    try:
        root = _repo(tmp_path / "one" / "repo", server.url, python_base)
        locked = lamina("generate-lockfiles", "--resolve=python-default", cwd=root, cache=tmp_path / "c1")
        assert "build requirements of hello_native-1.0.tar.gz" in locked.stdout
        first = lamina("-v", "package", "src/app:img", cwd=root, cache=tmp_path / "c1")
        assert "building hello_native-1.0.tar.gz in 3rdparty/debian:builder" in first.stderr
        again = lamina("-v", "package", "src/app:img", cwd=root, cache=tmp_path / "c1")
        assert "building hello_native" not in again.stderr  # a second package compiles nothing
        other = tmp_path / "two" / "elsewhere"
        shutil.copytree(root, other, ignore=shutil.ignore_patterns("dist"))
        lamina("package", "src/app:img", cwd=other, cache=tmp_path / "c2")
    finally:
        server.stop()
    layout, archive = image_outputs(root, "src/app", "img")
    assert top_descriptor(layout) == top_descriptor(image_outputs(other, "src/app", "img")[0])
    result = run_container(load_image(archive))
    assert (result.exit_code, result.stdout.strip()) == (0, "Hello, image, from C!"), result.stderr
    shipped = [name for layer in manifest(layout)["layers"] for name in layer_names(layout, layer["digest"])]
    assert any(name.endswith(".so") and "hello_native" in name for name in shipped)
    assert not any(name.endswith(("/gcc", "/cc", "Python.h")) or "/include/" in name for name in shipped)
