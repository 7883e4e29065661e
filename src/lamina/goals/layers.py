"""``lamina layers``: what each layer of an image holds and what its cache key is made of,
bottom to top, per platform: the base's layers as their history names them, the
venv and third-party layers' distributions (their key: those locked artifacts, the platform
and the venv), the app layer's files (its key: their contents). Builds what is not cached; writes
no output."""

from __future__ import annotations

import argparse
import sys
import tarfile

from lamina.backends.built import BuiltImage
from lamina.goals.build import build_all
from lamina.oci.index import images_of

NAME = "layers"
HELP = "Show each layer of the given images: size, what is in it, what its cache key is made of."
_VENV, _THIRD_PARTY, _APP = "lamina: venv ", "lamina: third-party ", "lamina: application "


def register(subparsers) -> None:
    """Add the ``layers`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("specs", nargs="+", help="image targets, e.g. src/python/app:img")


def _histories(image) -> list[str]:
    """The ``created_by`` of each non-empty layer, bottom to top."""
    history = [h for h in image.config.get("history", []) if not h.get("empty_layer")]
    names = [h.get("created_by", "") for h in history]
    return ["base layer"] * (len(image.layers) - len(names)) + names[-len(image.layers) :]


def _files(layer) -> list[str]:
    with layer.open() as stream, tarfile.open(fileobj=stream, mode="r|*") as archive:
        return [member.name for member in archive if member.isfile() or member.issym()]


def _describe(built: BuiltImage, image, layer, created_by: str) -> list[str]:
    platform = image.platform
    if created_by.startswith(_VENV):
        return [f"the venv: {created_by.removeprefix(_VENV)}", f"key: {platform}, the venv layout"]
    if created_by.startswith(_THIRD_PARTY):
        return [
            f"third-party distributions: {created_by.removeprefix(_THIRD_PARTY)}",
            (
                f"key: those distributions' locked sha256s, {platform}, the venv layout, the base's CPython that "
                "compiles their bytecode (and the builder, if one compiles C)"
            ),
        ]
    if created_by.startswith(_APP):
        files = _files(layer)
        return [f"application files: {', '.join(files)}", f"key: the sha256 of each of these {len(files)} files"]
    described = created_by if len(created_by) <= 160 else created_by[:157] + "..."
    return [f"base: {described}", "key: the base's own (for a debian_base, its locked .debs' sha256s)"]


def run(args: argparse.Namespace, project) -> int:
    """Print the layers of every image target the specs name."""
    built = [item.result for item in build_all(project, args.specs) if isinstance(item.result, BuiltImage)]
    if not built:
        print("no image targets in " + " ".join(args.specs), file=sys.stderr)
        return 1
    for result in built:
        for image in images_of(result.image):
            print(f"{result.address} ({image.platform})  {image.digest}")
            for number, (layer, created_by) in enumerate(zip(image.layers, _histories(image)), start=1):
                print(f"  {number}. {layer.digest[:19]}  {layer.size:,} bytes")
                for line in _describe(result, image, layer, created_by):
                    print(f"       {line}")
    return 0
