"""Which Debian package ships a file, read from a root filesystem's own package database:
dpkg's ``/var/lib/dpkg/info/<package>.list`` or the distroless ``status.d/<package>.md5sums``
lamina writes. Reading only: nothing in the tree is run.

Both name paths as the package ships them, and the md5sums name regular files only, so
a wanted path and each listed candidate are compared after resolving symlinks inside the
tree (``libpq.so.5 -> libpq.so.5.15``, merged ``/lib -> usr/lib``)."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Iterator
from pathlib import Path

_MAX_LINKS = 40  # as the kernel's limit on symlinks followed in one lookup


def resolve_within(root: Path, path: str) -> str | None:
    """``path`` (absolute, as inside the tree) with every symlink resolved inside ``root``,
    or None when it does not exist there or loops."""
    pending = [p for p in path.split("/") if p]
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part in (".", ""):
            continue
        if part == "..":
            resolved = resolved[:-1]
            continue
        candidate = root.joinpath(*resolved, part)
        if candidate.is_symlink():
            links += 1
            if links > _MAX_LINKS:
                return None
            target = os.readlink(candidate)
            pending = [p for p in target.split("/") if p] + pending
            if target.startswith("/"):
                resolved = []
            continue
        if not candidate.exists():
            return None
        resolved.append(part)
    return "/" + "/".join(resolved)


def _listed(root: Path) -> Iterator[tuple[str, str]]:
    """(package, path) for every path the tree's package database names."""
    status = root / "var/lib/dpkg/status.d"
    for listing in sorted(status.glob("*.md5sums")) if status.is_dir() else ():
        package = listing.name.removesuffix(".md5sums")
        for line in listing.read_text(errors="replace").splitlines():
            yield package, line.partition("  ")[2]
    info = root / "var/lib/dpkg/info"
    for listing in sorted(info.glob("*.list")) if info.is_dir() else ():
        package = listing.name.removesuffix(".list").split(":")[0]  # multi-arch: libpq5:amd64.list
        for line in listing.read_text(errors="replace").splitlines():
            yield package, line


def packages_shipping(root: Path, paths: Iterable[str]) -> dict[str, str]:
    """``{path: package}`` for each of ``paths`` that exists in ``root`` and that a package
    of its database ships (the file itself or what its symlinks lead to)."""
    wanted: dict[str, str] = {}  # resolved path -> first asked path
    for path in paths:
        resolved = resolve_within(root, path)
        if resolved is not None:
            wanted.setdefault(resolved, path)
    names = {posixpath.basename(p) for p in wanted}
    found: dict[str, str] = {}
    for package, listed in _listed(root):
        if posixpath.basename(listed) in names:
            resolved = resolve_within(root, "/" + listed.lstrip("/"))
            if resolved in wanted:
                found.setdefault(wanted[resolved], package)
    return found
