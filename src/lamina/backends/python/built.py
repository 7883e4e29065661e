"""What packaging an image target produces, before anything is written anywhere."""

from __future__ import annotations

from dataclasses import dataclass

from lamina.oci import Image


@dataclass(frozen=True)
class BuiltImage:
    """An assembled image and how it should be named when written out."""

    address: str
    image: Image
    repo_tags: tuple[str, ...]
    output_stem: str  # e.g. "src.python.services.web/web", relative to the dist dir
    third_party: tuple[str, ...] = ()  # "name==version" installed in the image
