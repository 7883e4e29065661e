"""What a ``debian_base`` asks for: the archives to read and the packages to leave out.

Kept apart from the archive readers so that building from a lock imports no parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SNAPSHOT = "https://snapshot.debian.org/archive"
# Needed only to install, configure or manage packages; a distroless image runs none of that.
DEFAULT_EXCLUDE = (
    "adduser", "awk", "cdebconf", "debconf", "debconf-2.0", "debianutils", "dpkg", "init-system-helpers",
    "install-info", "lsb-base", "passwd", "sysvinit-utils", "ucf", "usr-is-merged", "usrmerge",
)  # fmt: skip


@dataclass(frozen=True)
class Source:
    """One ``deb URL SUITE COMPONENTS`` line of a sources.list."""

    url: str
    suite: str
    components: tuple[str, ...] = ("main",)

    def __str__(self) -> str:
        return f"{self.url} {self.suite} {' '.join(self.components)}"

    def to_json(self) -> dict:
        """The source, for the lock."""
        return {"url": self.url, "suite": self.suite, "components": list(self.components)}


def sources_for(
    suite: str,
    *,
    components: Sequence[str] = ("main",),
    updates: bool = True,
    mirror: str,
    security_mirror: str,
    snapshot: str | None = None,
) -> list[Source]:
    """The sources a Debian install of ``suite`` uses: the suite, and with ``updates`` its
    ``-updates`` and ``-security`` suites. ``snapshot`` (e.g. ``20241101T000000Z``) reads
    both archives as they were at that time, from snapshot.debian.org."""
    if snapshot:
        mirror, security_mirror = f"{SNAPSHOT}/debian/{snapshot}", f"{SNAPSHOT}/debian-security/{snapshot}"
    comps = tuple(components)
    found = [Source(mirror.rstrip("/"), suite, comps)]
    if updates:
        found.append(Source(mirror.rstrip("/"), f"{suite}-updates", comps))
        found.append(Source(security_mirror.rstrip("/"), f"{suite}-security", comps))
    return found
