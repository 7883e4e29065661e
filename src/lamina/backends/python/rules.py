"""How a ``python_image`` is built: base -> third-party layer -> app layer -> config.

Every step reads only values and writes only the cache; outputs are written by the
``package`` goal.
"""

from __future__ import annotations

import posixpath
import subprocess

from packaging.requirements import Requirement

from lamina.backends.core.target_types import FILE_ALIASES, RESOURCE_ALIASES
from lamina.backends.python.app import AppFile, app_layer
from lamina.backends.python.built import BuiltImage
from lamina.backends.python.image_config import configure
from lamina.backends.python.platform_probe import target_platform
from lamina.backends.python.third_party import ThirdParty, ThirdPartyRequest
from lamina.errors import ImageError
from lamina.graph.target import Target
from lamina.oci.mutate import append_layer
from lamina.python.install import VenvLayout
from lamina.python.lockfile import load_lockfile
from lamina.sources import load_base


def _git_revision(build_root) -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=build_root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _app_files(closure: list[Target], project) -> list[AppFile]:
    roots = project.graph.source_roots
    app_dir = project.config.app_dir
    files = []
    for target in closure:
        if target.alias == "python_source" or target.alias in RESOURCE_ALIASES:
            files.extend(
                AppFile(posixpath.join(app_dir, roots.strip(p)), project.build_root / p) for p in target.sources
            )
        elif target.alias in FILE_ALIASES:
            files.extend(AppFile(posixpath.join(app_dir, p), project.build_root / p) for p in target.sources)
    return files


def package_python_image(target: Target, project) -> BuiltImage:
    """Assemble the image for ``target`` (cached step by step)."""
    config, graph, cache = project.config, project.graph, project.cache
    base_spec = target.get("base") or config.default_base
    if not base_spec:
        raise ImageError(
            f"{target.address} (at {target.build_file}:{target.line}) has no base=; set it, or [oci] default_base in pants.toml"
        )
    base = load_base(base_spec, project.build_root, cache)
    platform = target_platform(base, cache)
    closure = graph.closure([target])
    _, entry_point = graph.entry_point(target)

    resolve = graph.resolve_of(target)
    requirements = sorted({r for t in closure if t.alias == "python_requirement" for r in t.get("requirements", ())})
    layout = VenvLayout(config.venv_dir, ".".join(platform.python_version.split(".")[:2]))
    third_party = ThirdParty(cache, project.index, max_workers=config.max_workers)
    if requirements:
        lock = load_lockfile(config.lock_path(resolve), resolve_name=resolve)
        request = ThirdPartyRequest(lock, resolve, tuple(Requirement(r) for r in requirements), platform, layout)
        deps_layer, dists = third_party.layer(request)
    else:
        deps_layer, dists = third_party.empty_layer(platform, layout), []

    image = append_layer(base, deps_layer, created_by=f"lamina: third-party requirements of {target.address}")
    app = app_layer(_app_files(closure, project), app_dir=config.app_dir, entry_point=entry_point, cache=cache)
    image = append_layer(image, app, created_by=f"lamina: application {target.address}")

    annotations = {"org.opencontainers.image.title": str(target.address)}
    revision = _git_revision(project.build_root)
    if revision:
        annotations["org.opencontainers.image.revision"] = revision
    if target.get("description"):
        annotations["org.opencontainers.image.description"] = target.get("description")
    image = configure(
        image,
        venv_dir=config.venv_dir,
        app_dir=config.app_dir,
        env=target.get("env", {}),
        ports=target.get("ports", ()),
        user=target.get("user"),
        workdir=target.get("workdir"),
        labels=target.get("labels", {}),
        annotations=annotations,
    )
    repository = target.get("repository") or target.address.name
    tags = target.get("tags") or ("latest",)
    stem = posixpath.join(target.address.spec_path.replace("/", ".") or ".", target.address.name)
    return BuiltImage(
        address=str(target.address),
        image=image,
        repo_tags=tuple(f"{repository}:{tag}" for tag in tags),
        output_stem=stem,
        third_party=tuple(f"{d.name}=={d.version}" for d in dists),
    )
