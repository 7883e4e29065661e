"""What packaging an image target produces, before anything is written anywhere."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

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
    skip_push: bool = False  # built and written, never published


def output_stem(address) -> str:
    """Where a target's outputs go under the dist dir: ``dir.sub/name`` (Pants' layout)."""
    return posixpath.join(address.spec_path.replace("/", ".") or ".", address.name)


@dataclass(frozen=True)
class BuiltFile:
    """A packaged file (or directory, stored as a tar) in the blob store, and where under
    the dist dir it goes: a ``.pex``, for one."""

    address: str
    output_path: str  # relative to the dist dir
    digest: str  # of the file, or of the tar of the directory
    directory: bool
    summary: str
    blobs: object = field(repr=False, compare=False, default=None)  # the BlobStore holding it

    def write(self, dist_dir) -> list[str]:
        """Write the output atomically from its verified blob; return where it went."""
        from lamina.backends.outputs import write_file_output

        return [write_file_output(self, dist_dir, self.blobs)]
