"""Read an image out of a running Docker engine (``docker-daemon:NAME:TAG``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lamina.cache import Cache, action_key
from lamina.errors import EngineError, ImageError
from lamina.oci import Image
from lamina.sources import docker_archive


def client():
    """A docker SDK client of the engine the environment names; a clear error when none answers."""
    import docker
    import docker.errors
    import requests

    try:
        engine = docker.from_env(timeout=600)
        engine.ping()
        return engine
    except (docker.errors.DockerException, requests.RequestException) as err:
        raise EngineError(f"no Docker engine answered ({err}); start one, or use a base that needs none") from err


def read(reference: str, cache: Cache) -> Image:
    """The image ``reference`` names in the engine, saved and imported once per image ID."""
    import docker.errors

    engine = client()
    try:
        found = engine.images.get(reference)
    except docker.errors.ImageNotFound:
        raise ImageError(f"the Docker engine has no image {reference!r}") from None

    @contextmanager
    def saved() -> Iterator[Path]:
        with cache.tempdir() as scratch:
            archive = scratch / "image.tar"
            with open(archive, "wb") as handle:
                handle.writelines(found.save(named=False))
            yield archive

    return docker_archive.read_cached(action_key("docker-daemon-import", 1, {"id": found.id}), cache, saved)
