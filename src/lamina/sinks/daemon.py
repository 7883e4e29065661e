"""Load images into a running Docker engine through the docker SDK, sending only the layers
it lacks.

Docker's loader opens a layer's file only when it does not already hold that layer's
chain (the layer on the same layers below it), so the tarball lamina streams leaves out
the longest prefix of the image's layers that one of the engine's images already has:
an app edit sends the app layer and the config, not the base again. Which chains the
engine holds is read from its images (each image's diff_ids, kept in the cache by image
ID, which is content-addressed, so each is asked once). An engine that refuses such a
tarball (another image store) gets the whole image.
"""

from __future__ import annotations

import logging
from typing import Self

from lamina.cache import Cache, action_key
from lamina.engine import client
from lamina.errors import EngineError
from lamina.oci import Image
from lamina.oci.index import single_image
from lamina.sinks import tarball
from lamina.sinks.named import NamedImage

log = logging.getLogger(__name__)


class Engine:
    """The ``docker`` output, open for one run."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._chains: set[tuple[str, ...]] | None = None

    def __enter__(self) -> Self:
        self.client = client()
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def put(self, built: NamedImage) -> list[str]:
        """``docker load`` the image (of an index: the one for this machine) under its tags."""
        image = single_image(built.image)
        self._load(image, list(built.repo_tags))
        return [f"docker:{tag}" for tag in built.repo_tags]

    def held_prefix(self, image: Image) -> int:
        """How many of the image's bottom layers the engine already holds, as one chain."""
        chains = self._held()
        diff_ids = tuple(layer.diff_id for layer in image.layers)
        return max((k for k in range(len(diff_ids) + 1) if diff_ids[:k] in chains), default=0)

    def _held(self) -> set[tuple[str, ...]]:
        if self._chains is None:
            self._chains = {()}
            for summary in self.client.api.images():
                diff_ids = self._diff_ids(summary["Id"])
                self._chains.update(tuple(diff_ids[:k]) for k in range(1, len(diff_ids) + 1))
        return self._chains

    def _diff_ids(self, image_id: str) -> list[str]:
        key = action_key("engine-image-layers", 1, {"id": image_id})
        hit = self.cache.actions.get(key, {"diff_ids": [str]})
        if hit is None:
            hit = {"diff_ids": list(self.client.api.inspect_image(image_id)["RootFS"].get("Layers") or [])}
            self.cache.actions.put(key, hit, share=False)
        return hit["diff_ids"]

    def _load(self, image: Image, repo_tags: list[str]) -> None:
        import docker.errors

        held = self.held_prefix(image)
        try:
            self._send(image, repo_tags, frozenset(layer.digest for layer in image.layers[:held]))
            log.info(
                "loaded %s into the Docker engine: %d of %d layers sent, it held the others",
                image.digest, len(image.layers) - held, len(image.layers),
            )  # fmt: skip
        except docker.errors.DockerException as err:
            if not held:
                raise EngineError(f"the Docker engine refused image {image.digest}: {err}") from err
            log.info(
                "the engine refused image %s without the %d layers it holds (%s); sending it whole",
                image.digest,
                held,
                err,
            )
            try:
                self._send(image, repo_tags, frozenset())
                log.info("loaded %s into the Docker engine: all %d layers sent", image.digest, len(image.layers))
            except docker.errors.DockerException as err:
                raise EngineError(f"the Docker engine refused image {image.digest}: {err}") from err
        diff_ids = tuple(layer.diff_id for layer in image.layers)
        self._held().update(diff_ids[:k] for k in range(1, len(diff_ids) + 1))

    def _send(self, image: Image, repo_tags: list[str], held: frozenset[str]) -> None:
        with self.cache.tempdir() as scratch:
            archive = scratch / "image.tar"
            tarball.write_for_engine(image, archive, repo_tags=repo_tags, held=held)
            with open(archive, "rb") as stream:
                self.client.images.load(stream)
