"""Read an image out of a running Docker engine (``docker-daemon:NAME:TAG``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lamina.cache import Cache, action_key
from lamina.engine import client
from lamina.errors import ImageError
from lamina.oci import Image
from lamina.sources import docker_archive


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
