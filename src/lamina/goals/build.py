"""The build loop ``package``, ``publish`` and ``layers`` share: build every packageable
target of the specs on a pool of ``--jobs`` workers, validate what each made, then hand
each result, in address order, to the goal's writer.

Workers share the cache and the context's ``once`` (a base several images need is built
by the first worker that asks), so what an image is made of, and its digest, does not
depend on how many workers there are or which finished first. When a target fails, no
new target starts; the error reported is that of the first failing target in address
order, so it too does not depend on scheduling.

A blob found damaged while building or writing (its bytes no longer match its digest)
is removed from the cache and the target is built once more, which downloads or
rebuilds just that blob; a damaged file outside the cache (a base image's layout) is an
error naming it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
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
        project.context.once.clear()
        return step()


def build(project, target: Target) -> Any:
    """Package ``target`` with its packager; images are validated before anyone writes them."""
    result = project.registry.packager(target)(target, project.context)
    if isinstance(result, BuiltImage):
        for image in images_of(result.image):
            validate(image)
    return result


def build_all(project, specs: list[str]) -> list[Built]:
    """Every packageable target the specs match, built (and validated), in address order."""
    targets = [t for t in project.graph.resolve_specs(specs or ["::"]) if project.registry.packager(t) is not None]
    failed = threading.Event()

    def one(target: Target) -> Built:
        if failed.is_set():
            raise _NotStarted
        started = time.monotonic()
        try:
            result = retrying(project, target, lambda: build(project, target))
        except BaseException:
            failed.set()
            raise
        return Built(target, result, time.monotonic() - started)

    if project.jobs == 1 or len(targets) < 2:
        return [one(target) for target in targets]
    with ThreadPoolExecutor(max_workers=min(project.jobs, len(targets)), thread_name_prefix="lamina-build") as pool:
        futures = [pool.submit(one, target) for target in targets]
        wait(futures)
    errors = [f.exception() for f in futures if f.exception() is not None]
    first = next((e for e in errors if not isinstance(e, _NotStarted)), None)
    if first is not None:
        raise first
    return [f.result() for f in futures]


class _NotStarted(Exception):
    """A target not built because another failed first."""


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
