"""``lamina package``: build every packageable target in the specs and write its outputs.

Per image: an OCI image layout directory and a ``docker load``-able tarball under the
dist dir, and with ``--load`` the image in a running Docker engine. Outputs are
written only after every image is fully assembled and validated, each atomically, so
a failure leaves earlier outputs as they were; an output damaged on disk is rewritten.
"""

from __future__ import annotations

import argparse
import json
import sys

from lamina.backends.built import BuiltImage
from lamina.goals.build import build_all, report, write_retrying
from lamina.sinks import daemon, layout, tarball

NAME = "package"
HELP = "Build images (and other packages) for the given targets."


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``package`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("specs", nargs="*", help="target specs, e.g. :: or src/python/app:img")
    parser.add_argument("--load", action="store_true", help="also load images into the running Docker engine")
    add_json_option(parser)
    add_stamp_option(parser)
    return parser


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """``--json``: one JSON object per target on stdout instead of the summary lines."""
    parser.add_argument("--json", action="store_true", help="print one JSON object per target (JSON Lines)")


def add_stamp_option(parser: argparse.ArgumentParser) -> None:
    """``--stamp``/``--no-stamp``: put the checkout's revision and commit time into images."""
    parser.add_argument(
        "--stamp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add the git revision, commit time and source URL to images (default: [oci] stamp, off)",
    )


def write_outputs(built: BuiltImage, project, *, load: bool) -> list[str]:
    """Write ``built`` to the dist dir (and the engine); return what was written."""
    stem = project.dist_dir / built.output_stem
    tag = built.repo_tags[0].rpartition(":")[2] if built.repo_tags else "latest"
    oci, tar = stem.with_name(stem.name + ".oci"), stem.with_name(stem.name + ".tar")
    layout.write(built.image, oci, tag=tag, record=project.cache.outputs.record(oci))
    tarball.write(built.image, tar, repo_tags=list(built.repo_tags), record=project.cache.outputs.record(tar))
    outputs = [str(path.relative_to(project.build_root)) for path in (oci, tar)]
    if load:
        daemon.load(built.image, repo_tags=list(built.repo_tags), cache=project.cache)
        outputs.extend(f"docker:{tag}" for tag in built.repo_tags)
    return outputs


def run(args: argparse.Namespace, project) -> int:
    """Package the targets named by ``args.specs``: build every one, then write every one.

    A packager returns a ``BuiltImage``, or (for plugin target types) any object with
    an ``address``, a ``summary`` and ``write(dist_dir) -> list[str]``.
    """
    built = build_all(project, args.specs)
    if not built:
        print("nothing to package in " + " ".join(args.specs or ["::"]), file=sys.stderr)
        return 0
    for item in built:

        def write(result):
            if isinstance(result, BuiltImage):
                return write_outputs(result, project, load=args.load), result.image.digest
            return result.write(project.dist_dir), result.summary

        outputs, summary = write_retrying(project, item, write)
        if args.json:
            print(json.dumps(report(item, project, outputs), sort_keys=True))
            continue
        print(f"{item.result.address}  {summary}  ({item.seconds:.1f}s)")
        for output in outputs:
            print(f"    {output}")
    return 0
