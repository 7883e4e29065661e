"""The builder of an image's compiled sdists, named by ``python_image(builder=...)`` or
``[python] builder``: a ``debian_base`` with a compiler and CPython's headers, or any image a
base may name (``docker-archive:``, ``oci-layout:``, a registry reference) that carries them.
It is taken for the image's architecture, checked to run the same CPython X.Y, machine and
libc as the image, and unpacked once into the cache (``trees/``) for the sandbox."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lamina.backends.bases import spec_images
from lamina.backends.python.platform_probe import probe_base
from lamina.cache import Cache
from lamina.errors import ImageError
from lamina.graph.target import Target
from lamina.oci import Image
from lamina.python.platform import TargetPlatform
from lamina.python.sandboxed_build import prepare_rootfs
from lamina.sandbox import emulation_problem


@dataclass(frozen=True)
class Builder:
    """A builder's root filesystem on disk, its interpreter, and what identifies it."""

    address: str
    rootfs: Path
    python: str
    digest: str  # the builder image's: part of every built wheel's cache key
    machine: str  # as uname says it: x86_64, aarch64, ...

    def ensure_runnable(self) -> None:
        """Fail clearly, before a build, when this machine cannot run the builder's programs."""
        problem = emulation_problem(self.machine)
        if problem is not None:
            raise ImageError(f"the builder {self.address} is a {self.machine} image, and {problem}")


def unpacked(image: Image, cache: Cache) -> Path:
    """``image`` unpacked under the cache, once: unpacked in scratch space, then renamed in place,
    so a killed run leaves no half tree and two runs never share one being written."""
    final = cache.root / "trees" / image.digest.replace(":", "-")
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with cache.tempdir() as scratch:
        tree = scratch / "root"
        tree.mkdir()
        prepare_rootfs(image, tree)
        try:
            os.rename(tree, final)
        except OSError:
            if not final.is_dir():  # another run put it there first: theirs is the same tree
                raise
    return final


def builder_for(target: Target, spec: str, project, base: Image, platform: TargetPlatform) -> Builder:
    """The builder ``spec`` names for ``target``'s image on ``base`` (whose platform is ``platform``)."""
    named = project.graph.image_target(spec, target, "builder")
    name = str(named.address) if named is not None else spec
    where = f"{target.address} (at {target.build_file}:{target.line})"
    images = spec_images(spec, target, "builder", project)
    architecture = base.platform.architecture
    image = next((i for i in images if i.platform.architecture == architecture), None)
    if image is None:
        fix = f"add {architecture!r} to its architectures" if named is not None else f"name a {architecture} image"
        raise ImageError(f"{where}: the builder {name} has no {architecture} image; {fix}")
    built_for, _ = probe_base(image, project.cache)
    mine = (".".join(built_for.python_version.split(".")[:2]), built_for.machine, built_for.libc)
    theirs = (".".join(platform.python_version.split(".")[:2]), platform.machine, platform.libc)
    if mine != theirs or tuple(built_for.libc_version) > tuple(platform.libc_version):
        raise ImageError(
            f"{where}: the builder {name} runs CPython {mine[0]} on {mine[1]} with "
            f"{mine[2]} {'.'.join(map(str, built_for.libc_version))}, but the image runs CPython {theirs[0]} on "
            f"{theirs[1]} with {theirs[2]} {'.'.join(map(str, platform.libc_version))}; wheels built there would not "
            "load here: give the builder the image's Python and suite"
        )
    return Builder(name, unpacked(image, project.cache), built_for.interpreter, image.digest, built_for.machine)
