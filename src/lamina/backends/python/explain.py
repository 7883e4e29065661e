"""Why each layer of an image was rebuilt or reused, for ``package -v``.

After an image is assembled, what its layers were made of (the base's digest, each
locked distribution's version and sha256s, each app file's sha256, the layer formats and
lamina's version) is recorded in the cache per target and platform. The next build
compares with that record: a layer made in this run is explained by the inputs that
changed (a lock entry, a file, the base, lamina's layer format), a layer reused is a
cache hit, in the local cache or the remote one. The record is rewritten only when it
changes, so a no-op build reads it and writes nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lamina import __version__
from lamina.cache import Cache, action_key
from lamina.python.lockfile import LockedDist

log = logging.getLogger(__name__)

_SHOWN = 5  # changed files named at most, per layer


@dataclass(frozen=True)
class MadeLayer:
    """One layer lamina made for the image: what kind, what it holds, its digest."""

    kind: str  # "venv", "third-party" or "app"
    digest: str
    dists: tuple[str, ...] = ()  # third-party: the distributions' names


def inputs_of(
    base: str, dists: Sequence[LockedDist], sources: dict[str, str], formats: dict[str, int], root: Path
) -> dict:
    """The record of what an image's own layers were made of (source paths relative to the
    build root, so another checkout of the same commit compares equal)."""
    return {
        "base": base,
        "dists": {d.name: [str(d.version), sorted(a.sha256 for a in d.artifacts)] for d in dists},
        "sources": {_relative(path, root): digest for path, digest in sorted(sources.items())},
        "formats": {**formats, "lamina": __version__},
    }


def _relative(path: str, root: Path) -> str:
    prefix = str(root) + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else os.path.relpath(path, root)


def _key(address: str, platform: str) -> str:
    return action_key("last-inputs", 1, {"address": address, "platform": platform})


def explain(address: str, platform: str, layers: Sequence[MadeLayer], inputs: dict, cache: Cache) -> None:
    """Log (at INFO) why each layer was made or reused, then record ``inputs`` for the next build."""
    key = _key(address, platform)
    previous = cache.actions.get(key, {"base": str, "dists": dict, "sources": dict, "formats": dict})
    if log.isEnabledFor(logging.INFO):
        if previous is not None and previous["base"] != inputs["base"]:
            log.info("%s (%s): the base changed: %s -> %s", address, platform, previous["base"], inputs["base"])
        for layer in layers:
            log.info("%s (%s): %s", address, platform, _line(layer, inputs, previous, cache))
    if previous != inputs:
        cache.actions.put(key, inputs, share=False)


def _what(layer: MadeLayer) -> str:
    if layer.kind == "third-party":
        return f"third-party layer {', '.join(layer.dists)} ({layer.digest[:19]})"
    return f"{layer.kind} layer ({layer.digest[:19]})"


def _line(layer: MadeLayer, inputs: dict, previous: dict | None, cache: Cache) -> str:
    if layer.digest not in cache.blobs.made:
        # From the remote cache: fetched in this run, or still only there (its layers are fetched lazily).
        remote = layer.digest in cache.blobs.fetched or not cache.blobs.has(layer.digest)
        where = "the remote cache" if remote else "the local cache"
        return f"{_what(layer)} reused: a cache hit in {where}"
    return f"{_what(layer)} rebuilt: {'; '.join(_reasons(layer, inputs, previous))}"


def _reasons(layer: MadeLayer, inputs: dict, previous: dict | None) -> list[str]:
    """The inputs of ``layer`` that differ from the last build's, most specific first."""
    if previous is None:
        return ["first build of this image with this cache (no record of an earlier one)"]
    reasons = []
    if layer.kind == "third-party":
        for name in layer.dists:
            now, before = inputs["dists"][name], previous["dists"].get(name)
            if before is None:
                reasons.append(f"{name}=={now[0]} is new in this image")
            elif before[0] != now[0]:
                reasons.append(f"lock entry {name}: {before[0]} -> {now[0]}")
            elif before[1] != now[1]:
                reasons.append(f"lock entry {name}=={now[0]}: its artifacts' sha256s changed")
        gone = sorted(set(previous["dists"]) - set(inputs["dists"]))
        if reasons and gone:
            reasons.append(f"no longer in the image: {', '.join(gone)}")
    elif layer.kind == "app":
        now, before = inputs["sources"], previous["sources"]
        changed = [p for p in sorted(now) if before.get(p) not in (None, now[p])]
        added, removed = sorted(set(now) - set(before)), sorted(set(before) - set(now))
        for verb, paths in (("changed", changed), ("added", added), ("removed", removed)):
            if paths:
                shown = ", ".join(paths[:_SHOWN])
                more = f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
                reasons.append(f"file {verb}: {shown}{more}")
    if reasons:
        return reasons
    if previous["base"] != inputs["base"]:
        return ["the base changed (its interpreter or platform)"]
    if previous["formats"] != inputs["formats"]:
        return [f"lamina's layer format changed ({previous['formats']} -> {inputs['formats']})"]
    return ["its inputs did not change, but its cache entry was missing (a new or cleared cache)"]
