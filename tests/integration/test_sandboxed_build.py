"""A C-extension sdist built in a debian_base builder's root filesystem, in the sandbox: the
extension is native to the builder, the build cannot reach the network or write outside its
directory, and two builds at two paths give the same wheel bytes. The same interpreter
compiles a layer's bytecode, in shards, to the same bytes however many run at once."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import marshal
import posixpath
import shutil
import socket
import zipfile
from pathlib import Path

import pytest
from small_repo import native_sdist

from lamina.cache import Cache
from lamina.cache.image_trees import prepare_rootfs
from lamina.download import fetch_all
from lamina.project import load_project
from lamina.python import bytecode
from lamina.python.bytecode import Compiler, compile_entries
from lamina.python.index import PackageIndex
from lamina.python.install import Wheel
from lamina.python.lockfile import load_lockfile
from lamina.python.sandboxed_build import SandboxedBuild, build_in_sandbox
from lamina.sandbox import _bubblewrap_problem, image_tag
from lamina.tar import TarEntry
from lamina.transport import Transport

DATA = Path(__file__).resolve().parents[1] / "data"
LAMINA_LOCK = Path(__file__).resolve().parents[2] / "3rdparty/python/requirements.lock"
PYTHON = "/usr/bin/python3.11"  # the builder's interpreter


@pytest.fixture(scope="module")
def builders(tmp_path_factory) -> dict[str, Path]:
    """The builder's root filesystem per architecture, unpacked from the debian_base's images."""
    root = tmp_path_factory.mktemp("builder") / "repo"
    shutil.copytree(DATA / "builder", root)
    project = load_project(root, tmp_path_factory.mktemp("builder-cache"))
    target = project.graph.address_of("3rdparty/debian:builder")
    images = project.registry.base_builders[target.alias](target, project.context)
    return {
        i.platform.architecture: prepare_rootfs(i, tmp_path_factory.mktemp(i.platform.architecture)) for i in images
    }


@pytest.fixture(scope="module")
def build_wheels(tmp_path_factory) -> list[Wheel]:
    """setuptools and wheel as lamina's own lock pins them, downloaded and hash-checked."""
    lock = load_lockfile(LAMINA_LOCK)
    index = PackageIndex(["https://pypi.org/simple"], Transport())
    files = []
    for name in ("setuptools", "wheel"):
        hashes = {a.sha256 for a in lock.get(name).artifacts}
        files += [f for f in index.files(name) if f.sha256 in hashes and f.filename.endswith("-none-any.whl")][:1]
    paths = fetch_all(files, Cache(tmp_path_factory.mktemp("wheels")).blobs, index.transport)
    return [Wheel(f.filename, paths[f.sha256]) for f in files]


@pytest.mark.integration
def test_a_c_extension_builds_in_the_sandbox_reproducibly(builders, build_wheels, tmp_path):
    builder = builders["amd64"]
    sdist = native_sdist(tmp_path)
    outside = tmp_path / "host-file.txt"
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        probes = {"HELLO_NATIVE_PROBE_PORT": str(server.getsockname()[1]), "HELLO_NATIVE_PROBE_PATH": str(outside)}
        build = SandboxedBuild(builder, PYTHON, build_wheels, _empty(tmp_path / "one"), environment=probes)
        first = build_in_sandbox(sdist, sdist.name, build)
    assert "probe: no network" in first.log and "probe: write refused" in first.log, first.log
    assert not outside.exists()
    assert first.path.name == "hello_native-1.0-cp311-cp311-linux_x86_64.whl"
    assert wheel_machine(first.path) == {"x86_64"}
    second = build_in_sandbox(
        sdist, sdist.name, SandboxedBuild(builder, PYTHON, build_wheels, _empty(tmp_path / "elsewhere" / "two"))
    )
    assert hashlib.sha256(first.path.read_bytes()).digest() == hashlib.sha256(second.path.read_bytes()).digest()
    unpacked = _empty(tmp_path / "installed")
    shutil.unpack_archive(first.path, unpacked, format="zip")
    spec = importlib.util.spec_from_file_location("hello_native", next(unpacked.glob("hello_native*.so")))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.greet("lamina") == "Hello, lamina, from C!"


@pytest.mark.integration
def test_without_namespaces_the_same_build_runs_in_the_docker_engine(
    builders, build_wheels, tmp_path, monkeypatch, docker_client
):
    """Where bubblewrap cannot run (here: not on PATH), ``auto`` builds in a container of the
    local engine: still no network, nothing written outside, and the same wheel bytes."""
    sdist = native_sdist(tmp_path)
    reference = build_in_sandbox(
        sdist, sdist.name, SandboxedBuild(builders["amd64"], PYTHON, build_wheels, _empty(tmp_path / "bwrap"))
    )
    outside = tmp_path / "host-file.txt"
    monkeypatch.setenv("PATH", "/nonexistent")
    _bubblewrap_problem.cache_clear()
    try:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            probes = {"HELLO_NATIVE_PROBE_PORT": str(server.getsockname()[1]), "HELLO_NATIVE_PROBE_PATH": str(outside)}
            build = SandboxedBuild(builders["amd64"], PYTHON, build_wheels, _empty(tmp_path / "docker"), probes)
            in_docker = build_in_sandbox(sdist, sdist.name, build)
    finally:
        _bubblewrap_problem.cache_clear()
    assert "probe: no network" in in_docker.log and "probe: write refused" in in_docker.log, in_docker.log
    assert not outside.exists()
    assert in_docker.path.name == reference.path.name
    docker_client.images.remove(image_tag(builders["amd64"]))  # the builder, imported once: it ran there
    assert hashlib.sha256(in_docker.path.read_bytes()).digest() == hashlib.sha256(reference.path.read_bytes()).digest()


def _empty(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


@pytest.mark.integration
def test_an_arm64_extension_builds_under_emulation(builders, build_wheels, tmp_path):
    sdist = native_sdist(tmp_path)
    built = build_in_sandbox(
        sdist, sdist.name, SandboxedBuild(builders["arm64"], PYTHON, build_wheels, _empty(tmp_path / "arm64"))
    )
    assert built.path.name == "hello_native-1.0-cp311-cp311-linux_aarch64.whl"
    assert wheel_machine(built.path) == {"aarch64"}


def wheel_machine(wheel: Path) -> set[str]:
    """The ELF machines (``x86_64``, ``aarch64``) of the native files a wheel holds."""
    machines = {62: "x86_64", 183: "aarch64"}
    found = set()
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if posixpath.basename(info.filename).endswith(".so") or ".so." in info.filename:
                head = archive.open(info).read(20)
                if head[:4] == b"\x7fELF":
                    found.add(machines.get(int.from_bytes(head[18:20], "little"), "other"))
    return found


@pytest.mark.integration
def test_bytecode_compiled_in_shards_has_the_same_bytes_however_many_compile_at_once(builders, tmp_path, monkeypatch):
    monkeypatch.setattr(bytecode, "SHARD_BYTES", 4000)  # a small layer of many shards
    site = "opt/venv/lib/python3.11/site-packages/pkg"
    sources = [
        TarEntry.file(f"/{site}/m{i:02d}.py", f"NAMES = {[f'name_{i}_{j}' for j in range(120)]!r}\n".encode())
        for i in range(24)
    ]
    sources.append(TarEntry.file(f"/{site}/py2.py", b"print 'Python 2 test data'\n"))  # compiles nowhere
    assert len(bytecode._shards(sorted(sources, key=lambda e: e.path))) >= 4
    compiler = Compiler(lambda: builders["amd64"], PYTHON, "3.11", "builder")
    compiled = {}
    for workers in (1, 3):
        scratch = tmp_path / f"workers-{workers}"
        scratch.mkdir()
        entries = compile_entries(sources, dataclasses.replace(compiler, workers=workers), scratch)
        compiled[workers] = {entry.path: entry.read() for entry in entries}
    assert compiled[1] == compiled[3]
    assert sorted(compiled[1]) == [f"{site}/__pycache__/m{i:02d}.cpython-311.pyc" for i in range(24)]
    code = marshal.loads(compiled[1][f"{site}/__pycache__/m07.cpython-311.pyc"][16:])
    assert code.co_filename == f"/{site}/m07.py"
