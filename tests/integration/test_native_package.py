"""``package`` builds a C-extension sdist in the image's builder (a debian_base with a
compiler), sandboxed, with build requirements from the build lock ``generate-lockfiles``
wrote: the image imports the extension and runs, carries no compiler, a second ``package``
compiles nothing, two clean caches at two paths give the same image digest, and a fresh
cache with the remote cache compiles nothing."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest
from index_server import IndexServer
from oci_reading import blob, image_outputs, lamina, layer_names, manifest, top_descriptor, venv_layers
from small_repo import download_wheelhouse, native_sdist

BUILDER = Path(__file__).resolve().parents[1] / "data" / "builder" / "3rdparty" / "debian"
EXAMPLES_DEBIAN = Path(__file__).resolve().parents[2] / "examples" / "3rdparty" / "debian"
MAIN = 'import hello_asking\nimport hello_native\n\n\ndef main():\n    print(hello_native.greet("image"), hello_asking.asked())\n'


@pytest.fixture(scope="module")
def native_index(tmp_path_factory):
    """A package index on loopback with the C-extension sdist and its build requirements."""
    files = download_wheelhouse(tmp_path_factory.mktemp("files"))  # setuptools, wheel, packaging among them
    native_sdist(files)
    native_sdist(files, "asking-sdist/hello_asking-1.0")  # its backend asks for tabulate and markupsafe to build
    server = IndexServer(files).start()
    yield server.url
    server.stop()


def _repo(root: Path, index_url: str, base: Path, builder: str = "builder", remote_cache: str = "") -> Path:
    files = {
        "pants.toml": (
            '[source]\nroot_patterns = ["src"]\n'
            f'[python]\nenable_resolves = true\nbuilder = "//3rdparty/debian:{builder}"\n'
            f'[lamina]\nindex_urls = ["{index_url}"]\n'
            + (f'remote_cache = "{remote_cache}"\n' if remote_cache else "")
            + '[oci]\ndefault_base = "docker-archive:base.tar"\n'
        ),
        "3rdparty/python/BUILD": "python_requirements(name='reqs')\n",
        "3rdparty/python/requirements.txt": "hello-native\nhello-asking\n",
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
def test_a_native_sdist_is_built_in_the_builder_and_runs(
    native_index, tmp_path, python_base, load_image, run_container, registry
):
    root = _repo(tmp_path / "one" / "repo", native_index, python_base)
    shared = _repo(tmp_path / "three" / "repo", native_index, python_base, remote_cache=f"{registry.address}/cache")
    (root / "pants.toml").write_text((shared / "pants.toml").read_text())  # the first machine shares what it builds
    locked = lamina("generate-lockfiles", "--resolve=python-default", cwd=root, cache=tmp_path / "c1")
    assert "build requirements of hello_asking-1.0.tar.gz, hello_native-1.0.tar.gz" in locked.stdout
    build_lock = (root / "3rdparty/python/default.build.lock").read_text()
    assert "\ntabulate==" in build_lock and "\nmarkupsafe==" in build_lock  # what the backend asked for, in the builder
    first = lamina("-v", "package", "--output=oci,tarball", "src/app:img", cwd=root, cache=tmp_path / "c1")
    assert "building hello_native-1.0.tar.gz in 3rdparty/debian:builder" in first.stderr
    again = lamina("-v", "package", "src/app:img", cwd=root, cache=tmp_path / "c1")
    assert "building hello_native" not in again.stderr  # a second package compiles nothing
    other = tmp_path / "two" / "elsewhere"
    shutil.copytree(root, other, ignore=shutil.ignore_patterns("dist"))
    (other / "pants.toml").write_text((other / "pants.toml").read_text().replace("remote_cache", "# remote_cache"))
    lamina("package", "src/app:img", cwd=other, cache=tmp_path / "c2")  # a clean cache, nothing shared
    shutil.copy2(root / "3rdparty/python/default.lock", shared / "3rdparty/python/default.lock")
    shutil.copy2(root / "3rdparty/python/default.build.lock", shared / "3rdparty/python/default.build.lock")
    fresh = lamina("-v", "package", "src/app:img", cwd=shared, cache=tmp_path / "c3")
    assert "building hello_native" not in fresh.stderr  # a fresh machine takes the wheel from the remote cache
    layout, archive = image_outputs(root, "src/app", "img")
    assert top_descriptor(layout) == top_descriptor(image_outputs(other, "src/app", "img")[0])
    result = run_container(load_image(archive))
    expected = "Hello, image, from C! built with what the backend asked for"
    assert (result.exit_code, result.stdout.strip()) == (0, expected), result.stderr
    shipped = [name for layer in manifest(layout)["layers"] for name in layer_names(layout, layer["digest"])]
    assert any(name.endswith(".so") and "hello_native" in name for name in shipped)
    assert not any(name.endswith(("/gcc", "/cc", "Python.h")) or "/include/" in name for name in shipped)


@pytest.mark.integration
def test_a_missing_build_lock_and_a_mismatched_builder_are_clear_errors(native_index, tmp_path, python_base):
    root = _repo(tmp_path / "repo", native_index, python_base)
    lamina("generate-lockfiles", "--resolve=python-default", cwd=root, cache=tmp_path / "cache")
    build_lock = root / "3rdparty/python/default.build.lock"
    trixie = _repo(tmp_path / "trixie", native_index, python_base, builder="trixie-python")
    for lock in ("default.lock", "default.build.lock"):
        shutil.copy2(root / "3rdparty/python" / lock, trixie / "3rdparty/python" / lock)
    kept, skipping = [], False
    for line in build_lock.read_text().splitlines(keepends=True):
        skipping = line.startswith("tabulate==") or (skipping and line[:1].isspace())
        kept.append("" if skipping else line)
    build_lock.write_text("".join(kept))  # stale: without what hello_asking's backend asks for
    stale = lamina("package", "src/app:img", cwd=root, cache=tmp_path / "cache", check=False)
    assert stale.returncode == 1
    assert (
        "default.build.lock does not pin tabulate>=0.9, which hello_asking-1.0.tar.gz needs to build; "
        "run `lamina generate-lockfiles --resolve=python-default`" in stale.stderr
    ), stale.stderr
    build_lock.unlink()
    missing = lamina("package", "src/app:img", cwd=root, cache=tmp_path / "cache", check=False)
    assert missing.returncode == 1
    assert "hello_asking-1.0.tar.gz must be built, but resolve 'python-default' has no build lock" in missing.stderr
    assert "run `lamina generate-lockfiles --resolve=python-default`" in missing.stderr
    for goal in ("package", "generate-lockfiles"):  # at lock time too: the builder is asked what to lock
        mismatch = lamina(goal, "src/app:img" if goal == "package" else "--resolve=python-default", cwd=trixie,
                          cache=tmp_path / "cache", check=False)  # fmt: skip
        assert mismatch.returncode == 1
        assert "the builder 3rdparty/debian:trixie-python runs CPython 3.13" in mismatch.stderr
        assert "but the image runs CPython 3.11" in mismatch.stderr


@pytest.mark.integration
def test_the_arm64_image_carries_an_aarch64_extension_built_under_emulation(native_index, tmp_path, python_base):
    root = _repo(tmp_path / "repo", native_index, python_base)
    debian = root / "3rdparty/debian"
    examples = (EXAMPLES_DEBIAN / "BUILD").read_text()
    runtime = examples[examples.index('debian_base(\n    name="python3.11",') :].split("\n)\n")[0] + "\n)\n"
    (debian / "BUILD").write_text((debian / "BUILD").read_text() + runtime)
    shutil.copy2(EXAMPLES_DEBIAN / "python3.11.lock.json", debian)  # the examples' amd64+arm64 runtime base
    config = (root / "pants.toml").read_text().replace("docker-archive:base.tar", "//3rdparty/debian:python3.11")
    (root / "pants.toml").write_text(config)
    lamina("generate-lockfiles", "--resolve=python-default", cwd=root, cache=tmp_path / "cache")
    lamina("package", "src/app:img", cwd=root, cache=tmp_path / "cache")
    layout = image_outputs(root, "src/app", "img")[0]
    machines = {}
    for architecture in ("amd64", "arm64"):
        (third_party,) = [
            layer
            for layer in venv_layers(layout, architecture)
            if any("hello_native" in name for name in layer_names(layout, layer["digest"]))
        ]
        with tarfile.open(blob(layout, third_party["digest"])) as archive:
            (member,) = [m for m in archive.getmembers() if m.name.endswith(".so") and "hello_native" in m.name]
            header = archive.extractfile(member).read(20)
        machines[architecture] = int.from_bytes(header[18:20], "little")
    assert machines == {"amd64": 62, "arm64": 183}  # ELF e_machine: EM_X86_64, EM_AARCH64
