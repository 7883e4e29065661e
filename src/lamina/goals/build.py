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
    """Package ``target`` with its packager, once per run (a ``docker_image`` may have packaged its
    ``.pex`` already); images are validated before anyone writes them."""
    context = project.context
    result = context.once(("package", str(target.address)), lambda: project.registry.packager(target)(target, context))
    if isinstance(result, BuiltImage):
        for image in images_of(result.image):
            validate(image)
    return result


def build_all(project, specs: list[str]) -> list[Built]:
    """Every packageable target the specs match, built (and validated), in address order."""
    targets = [t for t in project.graph.resolve_specs(specs or ["::"]) if project.registry.packager(t) is not None]
    return _Pool(project, targets).run()


class _Pool:
    """Builds targets in address order from one queue: this thread takes them one after
    another while they are cache hits (more threads would only contend for the interpreter:
    a no-op over 500 images is 30% slower on two); once one target has run for ``SLOW``
    seconds (real work: compression, downloads, sandboxed builds, mostly outside the
    interpreter's lock), ``jobs - 1`` more workers join, and the backends' prefetchers start
    on one more thread (work the targets will need, such as sdists' wheels, done ahead of
    the first target that asks; stopped and waited for when the targets are done)."""

    SLOW = 0.05

    def __init__(self, project, targets: list[Target]) -> None:
        self.project, self.targets = project, targets
        self.results: list[Built | BaseException | None] = [None] * len(targets)
        self._next, self._lock = 0, threading.Lock()
        self._failed, self._done = threading.Event(), threading.Event()
        self._running_since: float | None = None
        self._stop_prefetch = threading.Event()

    def run(self) -> list[Built]:
        """Build every target; the error of the first failing one in address order is raised."""
        helpers: list[threading.Thread] = []
        watchdog = threading.Thread(target=self._watch, args=(helpers,), daemon=True, name="lamina-watch")
        if self.project.jobs > 1 and len(self.targets) > 1:
            watchdog.start()
        self._work(main=True)
        self._done.set()
        if watchdog.is_alive():
            watchdog.join()
        self._stop_prefetch.set()
        for helper in helpers:
            helper.join()
        first = next((r for r in self.results if isinstance(r, BaseException) and not isinstance(r, _NotStarted)), None)
        if first is not None:
            raise first
        return self.results  # type: ignore[return-value]

    def _take(self) -> int | None:
        with self._lock:
            if self._next >= len(self.targets):
                return None
            self._next += 1
            return self._next - 1

    def _work(self, main: bool = False) -> None:
        while (index := self._take()) is not None:
            if main:
                self._running_since = time.monotonic()
            self.results[index] = self._one(self.targets[index])
            if main:
                self._running_since = None

    def _one(self, target: Target) -> Built | BaseException:
        if self._failed.is_set():
            return _NotStarted()
        started = time.monotonic()
        try:
            result = retrying(self.project, target, lambda: build(self.project, target))
        except Exception as err:  # noqa: BLE001 - kept, and raised in address order once every worker stopped
            self._failed.set()
            return err
        return Built(target, result, time.monotonic() - started)

    def _watch(self, helpers: list[threading.Thread]) -> None:
        while not self._done.wait(self.SLOW / 5):
            since = self._running_since
            if since is not None and time.monotonic() - since > self.SLOW:
                for number in range(self.project.jobs - 1):
                    helper = threading.Thread(target=self._work, name=f"lamina-build-{number}", daemon=True)
                    helpers.append(helper)
                    helper.start()
                prefetch = threading.Thread(target=self._prefetch, name="lamina-prefetch", daemon=True)
                helpers.append(prefetch)
                prefetch.start()
                return

    def _prefetch(self) -> None:
        for prefetcher in self.project.registry.prefetchers:
            try:
                prefetcher(self.targets, self.project.context, self._stop_prefetch)
            except Exception:  # ahead-of-time work only: the target that needs it reports the error
                log.debug("a prefetcher failed", exc_info=True)


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
