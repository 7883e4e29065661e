"""Read an image out of a running Docker engine (``docker-daemon:NAME:TAG``)."""

from __future__ import annotations

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
    """The image ``reference`` names in the engine, saved once per image ID and cached."""
    import docker.errors

    engine = client()
    try:
        found = engine.images.get(reference)
    except docker.errors.ImageNotFound:
        raise ImageError(f"the Docker engine has no image {reference!r}") from None
    with cache.tempdir() as scratch:
        key = action_key("docker-daemon-save", 1, {"id": found.id})
        archive = scratch / "image.tar"
        saved = cache.actions.get(key)
        if saved is not None and cache.blobs.has(saved["digest"]):
            return docker_archive.read(cache.blobs.path(saved["digest"]), cache)
        with open(archive, "wb") as handle:
            for chunk in found.save(named=False):
                handle.write(chunk)
        digest = cache.blobs.put_file(archive)
    cache.actions.put(key, {"digest": digest})
    return docker_archive.read(cache.blobs.path(digest), cache)
