"""What a base image offers Python: its platform (CPython, machine, libc) and its shared
libraries, read from its files once (from its sandbox tree when this run has unpacked it,
else from its layers) and cached by its config digest."""

from __future__ import annotations

from lamina.backends.context import BuildContext
from lamina.cache import Cache, action_key
from lamina.cache.image_trees import unpacked
from lamina.oci import Image
from lamina.oci.rootfs import DirectoryTree, LayeredTree
from lamina.python.native import BASE_SHAPE, BaseLibraries, base_libraries
from lamina.python.platform import TargetPlatform, detect_platform

_PLATFORM_SHAPE = {
    "python_version": str, "interpreter": str, "machine": str, "libc": str, "libc_version": [int], "stdlib_dir": str,
}  # fmt: skip


def probe_base(base: Image, cache: Cache) -> tuple[TargetPlatform, BaseLibraries]:
    """What ``base`` runs and which libraries its loader finds; never executes the image."""
    key = action_key("target-platform", 2, {"config": base.config_descriptor.digest})
    hit = cache.actions.get(key, {"platform": _PLATFORM_SHAPE, "libraries": BASE_SHAPE})
    if hit is not None and len(hit["platform"]["libc_version"]) == 2:
        return TargetPlatform.from_json(hit["platform"]), BaseLibraries.from_json(hit["libraries"])
    root = unpacked(base, cache)
    tree = DirectoryTree(root) if root is not None else LayeredTree.from_image(base)
    platform = detect_platform(tree)
    libraries = base_libraries(tree, platform.machine, platform.libc)
    cache.actions.put(key, {"platform": platform.to_json(), "libraries": libraries.to_json()})
    return platform, libraries


def probed(context: BuildContext, image: Image) -> tuple[TargetPlatform, BaseLibraries]:
    """``probe_base``, once per image per run (hundreds of images share a base)."""
    return context.once(("probe", image.digest), lambda: probe_base(image, context.cache))
