"""Fixtures for the integration tests: a real Docker engine, the examples' Debian base, and
helpers that load image archives and run containers, always cleaning up afterwards.

The engine is required, never optional: when none answers the tests fail and say how to
start one (``build_support/start_docker.sh``), so CI cannot pass by silently skipping.
The engine is shared by the pytest-xdist workers, so tests refer to loaded images only
through tags unique to them and never remove an image another worker may be using.
"""

from __future__ import annotations

import gc
import shutil
import socket
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import pytest
import requests
from docker.models.containers import Container
from index_server import IndexServer
from oci_reading import BASE, copy_examples, image_outputs, lamina
from postgres_server import PostgresServer
from registry_server import RegistryServer
from small_repo import download_wheelhouse


@dataclass(frozen=True)
class ContainerRun:
    """What a container that ran to completion left behind."""

    exit_code: int
    stdout: str
    stderr: str


LoadImage = Callable[[Path], str]
RunContainer = Callable[..., ContainerRun]
ServeContainer = Callable[..., AbstractContextManager[str]]


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of the machine's Docker engine; fails the test when no engine answers."""
    problem = ""
    try:
        client = docker.from_env(timeout=300)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        problem = str(error)
    if problem:
        _collect_leaked_sockets()
        pytest.fail(
            f"no Docker engine answers ({problem}); start one with build_support/start_docker.sh",
            pytrace=False,
        )
    yield client
    client.close()


def _collect_leaked_sockets() -> None:
    """docker-py leaves the socket of a failed connection open; collect it now, quietly,
    so that the clear failure is not buried under an unraisable ResourceWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture(scope="session")
def python_base(tmp_path_factory) -> Path:
    """The examples' Debian base (bookworm, CPython 3.11) packaged once from its committed
    lock, as the docker-archive tarball ``package`` writes (``docker load`` gets amd64)."""
    root = copy_examples(tmp_path_factory.mktemp("base") / "examples")
    lamina("package", ":".join(BASE), cwd=root, cache=tmp_path_factory.mktemp("base-cache"))
    return image_outputs(root, *BASE)[1]


@pytest.fixture(scope="session")
def load_image(docker_client: docker.DockerClient) -> Iterator[LoadImage]:
    """``load_image(archive) -> reference``: ``docker load`` a one-image docker-archive and
    return a tag unique to this call; the tags are removed when the session ends (which
    deletes the image only when no other tag, e.g. another worker's, still names it)."""
    unique_tags: list[str] = []

    def load(archive: Path) -> str:
        with archive.open("rb") as stream:
            images = list({image.id: image for image in docker_client.images.load(stream)}.values())  # one per tag
        if len(images) != 1:
            pytest.fail(f"{archive} holds {len(images)} images, expected one", pytrace=False)
        unique_tag = f"lamina-tests/loaded:{uuid.uuid4().hex}"
        images[0].tag(unique_tag)
        unique_tags.append(unique_tag)
        return unique_tag

    yield load
    for unique_tag in unique_tags:
        try:
            docker_client.images.remove(unique_tag)
        except docker.errors.ImageNotFound:
            pass


@pytest.fixture
def _containers(docker_client: docker.DockerClient) -> Iterator[list[Container]]:
    """Containers a test started; whatever is still there at teardown is force-removed."""
    started: list[Container] = []
    yield started
    for container in started:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass


@pytest.fixture
def run_container(docker_client: docker.DockerClient, _containers: list[Container]) -> RunContainer:
    """``run_container(image, args=(), *, environment=None, entrypoint=None, network="none",
    timeout=120.0, read_only=False) -> ContainerRun``: like ``docker run --rm --network none IMAGE ARGS...``
    (``--read-only`` with ``read_only``),
    returning the exit code and the captured stdout and stderr."""

    def run(
        image: str,
        args: Sequence[str] = (),
        *,
        environment: Mapping[str, str] | None = None,
        entrypoint: Sequence[str] | None = None,
        network: str = "none",
        timeout: float = 120.0,
        read_only: bool = False,
    ) -> ContainerRun:
        container = docker_client.containers.create(
            image,
            command=list(args),
            entrypoint=list(entrypoint) if entrypoint is not None else None,
            environment=dict(environment or {}),
            network_mode=network,
            read_only=read_only,
        )
        _containers.append(container)
        container.start()
        try:
            status = container.wait(timeout=timeout)
        except requests.exceptions.RequestException:
            pytest.fail(f"{image} {list(args)} still running after {timeout:.0f} s", pytrace=False)
        result = ContainerRun(
            exit_code=status["StatusCode"],
            stdout=container.logs(stdout=True, stderr=False).decode(),
            stderr=container.logs(stdout=False, stderr=True).decode(),
        )
        container.remove(force=True)
        _containers.remove(container)
        return result

    return run


@pytest.fixture
def serve_container(docker_client: docker.DockerClient, _containers: list[Container]) -> ServeContainer:
    """``with serve_container(image, args=(), *, entrypoint=None, health_path="/health",
    environment=None, timeout=60.0) as url:`` runs a server image on the host network, bound to a free
    loopback port passed as ``$PORT`` (and ``$HOST=127.0.0.1``), and yields its base URL
    once ``health_path`` answers 200. The container is removed on exit."""

    @contextmanager
    def serve(
        image: str,
        args: Sequence[str] = (),
        *,
        entrypoint: Sequence[str] | None = None,
        health_path: str = "/health",
        environment: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> Iterator[str]:
        port = _free_loopback_port()
        container = docker_client.containers.create(
            image,
            command=list(args),
            entrypoint=list(entrypoint) if entrypoint is not None else None,
            environment={**(environment or {}), "HOST": "127.0.0.1", "PORT": str(port)},
            network_mode="host",
        )
        _containers.append(container)
        container.start()
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(container, url + health_path, timeout)
            yield url
        finally:
            container.remove(force=True)
            _containers.remove(container)

    return serve


def _wait_until_healthy(container: Container, health_url: str, timeout: float) -> None:
    """Poll ``health_url`` until it answers 200; fail with the container's logs if it
    exits or does not answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(health_url, timeout=2).status_code == 200:
                return
        except requests.exceptions.ConnectionError:
            pass
        container.reload()
        if container.status == "exited":
            break
        time.sleep(0.2)
    logs = container.logs().decode(errors="replace")
    pytest.fail(
        f"{container.image.tags or container.image.id} did not answer {health_url} "
        f"(status {container.status}); logs:\n{logs}",
        pytrace=False,
    )


def _free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def registry(tmp_path) -> Iterator[RegistryServer]:
    """A plain-HTTP registry on a loopback port, stopped (by pid) at the end of the test."""
    server = RegistryServer(tmp_path / "registry")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def secure_registry(tmp_path) -> Iterator[RegistryServer]:
    """A registry behind TLS (a self-signed certificate) with one htpasswd user, ``ci``."""
    server = RegistryServer(tmp_path / "secure-registry", users={"ci": "s3cret-pass-9f2"})
    server.start()
    yield server
    server.stop()


PYTHON_IMAGES = Path(__file__).resolve().parents[1] / "data" / "python-images"


@pytest.fixture(scope="session")
def python_mirror(tmp_path_factory) -> Iterator[RegistryServer]:
    """A loopback registry that serves as Docker Hub's mirror, holding ``library/python`` 3.9,
    3.11 and 3.13 (and ``-slim``): built by lamina from Debian packages (tests/data/python-images)
    and pushed there with ``lamina publish``. Stopped (by pid) when the session ends."""
    root = tmp_path_factory.mktemp("python-mirror")
    server = RegistryServer(root / "registry")
    server.start()
    repo = Path(shutil.copytree(PYTHON_IMAGES, root / "python-images", ignore=shutil.ignore_patterns("dist")))
    with open(repo / "pants.toml", "a") as config:
        config.write(f'\n[docker.registries.mirror]\naddress = "{server.address}"\ndefault = true\n')
    lamina("publish", ":python-3.9", ":python-3.11", ":python-3.13", cwd=repo, cache=root / "cache")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server on a loopback port with one password-protected role, stopped (by pid) afterwards."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Iterator[IndexServer]:
    """A package index on loopback serving small_repo's wheelhouse (real files from PyPI)."""
    server = IndexServer(download_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))).start()
    yield server
    server.stop()
