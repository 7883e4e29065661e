"""How a ``debian_base`` is built (``package``, or as an image's base) from its lock, and
what its lock must have been made for."""

from __future__ import annotations

from pathlib import Path

from lamina.backends.built import BuiltImage, output_stem
from lamina.backends.debian.target_types import DEBIAN_BASE
from lamina.debian.base import base_image
from lamina.debian.lock import DebianLock, read_lock
from lamina.debian.request import DEFAULT_EXCLUDE, sources_for
from lamina.errors import ResolveError
from lamina.graph.target import Target
from lamina.oci import Image
from lamina.oci.index import ImageIndex
from lamina.oci.mutate import created_timestamp


def _get(target: Target, name: str):
    """A field's value, or its default."""
    return target.get(name, DEBIAN_BASE.field(name).default)


def lock_path(target: Target, project) -> Path:
    """The target's lock file (absolute)."""
    name = _get(target, "lockfile") or f"{target.address.name}.lock.json"
    return project.build_root / target.address.spec_path / name


def regenerate_command(target: Target) -> str:
    """The command that (re)writes the target's lock."""
    return f"lamina generate-lockfiles --resolve={target.address}"


def target_sources(target: Target, project):
    """The archives the target reads."""
    config = project.config
    return sources_for(
        _get(target, "suite"),
        components=_get(target, "components"),
        updates=_get(target, "updates"),
        mirror=_get(target, "mirror") or config.debian_mirror,
        security_mirror=config.debian_security_mirror,
        snapshot=_get(target, "snapshot"),
    )


def lock_request(target: Target, project) -> dict:
    """What the target asks for; a lock made for another request is stale."""
    return {
        "suite": _get(target, "suite"),
        "sources": [source.to_json() for source in target_sources(target, project)],
        "packages": sorted(_get(target, "packages")),
        "exclude": sorted(set(DEFAULT_EXCLUDE) | set(_get(target, "exclude"))),
        "architectures": list(_get(target, "architectures")),
    }


def _current_lock(target: Target, project) -> DebianLock:
    path = lock_path(target, project)
    display = str(path.relative_to(project.build_root))
    lock = read_lock(path, display=display, regenerate=regenerate_command(target))
    if lock.request != lock_request(target, project):
        raise ResolveError(
            f"{display} was made for other packages, sources or architectures than {target.address} "
            f"(at {target.build_file}:{target.line}) asks for; run `{regenerate_command(target)}`"
        )
    return lock


def debian_base_images(target: Target, project) -> tuple[Image, ...]:
    """One base image per architecture, from the target's lock."""
    lock = _current_lock(target, project)
    created = created_timestamp()
    return tuple(
        base_image(
            lock.packages[architecture],
            architecture,
            project.cache,
            max_workers=project.config.max_workers,
            created=created,
        )
        for architecture in lock.request["architectures"]
    )


def package_debian_base(target: Target, project) -> BuiltImage:
    """A ``debian_base`` on its own: its image, or an index of its images."""
    key = ("base", str(target.address))
    if key not in project.memo:
        project.memo[key] = debian_base_images(target, project)
    images = project.memo[key]
    artifact = images[0] if len(images) == 1 else ImageIndex(images)
    return BuiltImage(
        address=str(target.address),
        image=artifact,
        repo_tags=(f"{target.address.name}:latest",),
        output_stem=output_stem(target.address),
    )
