"""``lamina package``: build every packageable target in the specs and write its outputs.

Per image: an OCI image layout directory and a ``docker load``-able tarball under the
dist dir, and with ``--load`` the image in a running Docker engine. Outputs are
written only after the image is fully assembled and validated, each atomically, so
a failure leaves earlier outputs as they were.
"""

from __future__ import annotations

import argparse
import sys
import time

from lamina.backends.built import BuiltImage
from lamina.oci.index import images_of
from lamina.oci.validate import validate
from lamina.sinks import daemon, layout, tarball

NAME = "package"
HELP = "Build images (and other packages) for the given targets."


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``package`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("specs", nargs="*", help="target specs, e.g. :: or src/python/app:img")
    parser.add_argument("--load", action="store_true", help="also load images into the running Docker engine")
    return parser


def write_outputs(built: BuiltImage, project, *, load: bool) -> list[str]:
    """Write ``built`` to the dist dir (and the engine); return what was written."""
    stem = project.dist_dir / built.output_stem
    tag = built.repo_tags[0].rpartition(":")[2] if built.repo_tags else "latest"
    layout.write(built.image, stem.with_name(stem.name + ".oci"), tag=tag)
    tarball.write(built.image, stem.with_name(stem.name + ".tar"), repo_tags=list(built.repo_tags))
    outputs = [str(stem.with_name(stem.name + suffix).relative_to(project.build_root)) for suffix in (".oci", ".tar")]
    if load:
        daemon.load(built.image, repo_tags=list(built.repo_tags), cache=project.cache)
        outputs.extend(f"docker:{tag}" for tag in built.repo_tags)
    return outputs


def run(args: argparse.Namespace, project) -> int:
    """Package the targets named by ``args.specs``: build every one, then write every one.

    A packager returns a ``BuiltImage``, or (for plugin target types) any object with
    an ``address``, a ``summary`` and ``write(dist_dir) -> list[str]``.
    """
    targets = [t for t in project.graph.resolve_specs(args.specs or ["::"]) if project.registry.packager(t) is not None]
    if not targets:
        print("nothing to package in " + " ".join(args.specs or ["::"]), file=sys.stderr)
        return 0
    built = []
    for target in targets:
        started = time.monotonic()
        result = project.registry.packager(target)(target, project)
        if isinstance(result, BuiltImage):
            for image in images_of(result.image):
                validate(image)  # every image is checked before any output is written
        built.append((result, time.monotonic() - started))
    for result, elapsed in built:
        if isinstance(result, BuiltImage):
            outputs, summary = write_outputs(result, project, load=args.load), result.image.digest
        else:
            outputs, summary = result.write(project.dist_dir), result.summary
        print(f"{result.address}  {summary}  ({elapsed:.1f}s)")
        for output in outputs:
            print(f"    {output}")
    return 0
