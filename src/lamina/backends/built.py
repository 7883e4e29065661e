"""What packaging an image target produces, before anything is written anywhere."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from lamina.oci import Image
from lamina.oci.index import ImageIndex


@dataclass(frozen=True)
class BuiltImage:
    """An assembled image (or multi-architecture index) and how it should be named when written out."""

    address: str
    image: Image | ImageIndex
    repo_tags: tuple[str, ...]
    output_stem: str  # e.g. "src.python.services.web/web", relative to the dist dir
    third_party: tuple[str, ...] = ()  # "name==version" installed in the image(s)


def output_stem(address) -> str:
    """Where a target's outputs go under the dist dir: ``dir.sub/name`` (Pants' layout)."""
    return posixpath.join(address.spec_path.replace("/", ".") or ".", address.name)
