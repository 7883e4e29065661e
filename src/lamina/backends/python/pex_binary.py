"""How a ``pex_binary`` is built: its closure's first-party files and exactly the locked
wheels it needs (selected, fetched and hash-checked by lamina) handed to pex, offline.

The ``.pex`` targets, in this order: the ``complete_platforms`` the target names; else
the platforms of the images that use it (their bases' CPython, so a ``.pex`` built on any
host runs on its image); else, as in Pants, the oldest CPython on ``[python-bootstrap]
search_path`` that its closure's interpreter constraints allow (the ``.pex`` runs with
``/usr/bin/env pythonX.Y`` of it), or with no constraints at all, the CPython running
lamina. The result is cached by everything pex reads, so an unchanged target is not
rebuilt, and written to ``output_path`` under the dist directory (Pants' ``dir.sub/name.pex``
by default).
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from lamina.backends.built import BuiltFile
from lamina.backends.context import BuildContext
from lamina.backends.python.first_party import first_party_files
from lamina.backends.python.inference import PythonInference
from lamina.backends.python.platform_probe import probed
from lamina.backends.python.stale_locks import warn_if_stale
from lamina.backends.python.target_types import output_path
from lamina.backends.python.third_party import ThirdParty, ThirdPartyRequest, venv_layout
from lamina.cache import action_key, file_digest
from lamina.errors import BuildFileError, ConfigError, ImageError
from lamina.graph.graph import BuildGraph
from lamina.graph.target import Target
from lamina.python.install import Wheel
from lamina.python.interpreters import (
    SearchPath,
    choose,
    examine_all,
    host_platform,
    invalid_constraint,
    merge_constraints,
)
from lamina.python.locked import LockedArtifact, LockedDist
from lamina.python.lockfile import load_lockfile
from lamina.python.pex import (
    EXECUTION_MODES,
    INHERIT_PATH,
    LAYOUTS,
    RESOLVER_WHEELS,
    PexRequest,
    build_pex,
    needs_resolver_pip,
    pex_identity,
)
from lamina.python.platform import TargetPlatform, complete_platform, from_complete_platform

FORMAT = 1
_BLOB = {"digest": str, "size": int, "directory": bool}


def _fail(target: Target, message: str) -> BuildFileError:
    return BuildFileError(f"{target.address}: {message}", path=target.build_file, line=target.line)


def _choice(target: Target, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = target.get(name) or default
    if value not in allowed:
        raise _fail(target, f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")
    return value


def _entry_point(target: Target, context: BuildContext) -> str | None:
    """``module[:function]`` for pex's ``-e``: a file (``main.py``, ``./app.py:func``) becomes
    its module; ``pkg.mod[:func]`` and third-party modules are taken as written."""
    entry = target.get("entry_point")
    if not entry or entry == "<none>":
        return None
    found = PythonInference.of(context.graph).entry_point(target, required=entry.split(":")[0].endswith(".py"))
    return found[1] if found else entry


@dataclass(frozen=True)
class PexTargets:
    """What a pex is built for."""

    platforms: tuple[TargetPlatform, ...]  # what wheels are selected for
    documents: tuple[dict, ...]  # the same, as pex's complete platforms
    shebang: str | None = None  # None: pex's default, ``/usr/bin/env pythonX.Y`` of the platform

    @classmethod
    def of(cls, platforms: list[TargetPlatform], **kwargs) -> PexTargets:
        return cls(tuple(platforms), tuple(complete_platform(p) for p in platforms), **kwargs)


def _targets(target: Target, closure: list[Target], context: BuildContext) -> PexTargets:
    named = target.get("complete_platforms") or ()
    if named:
        platforms, documents = [], []
        for spec in named:
            owner = context.graph.address_of(spec, relative_to=target.address.spec_path, context=target)
            for path in owner.sources:
                try:
                    document = json.loads((context.build_root / path).read_text(encoding="utf-8"))
                except (OSError, ValueError) as err:
                    raise _fail(target, f"complete_platforms: cannot read {path}: {err}") from None
                platforms.append(from_complete_platform(document, path))
                documents.append(document)
        return PexTargets(tuple(platforms), tuple(documents))
    used_by = consumer_platforms(target, context)
    if used_by:
        interpreters = {p.interpreter for p in used_by}
        return PexTargets.of(used_by, shebang=interpreters.pop() if len(interpreters) == 1 else None)
    constraints = interpreter_constraints(target, closure, context.graph)
    if not constraints:
        return PexTargets.of([host_platform()])
    search_path = SearchPath(context.config.interpreter_search_path, context.build_root)
    examined = context.once(("interpreters",), lambda: examine_all(search_path, context.cache.actions))
    chosen = choose(constraints, examined, search_path, who=str(target.address))
    return PexTargets.of([chosen])


_CONSTRAINED = ("pex_binary", "python_source")  # the types with an interpreter_constraints field


def interpreter_constraints(target: Target, closure: list[Target], graph: BuildGraph) -> tuple[str, ...]:
    """As in Pants: each constrained target's own constraints (else its default: its resolve's
    or ``[python]``'s), ANDed."""
    config = graph.config
    for name, constraints in (("[python] interpreter_constraints", config.interpreter_constraints),
                              *((f"[python.resolves_to_interpreter_constraints] {r}", c)
                                for r, c in config.resolves_to_interpreter_constraints.items())):  # fmt: skip
        if bad := invalid_constraint(constraints):
            raise ConfigError(f"pants.toml: {name}: {bad!r} is not valid; write e.g. 'CPython==3.12.*'")
    lists = []
    for each in (target, *closure):
        if each.alias in _CONSTRAINED:
            own = each.get("interpreter_constraints")
            if own is not None and not (isinstance(own, list | tuple) and all(isinstance(c, str) for c in own)):
                raise _fail(each, f"interpreter_constraints must be a list of strings, not {own!r}")
            if bad := invalid_constraint(own or ()):
                raise _fail(each, f"interpreter constraint {bad!r} is not valid; write e.g. 'CPython==3.12.*'")
            lists.append(tuple(own or config.default_interpreter_constraints(graph.resolve_of(each))))
    return merge_constraints(lists)


def consumer_platforms(target: Target, context: BuildContext) -> list[TargetPlatform]:
    """The CPython platforms of the images in the graph that hold ``target`` (each once, in order);
    an image without CPython (``FROM alpine``) says nothing."""
    found: dict[str, TargetPlatform] = {}
    graph, runtime_bases = context.graph, context.registry.runtime_bases
    users = [t for t in graph.targets.values() if t.alias in runtime_bases and target in graph.dependencies(t)]
    for user in sorted(users, key=lambda t: str(t.address)):
        for base in runtime_bases[user.alias](user, context):
            try:
                platform, _ = probed(context, base)
            except ImageError:
                continue
            found.setdefault(json.dumps(platform.to_json(), sort_keys=True), platform)
    return list(found.values())


@dataclass(frozen=True)
class LockedWheels:
    """The locked distributions a pex needs on each of its platforms: known from the lock
    alone (what cache keys are made of), fetched (index pages, downloads) only when asked."""

    needed: tuple[tuple[TargetPlatform, ThirdPartyRequest, tuple[LockedDist, ...]], ...] = ()
    third_party: ThirdParty | None = None

    @property
    def dists(self) -> list[LockedDist]:
        """Every distribution, once, by name."""
        found = {d.name: d for _, _, dists in self.needed for d in dists}
        return [found[name] for name in sorted(found)]

    @property
    def pins(self) -> tuple[str, ...]:
        return tuple(sorted({f"{d.name}=={d.version}" for d in self.dists}))

    def key(self) -> list:
        """What the wheels are, for cache keys: each pin's locked hashes, per platform."""
        return [
            [platform.to_json(), [[d.name, str(d.version), sorted(a.sha256 for a in d.artifacts)] for d in dists]]
            for platform, _, dists in self.needed
        ]

    def wheels(self) -> list[Wheel]:
        """The wheels, fetched and checked (sdists built), one per file name."""
        found: dict[str, Wheel] = {}
        for platform, request, dists in self.needed:
            for wheel in self.third_party.wheels(list(dists), platform, request):
                found.setdefault(wheel.filename, wheel)
        return [found[name] for name in sorted(found)]


def _locked_wheels(target: Target, closure: list[Target], platforms: list[TargetPlatform], context) -> LockedWheels:
    texts = sorted({r for t in closure if t.alias == "python_requirement" for r in t.get("requirements", ())})
    if not texts or target.get("include_requirements") is False:
        return LockedWheels()
    resolve = context.graph.resolve_of(target)
    lock = load_lockfile(context.config.lock_path(resolve), resolve_name=resolve)
    warn_if_stale(lock, resolve, context)
    third_party = ThirdParty.of(context)
    needed = []
    for platform in platforms:
        roots = tuple(Requirement(t) for t in texts)
        request = ThirdPartyRequest(lock, resolve, roots, platform, venv_layout(context, platform))
        needed.append((platform, request, tuple(third_party.closure(request))))
    return LockedWheels(tuple(needed), third_party)


@dataclass(frozen=True)
class PexInputs:
    """Everything pex reads to build one ``.pex``."""

    request: PexRequest
    files: dict[str, Path]
    locked: LockedWheels


def pex_inputs(
    target: Target, context: BuildContext, *, platforms: list[TargetPlatform] | None = None, layout: str | None = None
) -> PexInputs:
    """What building ``target`` (a ``pex_binary``, or an image packed as a pex) hands pex; ``platforms``
    and ``layout`` override the target's (an image asks for its own platform, loose)."""
    graph = context.graph
    own = target.alias == "pex_binary"  # an image has no pex fields: pex's defaults
    layout = layout or _choice(target, "layout", LAYOUTS, "zipapp")
    mode = _choice(target, "execution_mode", EXECUTION_MODES, "zipapp") if own else "zipapp"
    inherit = target.get("inherit_path") if own else None
    if isinstance(inherit, bool):
        inherit = "prefer" if inherit else None
    if inherit is not None and inherit not in INHERIT_PATH:
        raise _fail(target, f"inherit_path={inherit!r} is not one of {', '.join(map(repr, INHERIT_PATH))}")
    if own and target.get("entry_point") and target.get("script"):
        raise _fail(target, "set entry_point or script, not both")
    closure = graph.closure([target])
    if platforms is None:
        targets = _targets(target, closure, context)
    else:
        targets = PexTargets.of(platforms, shebang=platforms[0].interpreter)
    files = first_party_files(closure, graph, context.build_root, files=False)
    if own and target.get("include_sources") is False:
        files = {path: source for path, source in files.items() if not path.endswith((".py", ".pyi"))}
    locked = _locked_wheels(target, closure, list(targets.platforms), context)
    request = PexRequest(
        entry_point=_entry_point(target, context),
        script=target.get("script") if own else None,
        args=tuple(target.get("args") or ()) if own else (),
        env=tuple(sorted((target.get("env") or {}).items())) if own else (),
        layout=layout,
        execution_mode=mode,
        include_tools=bool(target.get("include_tools")) if own else False,
        inherit_path=inherit,
        shebang=(target.get("shebang") if own else None) or targets.shebang,
        pins=locked.pins,
        complete_platforms=targets.documents,
    )
    return PexInputs(request, files, locked)


def built_pex(inputs: PexInputs, context: BuildContext) -> dict:
    """The pex of ``inputs`` in the blob store (built on a miss): ``{digest, size, directory}``."""
    cache = context.cache
    sources = sorted((path, file_digest(source)) for path, source in inputs.files.items())
    wheels = inputs.locked.key()
    key = action_key(
        "pex", FORMAT, {"pex": pex_identity(), "request": inputs.request.to_json(), "files": sources, "wheels": wheels}
    )
    hit = cache.actions.get(key, _BLOB)
    if hit is None or not cache.blobs.has(hit["digest"]):
        with cache.tempdir() as work:
            resolver = _resolver_wheels(context) if needs_resolver_pip() and inputs.locked.pins else []
            made = build_pex(inputs.request, inputs.files, inputs.locked.wheels(), work, resolver)
            hit = _store(made, cache)
        cache.actions.put(key, hit, share=False)
    return hit


def _resolver_wheels(context: BuildContext) -> list[Wheel]:
    """The pip pex resolves with on this Python (``RESOLVER_WHEELS``), fetched and checked."""
    dists = [
        LockedDist(name, Version(version), (LockedArtifact(sha256, filename=filename),))
        for name, version, filename, sha256 in RESOLVER_WHEELS
    ]
    return ThirdParty.of(context).wheels(dists, host_platform())


def package_pex_binary(target: Target, context: BuildContext) -> BuiltFile:
    """Build (or reuse) the ``.pex`` of ``target``."""
    inputs = pex_inputs(target, context)
    hit = built_pex(inputs, context)
    request = inputs.request
    what = f"{request.layout} pex, {len(request.pins)} distributions, {len(inputs.files)} first-party files"
    return BuiltFile(
        str(target.address), output_path(target), hit["digest"], hit["directory"], what, context.cache.blobs
    )


def _store(made: Path, cache) -> dict:
    """The pex in the blob store: the file itself, or a directory layout as a tar of it."""
    if made.is_file():
        digest = cache.blobs.put_file(made)
        return {"digest": digest, "size": made.stat().st_size, "directory": False}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(made.rglob("*")):
            archive.add(path, arcname=path.relative_to(made).as_posix(), recursive=False)
    data = buffer.getvalue()
    return {"digest": cache.blobs.put_bytes(data), "size": len(data), "directory": True}
