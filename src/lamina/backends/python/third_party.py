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
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from lamina import progress
from lamina.backends.python.builder import Builder
from lamina.cache import LAYER_BLOB, Cache, action_key, is_digest
from lamina.download import fetch_all
from lamina.errors import BuildError, LaminaError
from lamina.oci import FileLayer, Layer, sha256_digest
from lamina.python.build_lock import build_lock_path, sdist_build_requirements, unsatisfied
from lamina.python.index import IndexFile, PackageIndex
from lamina.python.install import VenvLayout, Wheel, install_wheels, venv_skeleton
from lamina.python.lockfile import LockedDist, Lockfile, load_lockfile
from lamina.python.metadata import requires_dist, wheel_metadata
from lamina.python.native import NATIVES_SHAPE, LayerNatives
from lamina.python.platform import TargetPlatform
from lamina.python.sandboxed_build import SandboxedBuild, build_in_sandbox, requires_in_sandbox
from lamina.python.sdist import build_wheel
from lamina.python.select import select_artifact
from lamina.python.subset import subset_lock
from lamina.tar import write_layer

log = logging.getLogger(__name__)

LAYER_FORMAT = 2
_LAYER_SHAPE = {**LAYER_BLOB, **NATIVES_SHAPE}


@dataclass(frozen=True)
class NativeBuild:
    """How an image's sdists are built: in ``builder`` (None when the resolve has no build
    lock yet, which building then asks for); ``spec`` is the builder as the user named it."""

    builder: Builder | None
    spec: str


@dataclass(frozen=True)
class ThirdPartyRequest:
    """What an image needs from its resolve."""

    lock: Lockfile
    resolve: str
    roots: tuple[Requirement, ...]
    platform: TargetPlatform
    layout: VenvLayout
    native: NativeBuild | None = None  # None: sdists are pure Python, built on the host


class ThirdParty:
    """Resolves, fetches, builds and installs locked distributions, caching every step."""

    def __init__(self, cache: Cache, index: PackageIndex, *, max_workers: int = 8, sandbox: str = "auto") -> None:
        self.cache = cache
        self.index = index
        self.sandbox = sandbox  # what sdists are built in: [python] sandbox
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
            lambda dist: self.requires_of(dist, request.platform, request),
            request.resolve,
        )
        self.cache.actions.put(key, {"dists": [d.name for d in dists]})
        return dists

    def requires_of(
        self, dist: LockedDist, platform: TargetPlatform, request: ThirdPartyRequest | None = None
    ) -> Sequence[Requirement]:
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
            metadata = wheel_metadata(self.wheels([dist], platform, request)[0])
        texts = requires_dist(metadata, f"{dist.name}=={dist.version} ({artifact.filename})")
        self.cache.actions.put(key, {"requires": texts})
        return [Requirement(r) for r in texts]

    # -- artifacts ------------------------------------------------------------------

    def select(self, dist: LockedDist, platform: TargetPlatform) -> IndexFile:
        """The one artifact of ``dist`` to install on ``platform``."""
        return select_artifact(dist, self.index.files(dist.name), platform)

    def wheels(
        self, dists: Sequence[LockedDist], platform: TargetPlatform, request: ThirdPartyRequest | None = None
    ) -> list[Wheel]:
        """Wheels for every dist, downloaded in parallel, sdists built where needed (in the
        request's builder when it names one)."""
        artifacts = [self.select(dist, platform) for dist in dists]
        paths = fetch_all(artifacts, self.cache.blobs, self.index.transport, max_workers=self.max_workers)
        wheels = []
        for artifact in artifacts:
            path = paths[artifact.sha256]
            if artifact.is_wheel:
                wheels.append(Wheel(artifact.filename, path))
            elif request is not None and request.native is not None:
                wheels.append(self._build_native(artifact, path, request))
            else:
                log.info("building a wheel from %s", artifact.filename)
                wheels.append(build_wheel(path, artifact.sha256, artifact.filename, platform, self.cache, self.index))
        return wheels

    def build_requirements(
        self, artifact: IndexFile, sdist: Path, builder: Builder, platform: TargetPlatform, build_lock: Lockfile
    ) -> list[str]:
        """Everything ``sdist`` needs to build: its ``[build-system] requires`` and what its
        backend's ``get_requires_for_build_wheel`` asks for, asked in the builder's sandbox
        with the former installed (cached by the sdist, the builder and those wheels)."""
        static = sdist_build_requirements(sdist, artifact.filename)
        static_dists = self._build_dists(static, build_lock, platform)
        key = action_key(
            "sandbox-requires",
            1,
            {
                "sdist": artifact.sha256,
                "builder": builder.digest,
                "build": [[d.name, str(d.version), _hashes(d)] for d in static_dists],
                "platform": platform.to_json(),
            },
        )
        hit = self.cache.actions.get(key, {"requires": [str]})
        if hit is None:
            builder.ensure_runnable()
            wheels = self.wheels(static_dists, platform)
            with self.cache.tempdir() as scratch:
                asked = requires_in_sandbox(
                    sdist,
                    artifact.filename,
                    SandboxedBuild(builder.rootfs, builder.python, wheels, scratch, sandbox=self.sandbox),
                )
            hit = {"requires": asked}
            self.cache.actions.put(key, hit)
        return list(dict.fromkeys([*static, *hit["requires"]]))

    def _build_dists(self, requirements: Sequence[str], build_lock: Lockfile, platform: TargetPlatform):
        """The build lock's distributions ``requirements`` need (their closure)."""
        return subset_lock(
            build_lock,
            [Requirement(r) for r in requirements],
            platform,
            lambda d: self.requires_of(d, platform),
            build_lock.path.name,
        )

    def _build_native(self, artifact: IndexFile, sdist: Path, request: ThirdPartyRequest) -> Wheel:
        """The wheel of ``sdist`` built in the builder's sandbox with its locked build requirements."""
        native, platform = request.native, request.platform
        build_lock_file = build_lock_path(request.lock.path)
        fix = f"run `lamina generate-lockfiles --resolve={request.resolve}`"
        if native.builder is None or not build_lock_file.is_file():
            raise BuildError(
                f"{artifact.filename} must be built, but resolve {request.resolve!r} has no build lock "
                f"({build_lock_file.name} beside its lock); {fix}"
            )
        build_lock = load_lockfile(build_lock_file, resolve_name=request.resolve)
        stale = unsatisfied(sdist_build_requirements(sdist, artifact.filename), build_lock)
        if not stale:  # what the backend asks for is asked with the static requirements installed
            wanted = self.build_requirements(artifact, sdist, native.builder, platform, build_lock)
            stale = unsatisfied(wanted, build_lock)
        if stale:
            raise BuildError(
                f"{build_lock_file.name} does not pin {', '.join(stale)}, which {artifact.filename} needs to build; {fix}"
            )
        build_dists = self._build_dists(wanted, build_lock, platform)
        key = action_key(
            "sandbox-wheel",
            1,
            {
                "sdist": artifact.sha256,
                "builder": native.builder.digest,
                "build": [[d.name, str(d.version), _hashes(d)] for d in build_dists],
                "platform": platform.to_json(),
            },
        )
        hit = self.cache.actions.get(key, {"filename": str, "digest": is_digest, "size": int})
        if hit is not None and _wheel_name(hit["filename"]):
            path = self._blob(hit["digest"], hit["size"])
            if path is not None:
                return Wheel(hit["filename"], path)
        native.builder.ensure_runnable()
        build_wheels = self.wheels(build_dists, platform)
        log.info("building %s in %s", artifact.filename, native.builder.address)
        with self.cache.tempdir() as scratch:
            build = SandboxedBuild(
                native.builder.rootfs, native.builder.python, build_wheels, scratch, sandbox=self.sandbox
            )
            with progress.step(f"building {artifact.filename} in {native.builder.address}"):
                built = build_in_sandbox(sdist, artifact.filename, build)
            name = _wheel_name(built.path.name)
            if name is None:
                raise BuildError(f"building {artifact.filename} produced {built.path.name!r}, not a wheel")
            if not set(parse_wheel_filename(name)[3]) & set(platform.tags()):
                raise BuildError(  # no wheel of one architecture (or Python) ever lands in another's image
                    f"building {artifact.filename} in {native.builder.address} produced {name}, which the "
                    f"{platform.machine} CPython {platform.python_version} image cannot load"
                )
            size = built.path.stat().st_size
            digest = self.cache.blobs.put_file(built.path)
        blob = {"digest": digest, "size": size}
        self.cache.actions.put(key, {"filename": name, **blob}, layers=[blob])  # CI machines share built wheels
        return Wheel(name, self.cache.blobs.path(digest))

    def _blob(self, digest: str, size: int) -> Path | None:
        """A cached blob's file: local, else fetched (and verified) from the remote cache; None if neither has it."""
        if self.cache.blobs.intact(digest):
            return self.cache.blobs.path(digest)
        shared = self.cache.layer({"digest": digest, "diff_id": digest, "size": size})
        if shared is None:
            return None
        try:
            return shared.path()
        except LaminaError:
            return None

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
                "builder": request.native.builder.digest if request.native and request.native.builder else None,
            },
        )
        hit = self.cache.actions.get(key, _LAYER_SHAPE)
        layer = self.cache.layer(hit) if hit is not None else None
        if layer is None:
            wheels = self.wheels(dists, request.platform, request)
            with self.cache.tempdir() as spill:
                installed = install_wheels(wheels, request.layout, request.platform, spill_dir=spill)
                natives = LayerNatives.of(installed.entries, installed.owners, "the venv")
                hit = {**write_layer(installed.entries, self.cache.blobs).to_json(), **natives.to_json()}
            self.cache.actions.put(key, hit, layers=[hit])
            layer = self.cache.layer(hit)
        return layer, dists, LayerNatives.from_json(hit)


def _wheel_name(name: str) -> str | None:
    """``name`` if it is a wheel's file name (and no path), else None."""
    try:
        parse_wheel_filename(name)
    except InvalidWheelFilename:
        return None
    return name if "/" not in name else None


def _hashes(dist: LockedDist) -> list[str]:
    return sorted(a.sha256 for a in dist.artifacts)
