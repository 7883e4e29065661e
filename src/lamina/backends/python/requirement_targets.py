"""The Python requirement generators: ``python_requirements`` (a requirements file or a
PEP 621 ``pyproject.toml``), ``poetry_requirements`` and ``pants_requirements``, each
making one ``python_requirement`` per distribution (``dir:name#dist``) and, as Pants does,
a helper target for the file they read (``dir/requirements.txt:name``)."""

from __future__ import annotations

import posixpath

from packaging.utils import canonicalize_name

from lamina.graph.address import Address
from lamina.graph.overrides import requirement_overrides
from lamina.graph.target import Target
from lamina.python import requirement_sources
from lamina.python.requirement_sources import Declared

_DEFAULT_SOURCES = {"python_requirements": "requirements.txt", "poetry_requirements": "pyproject.toml"}


def _targets(generator: Target, context, declared: list[Declared], source: str | None) -> list[Target]:
    address, fields = generator.address, generator.fields
    mapping = {canonicalize_name(k): tuple(v) for k, v in (fields.get("module_mapping") or {}).items()}
    inherited = context.inherited(generator, "python_requirement")
    overrides = requirement_overrides(
        generator, context.registry.target_types["python_requirement"], [d.name for d in declared]
    )
    made = []
    if source is not None:
        relative = posixpath.relpath(source, address.spec_path or ".")
        made.append(
            Target(
                Address(address.spec_path, address.name, relative_file=relative),
                "_target_generator_sources_helper",
                {"name": address.name, "source": relative},
                generator.build_file,
                generator.line,
                (source,),
            )
        )
    for each in declared:
        key = canonicalize_name(each.name)
        made.append(
            Target(
                Address(address.spec_path, address.name, generated=each.name),
                "python_requirement",
                {
                    **inherited,
                    "requirements": each.requirements,
                    "modules": mapping.get(key),
                    **overrides.get(key, {}),
                },
                generator.build_file,
                generator.line,
                (each.path,),
            )
        )
    return made


def _source(generator: Target) -> str:
    given = generator.fields.get("source") or _DEFAULT_SOURCES[generator.alias]
    return posixpath.normpath(posixpath.join(generator.address.spec_path, given))


def python_requirements(generator: Target, context) -> list[Target]:
    """One requirement per line of a requirements file, or per PEP 621 dependency of a pyproject."""
    source = _source(generator)

    def read(path: str) -> str:
        return context.read_text(path, what="requirements file", context=generator)

    if posixpath.basename(source) == "pyproject.toml":
        declared = requirement_sources.pep621(source, read)
    else:
        declared = requirement_sources.requirements_file(source, read)
    return _targets(generator, context, declared, source)


def poetry_requirements(generator: Target, context) -> list[Target]:
    """One requirement per Poetry dependency (caret and tilde translated, path dependencies dropped)."""
    source = _source(generator)
    declared = requirement_sources.poetry(
        source, lambda path: context.read_text(path, what="Poetry project file", context=generator)
    )
    return _targets(generator, context, declared, source)


def pants_requirements(generator: Target, context) -> list[Target]:
    """Pants' own distributions, for plugins: ``pantsbuild.pants`` and its test utilities."""
    version = generator.fields.get("version_spec") or ""
    declared = [
        Declared(name, (f"{name}{version}",), generator.build_file, generator.line)
        for name in ("pantsbuild.pants", "pantsbuild.pants.testutil")
        if name == "pantsbuild.pants" or generator.fields.get("testutil", True)
    ]
    return _targets(generator, context, declared, None)


GENERATORS = {
    "python_requirements": python_requirements,
    "poetry_requirements": poetry_requirements,
    "pants_requirements": pants_requirements,
}
