"""How a ``debian_base`` is locked (``generate-lockfiles``) and built (``package``, or as
an image's base)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lamina.backends.built import BuiltImage, output_stem
from lamina.backends.debian.target_types import DEBIAN_BASE
from lamina.debian.archive import Keyring, fetch_release, packages, sources_for
from lamina.debian.base import base_image
from lamina.debian.lock import DebianLock, LockedDeb, read_lock
from lamina.debian.resolve import DEFAULT_EXCLUDE, Resolver
from lamina.download import session
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


def _sources(target: Target, project):
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
        "sources": [source.to_json() for source in _sources(target, project)],
        "packages": sorted(_get(target, "packages")),
        "exclude": sorted(set(DEFAULT_EXCLUDE) | set(_get(target, "exclude"))),
        "architectures": list(_get(target, "architectures")),
    }


def generate_lock(target: Target, project, *, verify: bool = True) -> tuple[Path, DebianLock]:
    """Resolve the target's packages against its verified sources and write its lock."""
    request = lock_request(target, project)
    sources = _sources(target, project)
    http = session(project.config.max_workers)
    keyring = Keyring(project.config.debian_keyring)
    releases = [fetch_release(source, http, keyring, verify=verify) for source in sources]
    where = f"{target.address} (at {target.build_file}:{target.line}): "

    def resolve(architecture: str) -> tuple[LockedDeb, ...]:
        candidates = [c for release in releases for c in packages(release, architecture, http, project.cache)]
        resolved = Resolver(candidates, exclude=request["exclude"]).resolve(request["packages"], where=where)
        return tuple(LockedDeb(c.name, c.version, c.architecture, c.url, c.size, c.sha256) for c in resolved)

    with ThreadPoolExecutor(max_workers=2) as pool:
        pinned = dict(zip(request["architectures"], pool.map(resolve, request["architectures"])))
    lock = DebianLock(request, pinned)
    path = lock_path(target, project)
    lock.write(path)
    return path, lock


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
