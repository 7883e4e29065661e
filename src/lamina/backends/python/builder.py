"""The builder of an image's compiled sdists, named by ``python_image(builder=...)`` or
``[python] builder``: a ``debian_base`` with a compiler and CPython's headers, or any image a
base may name (``docker-archive:``, ``oci-layout:``, a registry reference) that carries them.
It is taken for the image's architecture, checked to run the same CPython X.Y, machine and
libc as the image, and unpacked into the cache (``trees/``) for the sandbox when first needed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lamina.backends.bases import spec_images
from lamina.backends.context import BuildContext
from lamina.backends.python.platform_probe import probed
from lamina.cache import Cache
from lamina.cache.image_trees import image_tree
from lamina.errors import ImageError
from lamina.graph.target import Target
from lamina.oci import Image
from lamina.python.platform import TargetPlatform
from lamina.sandbox import emulation_problem


@dataclass(frozen=True)
class Builder:
    """A builder image, its interpreter, and what identifies it; its root filesystem is
    unpacked into the cache (and checked) only when something is built in it."""

    address: str
    image: Image
    cache: Cache
    python: str
    machine: str  # as uname says it: x86_64, aarch64, ...

    @property
    def digest(self) -> str:
        """The builder image's digest: part of every built wheel's cache key."""
        return self.image.digest

    @cached_property
    def rootfs(self) -> Path:
        """The image unpacked under the cache (``trees/``), made once, checked once per run."""
        return image_tree(self.image, self.cache)

    def ensure_runnable(self) -> None:
        """Fail clearly, before a build, when this machine cannot run the builder's programs."""
        problem = emulation_problem(self.machine)
        if problem is not None:
            raise ImageError(f"the builder {self.address} is a {self.machine} image, and {problem}")


def builder_for(target: Target, spec: str, context: BuildContext, base: Image, platform: TargetPlatform) -> Builder:
    """The builder ``spec`` names for ``target``'s image on ``base`` (whose platform is ``platform``)."""
    named = context.graph.image_target(spec, target, "builder")
    name = str(named.address) if named is not None else spec
    where = f"{target.address} (at {target.build_file}:{target.line})"
    images = spec_images(spec, target, "builder", context)
    architecture = base.platform.architecture
    image = next((i for i in images if i.platform.architecture == architecture), None)
    if image is None:
        fix = f"add {architecture!r} to its architectures" if named is not None else f"name a {architecture} image"
        raise ImageError(f"{where}: the builder {name} has no {architecture} image; {fix}")
    built_for, _ = probed(context, image)
    mine = (".".join(built_for.python_version.split(".")[:2]), built_for.machine, built_for.libc)
    theirs = (".".join(platform.python_version.split(".")[:2]), platform.machine, platform.libc)
    if mine != theirs or tuple(built_for.libc_version) > tuple(platform.libc_version):
        raise ImageError(
            f"{where}: the builder {name} runs CPython {mine[0]} on {mine[1]} with "
            f"{mine[2]} {'.'.join(map(str, built_for.libc_version))}, but the image runs CPython {theirs[0]} on "
            f"{theirs[1]} with {theirs[2]} {'.'.join(map(str, platform.libc_version))}; wheels built there would not "
            "load here: give the builder the image's Python and suite"
        )
    return Builder(name, image, context.cache, built_for.interpreter, built_for.machine)
