"""Generators of Pants' own target types that do not make one target per file:
``pex_binaries`` makes one ``pex_binary`` per entry point (``dir:name#app.py``), with the
generator's other fields and its ``overrides`` by entry point."""

from __future__ import annotations

from lamina.errors import BuildFileError
from lamina.graph.address import Address
from lamina.graph.target import Target


def pex_binaries(generator: Target, context) -> list[Target]:
    """One ``pex_binary`` per entry point."""
    entry_points = generator.get("entry_points") or ()
    overrides = generator.get("overrides") or {}
    by_entry: dict[str, dict] = {}
    for key, fields in overrides.items():
        for entry in key if isinstance(key, tuple) else (key,):
            if entry not in entry_points:
                raise BuildFileError(
                    f"{generator.address}: overrides names {entry!r}, which is not one of its entry_points",
                    path=generator.build_file,
                    line=generator.line,
                )
            by_entry.setdefault(entry, {}).update(fields)
    inherited = {k: v for k, v in generator.fields.items() if k not in ("name", "entry_points", "overrides")}
    return [
        Target(
            Address(generator.address.spec_path, generator.address.name, generated=entry),
            "pex_binary",
            {**inherited, **by_entry.get(entry, {}), "entry_point": entry},
            generator.build_file,
            generator.line,
        )
        for entry in entry_points
    ]


GENERATORS = {"pex_binaries": pex_binaries}
