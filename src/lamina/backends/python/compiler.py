"""Which interpreter compiles an image's bytecode (``lamina.python.bytecode``): the base's
own CPython, from the base's image for this machine's architecture when the base has one
(pyc files do not depend on the machine), else the image's own under emulation."""

from __future__ import annotations

from lamina.backends.context import BuildContext
from lamina.backends.python.platform_probe import probed
from lamina.cache.image_trees import image_tree
from lamina.errors import ImageError
from lamina.graph.target import Target
from lamina.oci import Image
from lamina.oci.index import host_image
from lamina.python.bytecode import Compiler
from lamina.python.platform import TargetPlatform
from lamina.sandbox import emulation_problem


def compiler_for(
    target: Target, context: BuildContext, base: Image, bases: tuple[Image, ...], platform: TargetPlatform
) -> Compiler | None:
    """The compiler of ``target``'s bytecode on ``base``; None with ``bytecode=False``."""
    if not target.get("bytecode", True):
        return None
    image = host_image(bases) or base
    found, _ = probed(context, image)
    if found.python_version.split(".")[:2] != platform.python_version.split(".")[:2]:
        image, found = base, platform  # another CPython in the index: only the image's own will do
    problem = emulation_problem(found.machine)
    if problem is not None:
        raise ImageError(
            f"{target.address} (at {target.build_file}:{target.line}): its bytecode is compiled by the base's "
            f"{platform.machine} CPython, and {problem}; or set bytecode=False on the target"
        )
    return Compiler(
        lambda: image_tree(image, context.cache),
        found.interpreter,
        ".".join(found.python_version.split(".")[:2]),
        image.digest,
        context.config.python_sandbox,
        workers=context.jobs,
    )
