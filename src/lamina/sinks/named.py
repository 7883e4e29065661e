"""What every sink is handed: an assembled image and the names it goes by."""

from __future__ import annotations

from typing import Protocol, Self

from lamina.oci import Image
from lamina.oci.index import ImageIndex


class NamedImage(Protocol):
    """An image (or multi-architecture index) of one target, and how outputs name it."""

    @property
    def address(self) -> str: ...  # the target's address

    @property
    def image(self) -> Image | ImageIndex: ...

    @property
    def repo_tags(self) -> tuple[str, ...]: ...  # REPOSITORY:TAG, the first one naming it where one name is needed

    @property
    def output_stem(self) -> str: ...  # "dir.sub/name": where per-target files go under the dist dir


class Sink(Protocol):
    """An output (a layout, tarballs, an engine, a registry), open for one run: a context
    manager whose exit makes what was put visible where that is one step (an index)."""

    def __enter__(self) -> Self: ...

    def put(self, built: NamedImage) -> list[str]:
        """Write one image; return where it now is, as the user would name it."""
        ...

    def __exit__(self, *exc) -> None: ...
