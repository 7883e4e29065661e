"""Load an image into a running Docker engine through the docker SDK."""

from __future__ import annotations

from lamina.cache import Cache
from lamina.engine import client
from lamina.errors import EngineError
from lamina.oci import Image
from lamina.oci.index import ImageIndex, single_image
from lamina.sinks import tarball


def load(artifact: Image | ImageIndex, *, repo_tags: list[str], cache: Cache) -> None:
    """``docker load`` the image (of an index: the one for this machine) tagged ``repo_tags``."""
    import docker.errors

    image = single_image(artifact)

    engine = client()
    with cache.tempdir() as scratch:
        archive = scratch / "image.tar"
        tarball.write(image, archive, repo_tags=repo_tags)
        try:
            with open(archive, "rb") as stream:
                engine.images.load(stream)
        except docker.errors.APIError as err:
            raise EngineError(f"the Docker engine refused image {image.digest}: {err}") from err
