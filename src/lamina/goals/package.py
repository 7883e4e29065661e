"""``lamina package``: build every packageable target in the specs and write its outputs.

``--output`` (default ``[oci] outputs``, else ``oci``) names the sinks each image goes
to: ``oci``, one OCI image layout shared by every image at ``<dist>/oci`` (blobs stored
once, one index entry per target); ``tarball``, a ``docker load``-able tarball per
image; ``docker``, the running Docker engine (``--load`` adds it). Outputs are written
only after every image is fully assembled and validated, each atomically, so a failure
leaves earlier outputs as they were; an output damaged on disk is rewritten.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack

from lamina.backends.built import BuiltImage
from lamina.config import OUTPUTS, parse_outputs
from lamina.errors import ConfigError
from lamina.goals.build import build_all, report, write_retrying
from lamina.sinks import daemon, layout, tarball

NAME = "package"
HELP = "Build images (and other packages) for the given targets."


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``package`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("specs", nargs="*", help="target specs, e.g. :: or src/python/app:img")
    parser.add_argument(
        "--output",
        metavar=",".join(OUTPUTS),
        help="where images go: 'oci' (one shared layout under the dist dir), 'tarball' (a docker-load tarball "
        "per image), 'docker' (the running engine); comma-separated (default: [oci] outputs, else oci)",
    )
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


LAYOUT_DIR = "oci"  # the shared layout, under the dist dir


def outputs_of(args: argparse.Namespace, project) -> tuple[str, ...]:
    """The sinks ``package`` writes to: ``--output``, else ``[oci] outputs``; ``--load`` adds ``docker``."""
    chosen = project.config.outputs
    if args.output is not None:
        chosen = parse_outputs([o.strip() for o in args.output.split(",") if o.strip()], "--output")
    return tuple(o for o in OUTPUTS if o in chosen or (o == "docker" and args.load))


def open_sink(name: str, project):
    """The sink called ``name`` (one of ``OUTPUTS``), not yet entered."""
    dist, ledger = project.dist_dir, project.cache.outputs
    if name == "oci":
        return layout.Layout(
            dist / LAYOUT_DIR, ledger, shown_as=str((dist / LAYOUT_DIR).relative_to(project.build_root))
        )
    if name == "tarball":
        return tarball.Tarballs(dist, ledger, shown_from=project.build_root)
    if name == "docker":
        return daemon.Engine(project.cache)
    raise ConfigError(f"unknown output {name!r}")


def run(args: argparse.Namespace, project) -> int:
    """Package the targets named by ``args.specs``: build every one, then write every one.

    A packager returns a ``BuiltImage``, or (for plugin target types) any object with
    an ``address``, a ``summary`` and ``write(dist_dir) -> list[str]``.
    """
    names = outputs_of(args, project)
    built = build_all(project, args.specs)
    if not built:
        print("nothing to package in " + " ".join(args.specs or ["::"]), file=sys.stderr)
        return 0
    with ExitStack() as stack:
        sinks = [stack.enter_context(open_sink(name, project)) for name in names]
        for item in built:

            def write(result):
                if isinstance(result, BuiltImage):
                    return [out for sink in sinks for out in sink.put(result)], result.image.digest
                return result.write(project.dist_dir), result.summary

            outputs, summary = write_retrying(project, item, write)
            if args.json:
                print(json.dumps(report(item, project, outputs), sort_keys=True))
                continue
            print(f"{item.result.address}  {summary}  ({item.seconds:.1f}s)")
            for output in outputs:
                print(f"    {output}")
    return 0
