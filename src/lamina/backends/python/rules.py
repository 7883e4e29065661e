"""How a ``python_image`` is built: base -> third-party layer -> app layer -> config,
once per platform of the base.

Every step reads only values and writes only the cache; outputs are written by the
``package`` goal.
"""

from __future__ import annotations

import posixpath
import subprocess
from dataclasses import dataclass

from packaging.requirements import Requirement

from lamina.backends.bases import base_images
from lamina.backends.built import BuiltImage, output_stem
from lamina.backends.core.target_types import FILE_ALIASES, RESOURCE_ALIASES
from lamina.backends.python.app import AppFile, app_layer
from lamina.backends.python.image_config import configure
from lamina.backends.python.platform_probe import target_platform
from lamina.backends.python.third_party import ThirdParty, ThirdPartyRequest
from lamina.graph.target import Target
from lamina.oci import Image
from lamina.oci.index import ImageIndex
from lamina.oci.mutate import append_layer
from lamina.python.install import VenvLayout
from lamina.python.lockfile import load_lockfile


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


def _image_on(base: Image, target: Target, project, request: _Request, app) -> tuple[Image, list]:
    """The image of ``target`` on one base: its third-party layer for the base's platform, then the app."""
    config, cache = project.config, project.cache
    platform = target_platform(base, cache)
    layout = VenvLayout(config.venv_dir, ".".join(platform.python_version.split(".")[:2]))
    third_party = ThirdParty(cache, project.index, max_workers=config.max_workers)
    if request.requirements:
        deps_layer, dists = third_party.layer(
            ThirdPartyRequest(request.lock, request.resolve, request.requirements, platform, layout)
        )
    else:
        deps_layer, dists = third_party.empty_layer(platform, layout), []
    image = append_layer(base, deps_layer, created_by=f"lamina: third-party requirements of {target.address}")
    image = append_layer(image, app, created_by=f"lamina: application {target.address}")
    image = configure(
        image,
        venv_dir=config.venv_dir,
        app_dir=config.app_dir,
        env=target.get("env", {}),
        ports=target.get("ports", ()),
        user=target.get("user"),
        workdir=target.get("workdir"),
        labels=target.get("labels", {}),
        annotations=request.annotations,
    )
    return image, dists


@dataclass(frozen=True)
class _Request:
    """What every platform's image of one target shares."""

    lock: object
    resolve: str
    requirements: tuple[Requirement, ...]
    annotations: dict


def package_python_image(target: Target, project) -> BuiltImage:
    """Assemble the image for ``target`` (cached step by step); on a multi-architecture
    base, one image per platform under an image index."""
    config, graph, cache = project.config, project.graph, project.cache
    bases = base_images(target, project)
    closure = graph.closure([target])
    _, entry_point = graph.entry_point(target)

    resolve = graph.resolve_of(target)
    requirements = sorted({r for t in closure if t.alias == "python_requirement" for r in t.get("requirements", ())})
    lock = load_lockfile(config.lock_path(resolve), resolve_name=resolve) if requirements else None
    annotations = {"org.opencontainers.image.title": str(target.address)}
    revision = _git_revision(project.build_root)
    if revision:
        annotations["org.opencontainers.image.revision"] = revision
    if target.get("description"):
        annotations["org.opencontainers.image.description"] = target.get("description")
    request = _Request(lock, resolve, tuple(Requirement(r) for r in requirements), annotations)

    app = app_layer(_app_files(closure, project), app_dir=config.app_dir, entry_point=entry_point, cache=cache)
    built = [_image_on(base, target, project, request, app) for base in bases]
    images = tuple(image for image, _ in built)
    repository = target.get("repository") or target.address.name
    tags = target.get("tags") or ("latest",)
    return BuiltImage(
        address=str(target.address),
        image=images[0] if len(images) == 1 else ImageIndex(images, annotations),
        repo_tags=tuple(f"{repository}:{tag}" for tag in tags),
        output_stem=output_stem(target.address),
        third_party=tuple(f"{d.name}=={d.version}" for d in built[0][1]),
    )
