"""Addresses name targets exactly as Pants prints them: ``dir:name``, ``dir#gen`` (a
generated requirement), ``dir/file.py:name``, ``dir/sub/file.py:../name`` (a file below its
generator's BUILD directory), ``//:name`` at the build root, ``dir:name@k=v`` (parametrized).
The name is left out where it equals the directory's name, and addresses sort the way
``pants list`` sorts them."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from lamina.errors import AddressError


@dataclass(frozen=True)
class Address:
    """A target: its BUILD directory, name, and for generated targets the generated part."""

    spec_path: str
    name: str
    generated: str | None = None  # "#dist" of a python_requirements line
    relative_file: str | None = None  # a file of a file-generating target, relative to spec_path
    parameters: tuple[tuple[str, str], ...] = ()  # ("resolve", "py39") of parametrize(...)

    @property
    def explicit_name(self) -> str | None:
        """The name as written in the address: None when it is the directory's own name."""
        return None if self.name == posixpath.basename(self.spec_path) else self.name

    def __str__(self) -> str:
        prefix = "" if self.spec_path else "//"
        if self.relative_file is None:
            path = self.spec_path
            target = "" if self.explicit_name is None and (self.generated or self.parameters) else self.name
        else:
            path = posixpath.join(self.spec_path, self.relative_file)
            up = "../" * self.relative_file.count("/")
            target = "" if self.explicit_name is None and not up else f"{up}{self.name}"
        generated = f"#{self.generated}" if self.generated is not None else ""
        parameters = "@" + ",".join(f"{k}={v}" for k, v in self.parameters) if self.parameters else ""
        return f"{prefix}{path}{':' if target else ''}{target}{generated}{parameters}"

    @property
    def sort_key(self) -> tuple:
        """Pants' order: directory, file, name, generated part, parameters."""
        return self.spec_path, self.relative_file or "", self.explicit_name or "", self.generated or "", self.parameters

    def __lt__(self, other: Address) -> bool:
        return self.sort_key < other.sort_key

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

    @property
    def parametrized_away(self) -> Address:
        """This address without its parameters."""
        return Address(self.spec_path, self.name, self.generated, self.relative_file)

    def parametrized(self, parameters: tuple[tuple[str, str], ...]) -> Address:
        """This address with ``parameters`` added."""
        return Address(self.spec_path, self.name, self.generated, self.relative_file, self.parameters + parameters)


def parse_parameters(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Split ``addr@k=v,k2=v2`` into the address and its parameters."""
    address, at, rest = text.partition("@")
    if not at:
        return text, ()
    pairs = []
    for item in rest.split(","):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise AddressError(f"address {text!r}: parameters are written @key=value,key2=value2")
        pairs.append((key.strip(), value.strip()))
    return address, tuple(pairs)


def parse_address(text: str, *, relative_to: str = "") -> tuple[str, str | None, str | None]:
    """Split an address string into (path, name or None, generated or None).

    ``:name`` is relative to ``relative_to``; ``//dir:name`` is rooted at the build root.
    Parameters (``@k=v``) are left for :func:`parse_parameters`.
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
