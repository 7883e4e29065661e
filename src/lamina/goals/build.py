"""The build loop ``package`` and ``publish`` share: build every packageable target of the
specs, validate what it made, then hand each result to the goal's writer.

A blob found damaged while building or writing (its bytes no longer match its digest)
is removed from the cache and the target is built once more, which downloads or
rebuilds just that blob; a damaged file outside the cache (a base image's layout) is an
error naming it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lamina.backends.built import BuiltImage
from lamina.errors import DamagedBlobError
from lamina.graph.target import Target
from lamina.oci.index import images_of
from lamina.oci.validate import validate

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Built:
    """One target's result and how long building it took."""

    target: Target
    result: Any  # a BuiltImage, or a plugin's own result
    seconds: float


def _in_cache(project, path: str) -> bool:
    try:
        return Path(path).resolve().is_relative_to(project.cache.root.resolve())
    except (OSError, ValueError):
        return False


def retrying(project, target: Target, step: Callable[[], T]) -> T:
    """Run ``step``; when it meets a damaged cache blob, remove the blob and run it once more."""
    try:
        return step()
    except DamagedBlobError as err:
        if not _in_cache(project, err.path):
            raise
        Path(err.path).unlink(missing_ok=True)
        log.warning("%s; lamina removed it and builds %s again", err, target.address)
        project.memo.clear()
        return step()


def build(project, target: Target) -> Any:
    """Package ``target`` with its packager; images are validated before anyone writes them."""
    result = project.registry.packager(target)(target, project)
    if isinstance(result, BuiltImage):
        for image in images_of(result.image):
            validate(image)
    return result


def build_all(project, specs: list[str]) -> list[Built]:
    """Every packageable target the specs match, built (and validated) in address order."""
    targets = [t for t in project.graph.resolve_specs(specs or ["::"]) if project.registry.packager(t) is not None]
    built = []
    for target in targets:
        started = time.monotonic()
        result = retrying(project, target, lambda target=target: build(project, target))
        built.append(Built(target, result, time.monotonic() - started))
    return built


def write_retrying(project, item: Built, write: Callable[[Any], T]) -> T:
    """``write(item.result)``; after a damaged blob, the target is rebuilt and written again."""
    attempts = 0

    def step() -> T:
        nonlocal attempts
        attempts += 1
        if attempts > 1:
            item.result = build(project, item.target)
        return write(item.result)

    return retrying(project, item.target, step)


def report(item: Built, project, outputs: list[str]) -> dict:
    """What ``--json`` prints for one packaged target: its address, digest, tags and outputs,
    and each image's layers with where each came from in this run: ``built`` (made here),
    ``fetched`` (from the remote cache or a registry) or ``cached`` (already in the local cache)."""
    result = item.result
    if not isinstance(result, BuiltImage):
        return {"address": str(item.target.address), "summary": result.summary, "outputs": outputs,
                "seconds": round(item.seconds, 3)}  # fmt: skip
    blobs = project.cache.blobs

    def source(digest: str) -> str:
        return "built" if digest in blobs.made else "fetched" if digest in blobs.fetched else "cached"

    images = [
        {
            "platform": str(image.platform),
            "digest": image.digest,
            "layers": [
                {"digest": layer.digest, "size": layer.size, "source": source(layer.digest)} for layer in image.layers
            ],
        }
        for image in images_of(result.image)
    ]
    return {
        "address": result.address,
        "digest": result.image.digest,
        "tags": list(result.repo_tags),
        "outputs": outputs,
        "seconds": round(item.seconds, 3),
        "images": images,
    }
