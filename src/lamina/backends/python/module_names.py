"""Map a requirement to the modules it provides by reading its locked wheel's file list.

Consulted when a requirement has no ``modules``/``module_mapping``; the answer is
cached per locked artifact. The wheel is read through HTTP range requests (its central
directory and ``top_level.txt``), so a CUDA-sized wheel costs kilobytes, not gigabytes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence

from packaging.utils import canonicalize_name

from lamina.cache import Cache, action_key
from lamina.config import Config
from lamina.download import fetch_all
from lamina.errors import LaminaError
from lamina.python.index import IndexFile, PackageIndex
from lamina.python.lazy_wheel import CHUNK, RangesUnsupported, RemoteFile
from lamina.python.lockfile import load_lockfile
from lamina.python.modules import top_level_modules
from lamina.transport import TransportError

log = logging.getLogger(__name__)


class WheelModuleNames:
    """``(dist, resolve) -> modules`` from the wheel the resolve's lock pins, or None if unknown."""

    def __init__(self, config: Config, cache: Cache, index: Callable[[], PackageIndex]) -> None:
        self.config = config
        self.cache = cache
        self.index = index

    def __call__(self, dist: str, resolve: str) -> Sequence[str] | None:
        try:
            lock = load_lockfile(self.config.lock_path(resolve), resolve_name=resolve)
        except LaminaError:
            return None  # no lock yet: fall back to the default mapping
        locked = lock.get(canonicalize_name(dist))
        if locked is None:
            return None
        hashes = {a.sha256 for a in locked.artifacts}
        key = action_key(
            "wheel-modules", 2, {"dist": locked.name, "version": str(locked.version), "hashes": sorted(hashes)}
        )
        hit = self.cache.actions.get(key, {"modules": [str]})
        if hit is not None:
            return hit["modules"] or None
        index = self.index()
        wheels = sorted(
            (f for f in index.files(locked.name) if f.sha256 in hashes and f.is_wheel), key=lambda f: f.filename
        )
        modules: list[str] = []
        if wheels:
            modules = self._modules(wheels[0], index)
        self.cache.actions.put(key, {"modules": modules})
        return modules or None

    def _modules(self, wheel: IndexFile, index: PackageIndex) -> list[str]:
        """The wheel's modules, read through range requests (its central directory and
        ``top_level.txt`` only), or from the whole wheel where the server has no ranges."""
        try:
            remote = RemoteFile(wheel.url, index.transport)
        except (RangesUnsupported, TransportError) as err:
            log.info("%s: reading the whole wheel for its module names (%s)", wheel.filename, err)
            path = fetch_all([wheel], self.cache.blobs, index.transport, max_workers=1)[wheel.sha256]
            return top_level_modules(path, wheel.filename)
        modules = top_level_modules(io.BufferedReader(remote, CHUNK), wheel.filename)
        log.info("%s: module names read with %d bytes of range requests", wheel.filename, remote.fetched)
        return modules
