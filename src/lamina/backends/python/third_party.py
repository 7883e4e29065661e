"""The third-party layers: a resolve's locked closure installed into the image's venv,
split as ``lamina.python.layer_plan`` says (a layer per heavy distribution, small ones grouped).

Each layer's cache key covers only what it is made of (its locked artifacts, the target
platform, the venv layout, the layer format), never first-party code or the rest of the
closure, so an app edit reuses every layer and a lock bump rebuilds one. A hit on an
image's whole plan costs one JSON read and a ``stat`` per layer: nothing is resolved,
fetched, installed or compressed. Entries also record each layer's native code, so the
image's shared libraries can be checked without reading the layers again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from lamina import progress
from lamina.backends.context import BuildContext
from lamina.backends.python.builder import Builder
from lamina.cache import LAYER_BLOB, Cache, action_key, is_digest
from lamina.download import fetch_all
from lamina.errors import BuildError, LaminaError
from lamina.oci import Layer, sha256_digest
from lamina.once import Once
from lamina.python.build_lock import build_lock_path, sdist_build_requirements, unsatisfied
from lamina.python.bytecode import Compiler, compile_entries
from lamina.python.index import IndexFile, PackageIndex
from lamina.python.install import VenvLayout, Wheel, install_wheels, installed_size, venv_skeleton
from lamina.python.layer_plan import LayerUnit, plan_layers
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

# 3: a layer per heavy distribution or group (lamina.python.layer_plan); 4: bytecode; 5: gzip in blocks
LAYER_FORMAT = 5
_UNIT_SHAPE = {**LAYER_BLOB, **NATIVES_SHAPE, "dists": [str]}
# The run's Event, in its ``once``, set when an image's third-party layers are not all in the
# cache (``lamina.backends.python.prefetch`` waits for it).
LAYERS_MISSED = ("third-party layers missed",)


@dataclass(frozen=True)
class NativeBuild:
    """How an image's sdists are built: in ``builder`` (None when the resolve has no build
    lock yet, which building then asks for); ``spec`` is the builder as the user named it."""

    builder: Builder | None
    spec: str


def venv_layout(context: BuildContext, platform: TargetPlatform) -> VenvLayout:
    """The image's venv: ``[lamina] venv_dir``, for the base's Python X.Y."""
    return VenvLayout(context.config.venv_dir, "{}.{}".format(*platform.python_xy))


@dataclass(frozen=True)
class ThirdPartyRequest:
    """What an image needs from its resolve."""

    lock: Lockfile
    resolve: str
    roots: tuple[Requirement, ...]
    platform: TargetPlatform
    layout: VenvLayout
    native: NativeBuild | None = None  # None: sdists are pure Python, built on the host
    compiler: Compiler | None = None  # None: no bytecode in the layers


class ThirdParty:
    """Resolves, fetches, builds and installs locked distributions, caching every step."""

    def __init__(
        self,
        cache: Cache,
        index: PackageIndex,
        *,
        max_workers: int = 8,
        sandbox: str = "auto",
        jobs: int = 1,
        once: Once | None = None,
    ) -> None:
        self.cache = cache
        self.index = index
        self.sandbox = sandbox  # what sdists are built in: [python] sandbox
        self.max_workers = max_workers  # concurrent downloads
        self.jobs = jobs  # layers built at once
        self.once = once or Once()  # a layer several images need at once is built by the first that asks

    @classmethod
    def of(cls, context: BuildContext) -> ThirdParty:
        """The run's: its cache, index and workers, sharing its ``once``."""
        config = context.config
        return cls(
            context.cache, context.index, max_workers=config.max_workers, sandbox=config.python_sandbox,
            jobs=context.jobs, once=context.once,
        )  # fmt: skip

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
        request's builder when it names one; once per run however many images wait for it)."""
        if len(dists) > 1:  # each project page is a request: ask for them side by side
            with ThreadPoolExecutor(min(self.max_workers, len(dists)), thread_name_prefix="lamina-index") as pool:
                artifacts = list(pool.map(lambda dist: self.select(dist, platform), dists))
        else:
            artifacts = [self.select(dist, platform) for dist in dists]
        paths = fetch_all(artifacts, self.cache.blobs, self.index.transport, max_workers=self.max_workers)
        wheels = []
        for artifact in artifacts:
            path = paths[artifact.sha256]
            if artifact.is_wheel:
                wheels.append(Wheel(artifact.filename, path))
            elif request is not None and request.native is not None:
                builder = request.native.builder.digest if request.native.builder else None
                key = ("sandbox-wheel", artifact.sha256, builder, platform)
                wheels.append(self.once(key, lambda a=artifact, p=path: self._build_native(a, p, request)))
            else:
                key = ("sdist-wheel", artifact.sha256, platform.python_version)
                wheels.append(self.once(key, lambda a=artifact, p=path: self._build_sdist(a, p, platform)))
        return wheels

    def _build_sdist(self, artifact: IndexFile, sdist: Path, platform: TargetPlatform) -> Wheel:
        log.info("building a wheel from %s", artifact.filename)
        return build_wheel(sdist, artifact.sha256, artifact.filename, platform, self.cache, self.index)

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

    # -- the layers -----------------------------------------------------------------

    def empty_layer(self, platform: TargetPlatform, layout: VenvLayout) -> ThirdPartyLayers:
        """The venv with no distributions: an image whose code needs no third-party requirement."""
        blob = write_layer(venv_skeleton(layout, platform), self.cache.blobs)
        return ThirdPartyLayers(
            (VenvLayer(blob.layer(self.cache.blobs), _venv_history(platform, layout)),), (), LayerNatives()
        )

    def layers(self, request: ThirdPartyRequest) -> ThirdPartyLayers:
        """The venv and the installed closure as layers (``lamina.python.layer_plan``), the
        distributions in them, and their native code. A hit on the whole plan costs one
        JSON read; a miss reuses every layer whose distributions did not change."""
        dists = self.closure(request)
        key = action_key("third-party-layers", LAYER_FORMAT, self._key_inputs(dists, request))
        hit = self.cache.actions.get(key, {"layers": [_UNIT_SHAPE]})
        found = [self.cache.layer(unit) for unit in hit["layers"]] if hit is not None else [None]
        if None in found:
            self.once(LAYERS_MISSED, threading.Event).set()
            skeleton = write_layer(venv_skeleton(request.layout, request.platform), self.cache.blobs)
            sizes = self.installed_sizes(dists, request)
            plan = plan_layers(dists, sizes)
            if self.jobs > 1 and len(plan) > 1:  # compression releases the GIL: big layers build side by side
                with ThreadPoolExecutor(min(self.jobs, len(plan)), thread_name_prefix="lamina-layer") as pool:
                    units = list(pool.map(lambda unit: self._unit(unit, request), plan))
            else:
                units = [self._unit(unit, request) for unit in plan]
            hit = {"layers": [{**skeleton.to_json(), **LayerNatives().to_json(), "dists": []}, *units]}
            self.cache.actions.put(key, hit, layers=hit["layers"])
            found = [self.cache.layer(unit) for unit in hit["layers"]]
        layers = [VenvLayer(found[0], _venv_history(request.platform, request.layout))]
        layers += [
            VenvLayer(layer, "lamina: third-party " + ", ".join(unit["dists"]), tuple(_names(unit["dists"])))
            for layer, unit in zip(found[1:], hit["layers"][1:])
        ]
        natives = [LayerNatives.from_json(unit) for unit in hit["layers"]]
        return ThirdPartyLayers(
            tuple(layers),
            tuple(dists),
            LayerNatives(
                tuple(f for n in natives for f in n.files), tuple(sorted({lib for n in natives for lib in n.libraries}))
            ),
        )

    def _key_inputs(self, dists: Sequence[LockedDist], request: ThirdPartyRequest) -> dict:
        """What a third-party layer is made of: its distributions' locked artifacts, the
        platform, the venv, the builder that compiles (never first-party code)."""
        return {
            "dists": [[d.name, str(d.version), _hashes(d)] for d in dists],
            "platform": request.platform.to_json(),
            "layout": [request.layout.venv_dir, request.layout.python_version],
            "builder": request.native.builder.digest if request.native and request.native.builder else None,
            "bytecode": request.compiler.identity if request.compiler else None,
        }

    def installed_sizes(self, dists: Sequence[LockedDist], request: ThirdPartyRequest) -> dict[str, int]:
        """Each distribution's installed size in bytes on the request's platform (cached per distribution)."""
        sizes, missing = {}, []
        for dist in dists:
            key = action_key("installed-size", 1, self._key_inputs([dist], request))
            hit = self.cache.actions.get(key, {"bytes": int})
            if hit is None:
                missing.append((dist, key))
            else:
                sizes[dist.name] = hit["bytes"]
        if missing:
            wheels = self.wheels([dist for dist, _ in missing], request.platform, request)
            for (dist, key), wheel in zip(missing, wheels):
                sizes[dist.name] = installed_size(wheel)
                self.cache.actions.put(key, {"bytes": sizes[dist.name]})
        return sizes

    def _unit(self, unit: LayerUnit, request: ThirdPartyRequest) -> dict:
        """One planned layer as a cache entry (blob, native code, ``name==version``s), built on a miss."""
        key = action_key("third-party-layer", LAYER_FORMAT, self._key_inputs(unit.dists, request))
        hit = self.cache.actions.get(key, _UNIT_SHAPE)
        if hit is not None and self.cache.layer(hit) is not None:
            return hit
        return self.once(("third-party-layer", key), lambda: self._build_unit(unit, request, key))

    def _build_unit(self, unit: LayerUnit, request: ThirdPartyRequest, key: str) -> dict:
        wheels = self.wheels(unit.dists, request.platform, request)
        with self.cache.tempdir() as spill:
            installed = install_wheels(wheels, request.layout, request.platform, spill_dir=spill, skeleton=False)
            natives = LayerNatives.of(installed.entries, installed.owners, "the venv")
            entries = installed.entries
            if request.compiler is not None:
                (spill / "bytecode").mkdir()
                with progress.step(f"compiling bytecode of {unit.describe()}"):
                    entries = entries + compile_entries(entries, request.compiler, spill / "bytecode")
            blob = write_layer(entries, self.cache.blobs, self.jobs)
        hit = {**blob.to_json(), **natives.to_json(), "dists": unit.describe().split(", ")}
        self.cache.actions.put(key, hit, layers=[hit])
        return hit


@dataclass(frozen=True)
class VenvLayer:
    """One layer of the venv and what its history says it holds."""

    layer: Layer
    created_by: str
    dists: tuple[str, ...] = ()  # the distributions' names (none in the venv's own layer)


@dataclass(frozen=True)
class ThirdPartyLayers:
    """An image's venv layers, bottom to top: the venv itself, then its distributions'."""

    layers: tuple[VenvLayer, ...]
    dists: tuple[LockedDist, ...]
    natives: LayerNatives


def _names(pins: list[str]) -> list[str]:
    """``name`` of each ``name==version``."""
    return [pin.partition("==")[0] for pin in pins]


def _venv_history(platform: TargetPlatform, layout: VenvLayout) -> str:
    return f"lamina: venv {layout.venv_dir} for {platform.interpreter}"


def _wheel_name(name: str) -> str | None:
    """``name`` if it is a wheel's file name (and no path), else None."""
    try:
        parse_wheel_filename(name)
    except InvalidWheelFilename:
        return None
    return name if "/" not in name else None


def _hashes(dist: LockedDist) -> list[str]:
    return sorted(a.sha256 for a in dist.artifacts)
