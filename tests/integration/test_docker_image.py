"""``docker_image`` targets of real Pants repositories, built by lamina: without a daemon when
no stage they need runs commands, through the Docker engine or buildah when one does.

The repositories are copies of ``../shared/pants-corpus`` whose ``FROM`` lines name the
Python images the loopback mirror holds (Debian's CPython 3.9 for their 3.8 and 3.9,
and for ``alpine``, a small image with a shell): these machines reach no public registry.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import requests
from corpus import corpus_copy, rewrite, use_mirror
from oci_reading import image_outputs, lamina

pytestmark = pytest.mark.integration

ALPINE = "alpine@sha256:21a3deaa0d32a8057914f36584b5288d2e5ecc984380bc0118285c70fa8c9300"
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}  # any use of an engine fails
# Files the engine adds to every container, whoever built its image.
CONTAINER_FILES = {"etc/hostname", "etc/hosts", "etc/resolv.conf", ".dockerenv", "dev", "proc", "sys", "etc/mtab"}


@pytest.fixture(scope="module")
def example_docker(tmp_path_factory, python_mirror) -> Path:
    repo = corpus_copy("pantsbuild+example-docker", tmp_path_factory.mktemp("example-docker") / "repo")
    use_mirror(repo, python_mirror.address)
    rewrite(repo / "pants.toml", '["==3.8.*"]', '["==3.9.*"]')
    for dockerfile in ("hello_world/Dockerfile.python", "multiplatform/Dockerfile.base"):
        rewrite(repo / "src/docker" / dockerfile, "FROM python:3.8", "FROM python:3.9")
    rewrite(repo / "src/docker/dynamic_tags/BUILD", '"FROM python:3.8"', '"FROM python:3.9"')
    for dockerfile in ("hello_world/Dockerfile.shell", "hello_world/Dockerfile.codegen"):
        rewrite(repo / "src/docker" / dockerfile, f"FROM {ALPINE}", "FROM python:3.9-slim")
    return repo


def _copy(repo: Path, tmp_path: Path, config: str = "") -> Path:
    copy = Path(shutil.copytree(repo, tmp_path / "repo", ignore=shutil.ignore_patterns("dist")))
    with open(copy / "pants.toml", "a") as handle:
        handle.write(config)
    return copy


def _files(docker_client, image: str) -> dict[str, tuple]:
    """Every file of ``image`` as a container sees it: type, mode, owner, link target and content digest."""
    container = docker_client.containers.create(image, command=["true"], network_mode="none")
    try:
        data = b"".join(container.export())
    finally:
        container.remove(force=True)
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive:
            name = member.name.strip("/")
            if name.split("/")[0] in CONTAINER_FILES or name in CONTAINER_FILES:
                continue
            digest = hashlib.sha256(archive.extractfile(member).read()).hexdigest() if member.isfile() else ""
            found[name] = (member.type, member.mode, member.uid, member.gid, member.linkname, digest)
    return found


def test_images_without_run_are_built_daemonless_and_hold_what_docker_build_makes(
    example_docker, tmp_path, python_mirror, docker_client, load_image, run_container
):
    """Every docker_image of the repository without RUN: the pex one, the shell one (its script a
    dependency at its repository path) and the codegen one (a shell_command's output, context_root="./")."""
    repo = example_docker
    names = ("python", "shell", "codegen")
    lamina("generate-lockfiles", "--resolve=registry-bases", cwd=repo, cache=tmp_path / "cache")
    pins = json.loads((repo / "3rdparty/oci/bases.lock.json").read_text())["bases"]
    mirrored = docker_client.images.get_registry_data(f"{python_mirror.address}/library/python:3.9").id
    assert pins["index.docker.io/library/python:3.9"] == mirrored  # FROM python:3.9, pinned through the mirror
    images = [f"src/docker/hello_world:{name}" for name in names]
    built = lamina("package", "--output=oci,tarball", *images, cwd=repo, cache=tmp_path / "cache", env=NO_ENGINE)
    assert "not pinned" not in built.stderr
    lamina("package", "src/python/hello_world:main", cwd=repo, cache=tmp_path / "cache", env=NO_ENGINE)

    # docker build of the same Dockerfiles, on the same base, with the build context Pants would give it
    docker_client.images.pull(f"{python_mirror.address}/library/python", tag="3.9").tag("python", "3.9")
    docker_client.images.pull(f"{python_mirror.address}/library/python", tag="3.9-slim").tag("python", "3.9-slim")
    context = tmp_path / "context"
    shutil.copytree(repo / "dist/src.python.hello_world", context / "src.python.hello_world")
    shutil.copytree(repo / "src/shell", context / "src/shell")
    for path in (context / "src/shell").rglob("*.sh"):  # as Pants' context has them: 0755 or 0644
        path.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)
    (context / "msg.txt").write_text("Hello World!\n")  # what the shell_command writes
    for name in names:
        shutil.copy(repo / f"src/docker/hello_world/Dockerfile.{name}", context / f"Dockerfile.{name}")
        ours = load_image(image_outputs(repo, "src/docker/hello_world", name)[1])
        theirs, _ = docker_client.images.build(path=str(context), dockerfile=f"Dockerfile.{name}", pull=False, rm=True)
        try:
            assert _files(docker_client, ours) == _files(docker_client, theirs.id)
            for key in ("Entrypoint", "Cmd", "Env", "WorkingDir", "User"):
                assert docker_client.images.get(ours).attrs["Config"][key] == theirs.attrs["Config"][key], key
        finally:
            docker_client.images.remove(theirs.id, force=True)
        result = run_container(ours)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == "Hello World!"


def test_a_stage_with_run_is_built_by_the_docker_engine(example_docker, tmp_path, load_image, run_container):
    repo = example_docker
    final = "src/docker/multiplatform:multiplatform-final"  # FROM ${PARENT}, an ARG naming :multiplatform-base
    lamina("package", "--output=tarball", final, cwd=repo, cache=tmp_path / "cache")
    image = load_image(image_outputs(repo, "src/docker/multiplatform", "multiplatform-final")[1])
    result = run_container(image, entrypoint=["cat", "/base.txt", "/final.txt"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["base image", "final image"]


def test_a_stage_with_run_is_built_by_buildah(example_docker, tmp_path, load_image, run_container):
    repo = _copy(example_docker, tmp_path, '\n[lamina]\ncontainer_engine = "buildah"\n')
    base = "src/docker/multiplatform:multiplatform-base"
    lamina("package", "--output=tarball", base, cwd=repo, cache=tmp_path / "cache", env=NO_ENGINE)
    image = load_image(image_outputs(repo, "src/docker/multiplatform", "multiplatform-base")[1])
    result = run_container(image, entrypoint=["cat", "/base.txt"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "base image"


def test_run_without_an_engine_is_a_clear_error_naming_the_line(example_docker, tmp_path):
    repo = _copy(example_docker, tmp_path, '\n[lamina]\ncontainer_engine = "docker"\n')
    base = "src/docker/multiplatform:multiplatform-base"
    result = lamina("package", base, cwd=repo, cache=tmp_path / "cache", env=NO_ENGINE, check=False)
    assert result.returncode != 0
    assert "src/docker/multiplatform/Dockerfile.base:3: `RUN echo" in result.stderr
    assert "never emulates RUN" in result.stderr and "Traceback" not in result.stderr
    assert not (repo / "dist").exists()


def test_dagster_deps_and_srcs_pexes_make_one_image(tmp_path, python_mirror, docker_client, load_image, run_container):
    """The two-pex pattern: a pex of the third-party code and one of the first-party code, each
    turned into a venv by RUN in its own image, both copied into the final one."""
    repo = corpus_copy("JasperHG90+dagster-dags", tmp_path / "dagster-dags")
    use_mirror(repo, python_mirror.address)
    try:
        lamina(
            "package", "--output=tarball", "dags/luchtmeetnet_ingestion:img", cwd=repo, cache=tmp_path / "cache",
            env={"VERSION": "1.0"},
        )  # fmt: skip
        assert not (repo / "dist/dags.luchtmeetnet_ingestion/binary-deps.pex").exists()  # made for the images only
        with open(image_outputs(repo, "dags/luchtmeetnet_ingestion", "img")[1], "rb") as archive:
            loaded = docker_client.images.load(
                archive
            )  # one image, under its two tags (latest and {build_args.VERSION})
        assert {tag.rsplit(":", 1)[1] for i in loaded for tag in i.tags} == {"latest", "1.0"}
        image = load_image(image_outputs(repo, "dags/luchtmeetnet_ingestion", "img")[1])
        version = run_container(image, ["dagster", "--version"])
        assert version.exit_code == 0, version.stderr
        assert "version 1.6.5" in version.stdout
        code = "import luchtmeetnet_ingestion, dagster; print(dagster.__version__)"
        imported = run_container(image, ["/bin/app/bin/python", "-c", code])
        assert imported.exit_code == 0, imported.stderr
        assert imported.stdout.strip() == "1.6.5"
    finally:  # about 3 GB in the engine's vfs store: not kept for the rest of the suite
        for found in docker_client.images.list():
            if any("luchtmeetnet_ingestion" in tag for tag in found.tags):
                for tag in found.tags:
                    docker_client.images.remove(tag, force=True, noprune=False)


def test_publish_pushes_to_each_registry_named_and_never_a_skip_push_image(tmp_path, registry, python_mirror):
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "pants.toml").write_text(
        f'[docker.registries.one]\naddress = "{registry.address}"\n'
        f'[docker.registries.two]\naddress = "{python_mirror.address}"\nextra_image_tags = ["ci"]\n'
    )
    (repo / "app/data.txt").write_text("data\n")
    (repo / "app/BUILD").write_text(
        'files(name="data", sources=["data.txt"])\n'
        'docker_image(name="img", repository="team/img", registries=["@one", "@two"], image_tags=["1.0"], '
        'instructions=["FROM scratch", "COPY app/data.txt /data.txt"], dependencies=[":data"])\n'
        'docker_image(name="private", registries=["@one"], skip_push=True, instructions=["FROM scratch"])\n'
    )
    result = lamina("publish", "app::", cwd=repo, cache=tmp_path / "cache")
    assert "app:private  not pushed (skip_push)" in result.stderr

    def tags(address: str, repository: str) -> set[str] | None:
        answer = requests.get(f"http://{address}/v2/{repository}/tags/list", timeout=10)
        return set(answer.json()["tags"]) if answer.status_code == 200 else None

    assert tags(registry.address, "team/img") == {"1.0"}
    assert tags(python_mirror.address, "team/img") == {"1.0", "ci"}
    assert tags(registry.address, "private") is None
