"""How an image's third-party distributions are split into layers, so layers follow the
dependency graph: what two services share, they share byte for byte, and a lock bump
re-uploads only the layer of what changed.

Each heavy distribution (``HEAVY`` bytes or more installed) gets a layer of its own,
whose bytes depend only on that distribution, the platform and the venv path: every
image with ``numpy==X`` on the same base carries the same ``numpy`` layer digest. The
others are grouped by how often they change (releases apart from pre-releases, local
versions and direct references) and, within releases, into a few groups fixed by a hash
of the name, so one bumped distribution changes one small group and never shifts another
distribution into a different group. At most ``MAX_LAYERS`` layers: beyond that, the
smallest heavy distributions join the groups. The plan is a pure function of the
distributions and their installed sizes; its order is stable (heavy layers by name, then
the groups), so a node that holds one image's lower layers holds them for the next.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lamina.python.lockfile import LockedDist

HEAVY = 5 << 20  # installed bytes from which a distribution has a layer of its own
RELEASE_GROUPS = 4  # groups the small released distributions are spread over
MAX_LAYERS = 24  # third-party layers per image at most (the 127-layer limit counts the base's too)


@dataclass(frozen=True)
class LayerUnit:
    """The distributions of one third-party layer, sorted by name."""

    dists: tuple[LockedDist, ...]
    heavy: bool  # one distribution of HEAVY bytes or more

    def describe(self) -> str:
        """``name==version`` of each distribution, for the layer's history and ``lamina layers``."""
        return ", ".join(f"{d.name}=={d.version}" for d in self.dists)


def changes_often(dist: LockedDist) -> bool:
    """A pre-release, development or local version, or an artifact from a direct URL (not an index)."""
    version = dist.version
    direct = any(a.url and not a.url.startswith(("https://", "http://")) for a in dist.artifacts)
    return version.is_prerelease or version.is_devrelease or version.local is not None or direct


def _group(name: str) -> int:
    return zlib.crc32(name.encode()) % RELEASE_GROUPS


def plan_layers(
    dists: Sequence[LockedDist], installed: Mapping[str, int], *, heavy: int = HEAVY, max_layers: int = MAX_LAYERS
) -> list[LayerUnit]:
    """The layers ``dists`` are installed in, bottom to top; ``installed`` is each
    distribution's installed size in bytes, by name."""
    by_size = sorted((d for d in dists if installed[d.name] >= heavy), key=lambda d: (-installed[d.name], d.name))
    own = by_size[: max(0, max_layers - RELEASE_GROUPS - 1)]
    rest = [d for d in dists if d not in own]
    groups: dict[tuple[int, int], list[LockedDist]] = {}
    for dist in rest:
        groups.setdefault((1, 0) if changes_often(dist) else (0, _group(dist.name)), []).append(dist)
    units = [LayerUnit((d,), heavy=True) for d in sorted(own, key=lambda d: d.name)]
    units += [LayerUnit(tuple(sorted(groups[k], key=lambda d: d.name)), heavy=False) for k in sorted(groups)]
    return units
