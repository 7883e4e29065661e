"""The third-party layer: a resolve's locked closure installed into the image's venv.

Its cache key covers only what the layer is made of (locked artifacts, target
platform, venv layout, layer format), never first-party code, so an app edit reuses
it untouched. A hit costs one JSON read and one ``stat``: nothing is resolved,
fetched, installed or compressed. The entry also records the layer's native code, so
the image's shared libraries can be checked without reading the layer again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

from lamina.cache import LAYER_BLOB, Cache, action_key
from lamina.download import fetch_all
from lamina.oci import FileLayer, Layer, sha256_digest
from lamina.python.index import IndexFile, PackageIndex
from lamina.python.install import VenvLayout, Wheel, install_wheels, venv_skeleton
from lamina.python.lockfile import LockedDist, Lockfile
from lamina.python.metadata import requires_dist, wheel_metadata
from lamina.python.native import NATIVES_SHAPE, LayerNatives
from lamina.python.platform import TargetPlatform
from lamina.python.sdist import build_wheel
from lamina.python.select import select_artifact
from lamina.python.subset import subset_lock
from lamina.tar import write_layer

log = logging.getLogger(__name__)

LAYER_FORMAT = 2
_LAYER_SHAPE = {**LAYER_BLOB, **NATIVES_SHAPE}


@dataclass(frozen=True)
class ThirdPartyRequest:
    """What an image needs from its resolve."""

    lock: Lockfile
    resolve: str
    roots: tuple[Requirement, ...]
    platform: TargetPlatform
    layout: VenvLayout


class ThirdParty:
    """Resolves, fetches, builds and installs locked distributions, caching every step."""

    def __init__(self, cache: Cache, index: PackageIndex, *, max_workers: int = 8) -> None:
        self.cache = cache
        self.index = index
        self.max_workers = max_workers

    # -- subsetting -----------------------------------------------------------------

    def closure(self, request: ThirdPartyRequest) -> list[LockedDist]:
        """The locked distributions the roots need on this platform (cached per lock content)."""
        key = action_key(
            "subset",
            1,
            {
                "lock": sha256_digest(request.lock.path.read_bytes()),
                "roots": sorted(str(r) for r in request.roots),
                "platform": request.platform.to_json(),
            },
        )
        hit = self.cache.actions.get(key, {"dists": [str]})
        if hit is not None and all(name in request.lock.dists for name in hit["dists"]):
            return [request.lock.dists[name] for name in hit["dists"]]
        dists = subset_lock(
            request.lock,
            list(request.roots),
            request.platform,
            lambda dist: self.requires_of(dist, request.platform),
            request.resolve,
        )
        self.cache.actions.put(key, {"dists": [d.name for d in dists]})
        return dists

    def requires_of(self, dist: LockedDist, platform: TargetPlatform) -> Sequence[Requirement]:
        """``Requires-Dist`` of a locked distribution, from the lock or the artifact's metadata."""
        if dist.requires_dists is not None:
            return dist.requires_dists
        key = action_key("requires-dist", 1, {"name": dist.name, "version": str(dist.version), "hashes": _hashes(dist)})
        hit = self.cache.actions.get(key, {"requires": [str]})
        if hit is not None:
            try:
                return [Requirement(r) for r in hit["requires"]]
            except InvalidRequirement:
                pass  # a damaged entry: read the metadata again
        artifact = self.select(dist, platform)
        if artifact.has_metadata:
            metadata = self.index.metadata(artifact)
        else:
            metadata = wheel_metadata(self.wheels([dist], platform)[0])
        texts = requires_dist(metadata, f"{dist.name}=={dist.version} ({artifact.filename})")
        self.cache.actions.put(key, {"requires": texts})
        return [Requirement(r) for r in texts]

    # -- artifacts ------------------------------------------------------------------

    def select(self, dist: LockedDist, platform: TargetPlatform) -> IndexFile:
        """The one artifact of ``dist`` to install on ``platform``."""
        return select_artifact(dist, self.index.files(dist.name), platform)

    def wheels(self, dists: Sequence[LockedDist], platform: TargetPlatform) -> list[Wheel]:
        """Wheels for every dist, downloaded in parallel, sdists built where needed."""
        artifacts = [self.select(dist, platform) for dist in dists]
        paths = fetch_all(artifacts, self.cache.blobs, self.index.transport, max_workers=self.max_workers)
        wheels = []
        for artifact in artifacts:
            path = paths[artifact.sha256]
            if artifact.is_wheel:
                wheels.append(Wheel(artifact.filename, path))
            else:
                log.info("building a wheel from %s", artifact.filename)
                wheels.append(build_wheel(path, artifact.sha256, artifact.filename, platform, self.cache, self.index))
        return wheels

    # -- the layer ------------------------------------------------------------------

    def empty_layer(self, platform: TargetPlatform, layout: VenvLayout) -> tuple[FileLayer, LayerNatives]:
        """The venv with no distributions: an image whose code needs no third-party requirement."""
        return write_layer(venv_skeleton(layout, platform), self.cache.blobs).layer(self.cache.blobs), LayerNatives()

    def layer(self, request: ThirdPartyRequest) -> tuple[Layer, list[LockedDist], LayerNatives]:
        """The installed closure as one cached layer, the distributions in it, and its native code."""
        dists = self.closure(request)
        key = action_key(
            "third-party-layer",
            LAYER_FORMAT,
            {
                "dists": [[d.name, str(d.version), _hashes(d)] for d in dists],
                "platform": request.platform.to_json(),
                "layout": [request.layout.venv_dir, request.layout.python_version],
            },
        )
        hit = self.cache.actions.get(key, _LAYER_SHAPE)
        layer = self.cache.layer(hit) if hit is not None else None
        if layer is None:
            wheels = self.wheels(dists, request.platform)
            with self.cache.tempdir() as spill:
                installed = install_wheels(wheels, request.layout, request.platform, spill_dir=spill)
                natives = LayerNatives.of(installed.entries, installed.owners, "the venv")
                hit = {**write_layer(installed.entries, self.cache.blobs).to_json(), **natives.to_json()}
            self.cache.actions.put(key, hit, layers=[hit])
            layer = self.cache.layer(hit)
        return layer, dists, LayerNatives.from_json(hit)


def _hashes(dist: LockedDist) -> list[str]:
    return sorted(a.sha256 for a in dist.artifacts)
