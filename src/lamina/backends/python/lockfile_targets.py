"""Pants' synthetic lockfile targets: per resolve, a ``_lockfiles`` target named
``_RESOLVE_lockfile`` in the lockfile's directory, generating a ``_lockfile`` target for the
file when it exists (``[python] enable_lockfile_targets``, with resolves enabled)."""

from __future__ import annotations

import posixpath

from lamina.config import Config
from lamina.graph.address import Address
from lamina.graph.target import Target


def lockfile_targets(config: Config) -> list[tuple[Target, list[Target]]]:
    """(generator, its generated targets) per resolve."""
    if not config.enable_resolves or not config.enable_lockfile_targets:
        return []
    made = []
    for resolve, lockfile in sorted(config.resolves.items()):
        spec_path, filename = posixpath.split(lockfile.strip("/"))
        name = f"_{resolve}_lockfile"
        origin = f"the [python.resolves] option {resolve!r}"
        generator = Target(Address(spec_path, name), "_lockfiles", {"name": name, "sources": (filename,)}, origin, 0)
        path = posixpath.join(spec_path, filename) if spec_path else filename
        fields = {"name": name, "source": filename}
        generated = Target(Address(spec_path, name, relative_file=filename), "_lockfile", fields, origin, 0, (path,))
        made.append((generator, [generated] if (config.build_root / path).is_file() else []))
    return made
