"""Addresses name targets the way Pants does: ``dir:name``, ``dir:name#gen``, ``dir/file.py:name``."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from lamina.errors import AddressError


@dataclass(frozen=True, order=True)
class Address:
    """A target: its BUILD directory, name, and for generated targets the generated part."""

    spec_path: str
    name: str
    generated: str | None = None  # "#dist" of a python_requirements line
    relative_file: str | None = None  # a file of a python_sources generator

    def __str__(self) -> str:
        if self.relative_file is not None:
            path = posixpath.join(self.spec_path, self.relative_file)
            return path if self.name == posixpath.basename(self.spec_path) else f"{path}:{self.name}"
        base = f"{self.spec_path or '//'}:{self.name}"
        return f"{base}#{self.generated}" if self.generated else base

    @property
    def generator(self) -> Address:
        """The target that generated this one (itself if not generated)."""
        return Address(self.spec_path, self.name)

    @property
    def is_generated(self) -> bool:
        """Whether a target generator made this target."""
        return self.generated is not None or self.relative_file is not None

    @property
    def filename(self) -> str | None:
        """The build-root-relative file of a file target."""
        return posixpath.join(self.spec_path, self.relative_file) if self.relative_file is not None else None


def parse_address(text: str, *, relative_to: str = "") -> tuple[str, str | None, str | None]:
    """Split an address string into (path, name or None, generated or None).

    ``:name`` is relative to ``relative_to``; ``//dir:name`` is rooted at the build root.
    """
    text = text.strip()
    if not text:
        raise AddressError("empty address")
    rooted = text.startswith("//")
    if rooted:
        text = text[2:]
    path, _, name = text.partition(":")
    name, _, generated = name.partition("#")
    if "#" in path:
        path, _, generated = path.partition("#")
    if text.startswith(":") and not rooted:
        path = relative_to
    elif path.startswith(("./", "../")) or path in (".", ".."):
        path = posixpath.normpath(posixpath.join(relative_to, path))
        path = "" if path == "." else path
    return path.strip("/"), name or None, generated or None
