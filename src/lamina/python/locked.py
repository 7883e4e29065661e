"""A locked distribution and its artifacts: what every lock format is read into."""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.version import Version

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def fix_command(resolve_name: str | None) -> str:
    """What regenerates the lock of ``resolve_name``."""
    return f"re-run `lamina generate-lockfiles --resolve={resolve_name or '<resolve>'}`"


@dataclass(frozen=True)
class LockedArtifact:
    """One file of a locked distribution, known by its sha256 (and, in pex locks, its URL)."""

    sha256: str
    url: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class LockedDist:
    """One pinned distribution: the version the resolve chose and the artifacts it allows.

    ``marker`` is the environment marker on the lock line (pip-tools), if any: the lock
    says the distribution is installed only where it holds. ``requires_dists`` is what
    the lock records of the distribution's own dependencies, or ``None`` when the format
    does not record them (pip-tools) and they must come from the artifact's metadata.
    ``line`` is the 1-based line of the pin in the lock file, where the format has lines.
    """

    name: str
    version: Version
    artifacts: tuple[LockedArtifact, ...]
    marker: Marker | None = None
    requires_dists: tuple[Requirement, ...] | None = None
    line: int | None = None
