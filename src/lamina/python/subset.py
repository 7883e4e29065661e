"""The part of a lock one image needs: the roots' transitive closure on the target platform.

Like Pants' lockfile subsetting, no resolver runs: the lock already chose every version.
Starting from the image's requirements, each distribution's dependencies (from the lock
when it records them, else from the artifact's metadata) are followed where their
markers hold for the target platform and the extras asked for. Every edge is checked
against the pin, so a lock that no longer matches its requirements is caught here, with
the command that regenerates it.

A lock line's own marker (pip-tools copies ``; marker`` from the requirements it was
made from) is honoured the way ``pip install -r`` would: where it is false the
distribution is not installed, and neither are its dependencies.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from lamina.errors import ResolveError
from lamina.python.lockfile import LockedDist, Lockfile
from lamina.python.platform import TargetPlatform

MetadataProvider = Callable[[LockedDist], Sequence[Requirement]]
"""``Requires-Dist`` of a locked distribution, for locks that do not record dependencies."""

_BASE = ""  # the distribution itself, without any extra


@dataclass(frozen=True)
class _Need:
    """A requirement on the worklist, and who asked for it (None for a root) for error messages."""

    requirement: Requirement
    required_by: str | None


def subset_lock(
    lock: Lockfile,
    roots: Sequence[Requirement],
    platform: TargetPlatform,
    requires_of: MetadataProvider,
    resolve_name: str,
) -> list[LockedDist]:
    """The locked distributions ``roots`` need on ``platform``, sorted by name.

    Raises ``ResolveError`` naming the requirement, who needs it, the lock and the fix when
    a needed distribution is not in the lock or its pin does not satisfy the requirement.
    """
    environment = platform.marker_environment()

    def holds(requirement: Requirement, extra: str) -> bool:
        return requirement.marker is None or requirement.marker.evaluate({**environment, "extra": extra})

    activated: dict[NormalizedName, set[str]] = {}
    dependencies: dict[NormalizedName, Sequence[Requirement]] = {}
    chosen: dict[NormalizedName, LockedDist] = {}
    work = deque(_Need(root, None) for root in roots if holds(root, _BASE))
    while work:
        need = work.popleft()
        dist = _pinned(lock, need, resolve_name)
        if dist.marker is not None and not dist.marker.evaluate({**environment, "extra": _BASE}):
            continue
        chosen[dist.name] = dist
        extras = activated.setdefault(dist.name, set())
        new_extras = sorted({_BASE, *(canonicalize_name(e) for e in need.requirement.extras)} - extras)
        if new_extras and dist.name not in dependencies:
            recorded = dist.requires_dists
            dependencies[dist.name] = recorded if recorded is not None else requires_of(dist)
        for extra in new_extras:
            extras.add(extra)
            asker = f"{dist.name}=={dist.version}" + (f"[{extra}]" if extra else "")
            work.extend(_Need(dep, asker) for dep in dependencies[dist.name] if holds(dep, extra))
    return [chosen[name] for name in sorted(chosen)]


def _pinned(lock: Lockfile, need: _Need, resolve_name: str) -> LockedDist:
    """The lock's pin for a needed requirement, checked against its specifier."""
    requirement = need.requirement
    who = f"needed by {need.required_by}" if need.required_by else "a root requirement"
    fix = (
        f"add it to the requirements of resolve {resolve_name!r} if missing, then run "
        f"`lamina generate-lockfiles --resolve={resolve_name}`"
    )
    dist = lock.get(requirement.name)
    if dist is None:
        raise ResolveError(f"`{requirement}` ({who}) is not in the lock {lock.path} of resolve {resolve_name!r}; {fix}")
    if not requirement.specifier.contains(dist.version, prereleases=True):
        raise ResolveError(
            f"`{requirement}` ({who}) is not satisfied by {dist.name}=={dist.version} in the lock "
            f"{lock.path} of resolve {resolve_name!r}; {fix}"
        )
    return dist
