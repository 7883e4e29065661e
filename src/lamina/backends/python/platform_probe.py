"""The target platform of a base image, read from its files once and cached by its config digest."""

from __future__ import annotations

from lamina.cache import Cache, action_key
from lamina.oci import Image
from lamina.oci.rootfs import LayeredTree
from lamina.python.platform import TargetPlatform, detect_platform


def target_platform(base: Image, cache: Cache) -> TargetPlatform:
    """What ``base`` runs: CPython version and path, machine, libc; never executes the image."""
    key = action_key("target-platform", 1, {"config": base.config_descriptor.digest})
    hit = cache.actions.get(key)
    if hit is not None:
        return TargetPlatform.from_json(hit)
    platform = detect_platform(LayeredTree.from_image(base))
    cache.actions.put(key, platform.to_json())
    return platform
