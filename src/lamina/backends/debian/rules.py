"""How a ``debian_base`` is built (``package``, or as an image's base) from its lock, and
what its lock must have been made for."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path

from lamina.backends.built import BuiltImage, output_stem
from lamina.backends.context import BuildContext
from lamina.backends.debian.target_types import DEBIAN_BASE
from lamina.debian.base import PLATFORMS, base_image
from lamina.debian.lock import DebianLock, read_lock
from lamina.debian.request import DEFAULT_EXCLUDE, sources_for
from lamina.errors import ResolveError
from lamina.graph.target import Target
from lamina.oci import Image
from lamina.oci.index import ImageIndex, host_architecture
from lamina.oci.mutate import UNSTAMPED_CREATED
from lamina.redact import split_credentials
from lamina.transport import netloc


def _get(target: Target, name: str):
    """A field's value, or its default."""
    return target.get(name, DEBIAN_BASE.field(name).default)


def lock_file(target: Target) -> str:
    """The target's lock file, relative to the build root."""
    name = _get(target, "lockfile") or f"{target.address.name}.lock.json"
    return posixpath.join(target.address.spec_path, name)


def lock_path(target: Target, context: BuildContext) -> Path:
    """The target's lock file (absolute)."""
    return context.build_root / lock_file(target)


def regenerate_command(target: Target) -> str:
    """The command that (re)writes the target's lock."""
    return f"lamina generate-lockfiles --resolve={target.address}"


def target_sources(target: Target, context: BuildContext):
    """The archives the target reads."""
    config = context.config
    mirror, credentials = split_credentials(_get(target, "mirror") or config.debian_mirror)
    if credentials is not None:  # kept out of the lock and every message; sent only to that host
        context.transport.credentials[netloc(mirror)] = credentials
    return sources_for(
        _get(target, "suite"),
        components=_get(target, "components"),
        updates=_get(target, "updates"),
        mirror=mirror,
        security_mirror=config.debian_security_mirror,
        snapshot=_get(target, "snapshot"),
    )


def lock_request(target: Target, context: BuildContext) -> dict:
    """What the target asks for; a lock made for another request is stale."""
    return {
        "suite": _get(target, "suite"),
        "sources": [source.to_json() for source in target_sources(target, context)],
        "packages": sorted(_get(target, "packages")),
        "exclude": sorted(set(DEFAULT_EXCLUDE) | set(_get(target, "exclude"))),
        "architectures": list(_get(target, "architectures")),
    }


def _current_lock(target: Target, context: BuildContext) -> DebianLock:
    path = lock_path(target, context)
    display = str(path.relative_to(context.build_root))
    lock = read_lock(path, display=display, regenerate=regenerate_command(target))
    if lock.request != lock_request(target, context):
        raise ResolveError(
            f"{display} was made for other packages, sources or architectures than {target.address} "
            f"(at {target.build_file}:{target.line}) asks for; run `{regenerate_command(target)}`"
        )
    return lock


def debian_base_images(target: Target, context: BuildContext) -> tuple[Image, ...]:
    """One base image per architecture, from the target's lock. With workers to spare, the
    image of this machine's architecture is unpacked for the sandbox (bytecode, sdists) as
    its layers are written, off the path of the first build that needs it."""
    lock = _current_lock(target, context)
    here = host_architecture()
    return tuple(
        base_image(
            lock.packages[architecture],
            architecture,
            context.cache,
            context.transport,
            max_workers=context.config.max_workers,
            jobs=context.jobs,
            tree=context.jobs > 1 and PLATFORMS.get(architecture, (None,))[0] == here,
            created=UNSTAMPED_CREATED,
        )
        for architecture in lock.request["architectures"]
    )


def package_debian_base(target: Target, context: BuildContext) -> BuiltImage:
    """A ``debian_base`` on its own: its image, or an index of its images."""
    images = context.once(("base", str(target.address)), lambda: debian_base_images(target, context))
    artifact = images[0] if len(images) == 1 else ImageIndex(images)
    return BuiltImage(
        address=str(target.address),
        image=artifact,
        repo_tags=(f"{target.address.name}:latest",),
        output_stem=output_stem(target.address),
    )


def library_advice(
    target: Target, context, platform, sonames: list[str], dirs: list[str], known: Mapping[str, str] | None = None
) -> str:
    """Which packages to add to the ``debian_base`` ``target`` for ``sonames``: those ``known``
    (from the builder's package database), the rest found in the target's archives' Contents
    index (read only now, when something is missing)."""
    from lamina.debian.archive import Keyring, fetch_release
    from lamina.debian.contents import packages_shipping
    from lamina.errors import LaminaError

    where = f"{target.address} (at {target.build_file}:{target.line})"
    fix = f"then run `{regenerate_command(target)}`"
    packages = dict(known or {})
    unknown = [s for s in sonames if s not in packages]
    if unknown:
        architecture = next((deb for deb, (oci, _) in PLATFORMS.items() if oci == platform.architecture), None)
        try:
            keyring = Keyring(context.config.debian_keyring)
            verify = context.config.debian_verify_signatures
            releases = [
                fetch_release(s, context.transport, keyring, verify=verify) for s in target_sources(target, context)
            ]
            paths = [f"{d}/{s}" for d in dirs for s in unknown]
            found = packages_shipping(releases, architecture or "", paths, context.transport, context.cache)
        except LaminaError as err:
            return f"Add the Debian packages that ship {', '.join(sonames)} to the packages of {where}, {fix} ({err})."
        packages |= {s: pkg for path, pkg in sorted(found.items()) for s in unknown if path.endswith("/" + s)}
    advice = []
    if packages:
        advice.append(f"Add {', '.join(sorted(set(packages.values())))} to the packages of {where}, {fix}.")
    unknown = [s for s in sonames if s not in packages]
    if unknown:
        advice.append(f"No package of its archives ships {', '.join(unknown)} in {', '.join(dirs)}.")
    return " ".join(advice)
