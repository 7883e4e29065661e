"""Which Debian package ships a file, from the archive's ``Contents-<arch>`` index.

Used only to give advice (``numpy needs libstdc++.so.6: add libstdc++6``), so it is
read only when something is missing. The index is checked against the signed Release
file like every other index, stored by its sha256, and the answer is cached.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable

from lamina.cache import Cache, action_key
from lamina.debian.archive import Release, download_index


def packages_shipping(
    releases: Iterable[Release], architecture: str, paths: Iterable[str], transport, cache: Cache
) -> dict[str, str]:
    """In-image path -> the package that ships it, for the ``paths`` some release's
    ``Contents-<architecture>`` lists (leading slashes ignored)."""
    wanted = {p.lstrip("/").encode() for p in paths}
    indexes = [
        (release, f"{component}/Contents-{architecture}.gz")
        for release in releases
        for component in release.source.components
        if f"{component}/Contents-{architecture}.gz" in release.files
    ]
    key = action_key(
        "debian-contents",
        1,
        {"indexes": sorted(r.files[name].sha256 for r, name in indexes), "paths": sorted(map(bytes.decode, wanted))},
    )
    hit = cache.actions.get(key, {"found": dict})
    if hit is not None:
        return hit["found"]
    found: dict[str, str] = {}
    for release, name in indexes:
        blob = download_index(release, name, transport, cache)
        with gzip.open(cache.blobs.path(blob)) as lines:
            for line in lines:
                path, _, location = line.rstrip().rpartition(b" ")
                path = path.rstrip()
                if path in wanted and path.decode() not in found:
                    package = location.decode().split(",")[0].rsplit("/", 1)[-1]
                    found[path.decode()] = package
    cache.actions.put(key, {"found": found}, share=False)
    return found
