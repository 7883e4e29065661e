"""The build graph: every target of the repository and the edges between them.

Edges are the explicit ``dependencies`` plus those inferred from Python imports, as
Pants infers them: first-party modules through source roots, third-party modules
through the requirement targets of the same resolve.
"""

from __future__ import annotations

import difflib
import logging
import os
import posixpath
import sys
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lamina.config import Config
from lamina.errors import AddressError, BuildFileError, DependencyCycleError
from lamina.graph.address import Address, parse_address
from lamina.graph.build_file import BUILD_FILE_NAMES, BuildFile, check_required, evaluate
from lamina.graph.imports import parse_imports
from lamina.graph.module_mapping import ModuleNamesHook, default_modules
from lamina.graph.source_roots import SourceRoots
from lamina.graph.target import Registry, Target
from lamina.sources import SCHEMES as BASE_SCHEMES

log = logging.getLogger(__name__)

_SKIPPED_DIRS = {"dist", "node_modules", "__pycache__"}


def _glob(directory: Path, patterns: Iterable[str], build_root: Path) -> tuple[str, ...]:
    included: set[Path] = set()
    excluded: set[Path] = set()
    for pattern in patterns:
        target = excluded if pattern.startswith("!") else included
        target.update(p for p in directory.glob(pattern.lstrip("!")) if p.is_file())
    return tuple(sorted(p.relative_to(build_root).as_posix() for p in included - excluded))


class BuildGraph:
    """Targets by address, with explicit and inferred dependencies."""

    def __init__(self, config: Config, registry: Registry, *, module_names: ModuleNamesHook | None = None) -> None:
        self.config = config
        self.registry = registry
        self.build_root = config.build_root
        self.source_roots = SourceRoots(config.root_patterns)
        self.module_names = module_names
        self.targets: dict[str, Target] = {}
        self._warned: set[tuple[str, int, str]] = set()
        self._load()

    # -- loading ----------------------------------------------------------------------

    def _build_files(self) -> list[Path]:
        found = []
        for directory, dirs, files in os.walk(self.build_root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
            found.extend(Path(directory) / f for f in files if f in BUILD_FILE_NAMES)
        return sorted(found)

    def _load(self) -> None:
        parsed: dict[str, BuildFile] = {}
        for path in self._build_files():
            relative = path.relative_to(self.build_root).as_posix()
            parsed[relative] = evaluate(path.read_text(), relative, self.registry.target_types)
        for relative, build_file in parsed.items():
            spec_path = posixpath.dirname(relative)
            defaults = self._defaults_for(spec_path, parsed)
            for declaration in build_file.declarations:
                fields = {**defaults.get("all", {}), **defaults.get(declaration.alias, {}), **declaration.kwargs}
                target_type = self.registry.target_types[declaration.alias]
                check_required(target_type, fields, relative, declaration.line)
                if target_type.fields is not None:
                    known = {f.name for f in target_type.fields} | {"name", "dependencies", "description", "tags"}
                    fields = {k: v for k, v in fields.items() if k in known}
                name = fields.get("name") or posixpath.basename(spec_path) or self.build_root.name
                fields["name"] = name
                address = Address(spec_path, name)
                target = Target(address, declaration.alias, fields, relative, declaration.line)
                if "sources" in fields and target_type.alias not in ("python_sources",):
                    target = self._with_sources(target, fields["sources"])
                elif target_type.alias in ("resource", "file"):
                    target = self._with_sources(target, [fields["source"]])
                self._add(target)
                if target_type.generates:
                    for generated in self._generate(target, target_type.generates):
                        self._add(generated)

    def _defaults_for(self, spec_path: str, parsed: dict[str, BuildFile]) -> dict[str, dict]:
        chain, directory = [], spec_path
        while True:
            chain.append(directory)
            if not directory:
                break
            directory = posixpath.dirname(directory)
        merged: dict[str, dict] = {}
        for directory in reversed(chain):
            for name in BUILD_FILE_NAMES:
                build_file = parsed.get(posixpath.join(directory, name) if directory else name)
                for alias, values in (build_file.defaults if build_file else {}).items():
                    merged.setdefault(alias, {}).update(values)
        return merged

    def _add(self, target: Target) -> None:
        key = str(target.address)
        if key in self.targets:
            earlier = self.targets[key]
            raise BuildFileError(
                f"two targets named {key} (the other is at {earlier.build_file}:{earlier.line}); give one a different name=",
                path=target.build_file,
                line=target.line,
            )
        self.targets[key] = target

    def _with_sources(self, target: Target, patterns) -> Target:
        directory = self.build_root / target.address.spec_path
        sources = _glob(directory, [patterns] if isinstance(patterns, str) else patterns, self.build_root)
        return Target(target.address, target.alias, target.fields, target.build_file, target.line, sources)

    def _generate(self, generator: Target, alias: str) -> list[Target]:
        address, fields = generator.address, generator.fields
        common = {"resolve": fields.get("resolve"), "dependencies": fields.get("dependencies") or ()}
        if alias == "python_source":
            with_sources = self._with_sources(
                generator, fields.get("sources") or self.registry.target_types[generator.alias].field("sources").default
            )
            return [
                Target(
                    Address(
                        address.spec_path, address.name, relative_file=posixpath.relpath(path, address.spec_path or ".")
                    ),
                    alias,
                    {**common, "source": path},
                    generator.build_file,
                    generator.line,
                    (path,),
                )
                for path in with_sources.sources
            ]
        source = posixpath.join(address.spec_path, fields.get("source") or "requirements.txt")
        try:
            text = (self.build_root / source).read_text()
        except FileNotFoundError:
            raise BuildFileError(
                f"{generator.alias} reads {source}, which does not exist",
                path=generator.build_file,
                line=generator.line,
            ) from None
        mapping = {canonicalize_name(k): tuple(v) for k, v in (fields.get("module_mapping") or {}).items()}
        generated = []
        for number, line in enumerate(text.splitlines(), 1):
            line = line.split(" #")[0].strip()
            if not line or line.startswith(("#", "-")):
                continue
            try:
                requirement = Requirement(line)
            except InvalidRequirement as err:
                raise BuildFileError(f"invalid requirement {line!r}: {err}", path=source, line=number) from None
            generated.append(
                Target(
                    Address(address.spec_path, address.name, generated=requirement.name),
                    alias,
                    {**common, "requirements": (line,), "modules": mapping.get(canonicalize_name(requirement.name))},
                    generator.build_file,
                    generator.line,
                    (source,),
                )
            )
        return generated

    # -- module maps ------------------------------------------------------------------

    @cached_property
    def python_files(self) -> dict[str, Target]:
        """Build-root-relative ``.py`` path -> its python_source target."""
        return {t.sources[0]: t for t in self.targets.values() if t.alias == "python_source"}

    @cached_property
    def first_party_modules(self) -> dict[str, Target]:
        """Module name -> the python_source target defining it."""
        modules = {}
        for target in self.targets.values():
            if target.alias == "python_source":
                module = self.source_roots.module_of(target.sources[0])
                if module:
                    modules[module] = target
        return modules

    @cached_property
    def third_party_modules(self) -> dict[str, dict[str, list[Target]]]:
        """Resolve -> module name -> the requirement targets providing it."""
        by_resolve: dict[str, dict[str, list[Target]]] = {}
        for target in self.targets.values():
            if target.alias != "python_requirement":
                continue
            resolve = self.resolve_of(target)
            for requirement in target.get("requirements", ()):
                name = Requirement(requirement).name
                modules = (
                    target.get("modules")
                    or (self.module_names(name, resolve) if self.module_names else None)
                    or default_modules(name)
                )
                for module in modules:
                    by_resolve.setdefault(resolve, {}).setdefault(module, []).append(target)
        return by_resolve

    def resolve_of(self, target: Target) -> str:
        """The resolve a target uses."""
        return target.get("resolve") or self.config.default_resolve

    # -- edges ------------------------------------------------------------------------

    def address_of(self, text: str, *, relative_to: str = "", context: Target | None = None) -> Target:
        """The target an address string names."""
        path, name, generated = parse_address(text, relative_to=relative_to)
        candidates = [str(Address(path, name or posixpath.basename(path) or self.build_root.name, generated))]
        if name is None and generated is None:
            candidates.append(path)  # a file address
        for candidate in candidates:
            if candidate in self.targets:
                return self.targets[candidate]
        close = difflib.get_close_matches(candidates[0], list(self.targets), n=1)
        where = f" (in dependencies of {context.address} at {context.build_file}:{context.line})" if context else ""
        hint = f"; did you mean {close[0]}?" if close else "; `lamina list ::` shows every address"
        raise AddressError(f"no target has the address {text!r}{where}{hint}")

    def explicit_dependencies(self, target: Target) -> tuple[list[Target], set[str]]:
        """Targets named in ``dependencies`` and the addresses excluded with ``!``."""
        included, excluded = [], set()
        for text in target.get("dependencies", ()):
            if text.startswith("!"):
                excluded.add(
                    str(self.address_of(text[1:], relative_to=target.address.spec_path, context=target).address)
                )
            else:
                included.append(self.address_of(text, relative_to=target.address.spec_path, context=target))
        return included, excluded

    def dependencies(self, target: Target) -> list[Target]:
        """Direct dependencies: explicit, generated (for generators) and inferred."""
        explicit, excluded = self.explicit_dependencies(target)
        found = list(explicit)
        if target.alias in ("python_sources", "python_requirements"):
            found.extend(
                t for t in self.targets.values() if t.address.is_generated and t.address.generator == target.address
            )
        if target.alias == "python_source":
            found.extend(self._inferred(target))
        if target.alias == "python_image":
            found.append(self.entry_point(target)[0])
            base = self.base_target(target)
            if base is not None:
                found.append(base)
        unique = {str(t.address): t for t in found if str(t.address) not in excluded and t is not target}
        return [unique[key] for key in sorted(unique)]

    def _inferred(self, target: Target) -> list[Target]:
        path = target.sources[0]
        module = self.source_roots.module_of(path)
        found = self._init_files(path)
        data = (self.build_root / path).read_bytes()
        third_party = self.third_party_modules.get(self.resolve_of(target), {})
        for imported in parse_imports(data, module, is_package=path.endswith("__init__.py"), filename=path):
            provider = self._provider(imported.candidates, third_party)
            if provider is not None:
                found.extend(provider)
            elif imported.candidates[-1].split(".")[0] not in sys.stdlib_module_names:
                key = (path, imported.line, imported.candidates[-1])
                if key not in self._warned:
                    self._warned.add(key)
                    log.warning(
                        "%s:%d: cannot infer a dependency for import %r: no first-party source or requirement provides it",
                        path,
                        imported.line,
                        imported.candidates[-1],
                    )
        return found

    def _init_files(self, path: str) -> list[Target]:
        """``__init__.py`` files of the packages above ``path``, so packages import as packages."""
        root = self.source_roots.root_of(path)
        found, directory = [], posixpath.dirname(path)
        while root is not None and directory != root and directory:
            init = self.python_files.get(posixpath.join(directory, "__init__.py"))
            if init is not None and init.sources[0] != path:
                found.append(init)
            directory = posixpath.dirname(directory)
        return found

    def _provider(self, candidates: tuple[str, ...], third_party: dict[str, list[Target]]) -> list[Target] | None:
        for candidate in candidates:
            parts = candidate.split(".")
            for end in range(len(parts), 0, -1):
                module = ".".join(parts[:end])
                if module in self.first_party_modules:
                    return [self.first_party_modules[module]]
                if module in third_party:
                    return third_party[module]
        return None

    def entry_point(self, image: Target) -> tuple[Target, str]:
        """The python_source an image runs, and the entry point as ``module[:function]``."""
        entry = image.get("entry_point") or ""
        reference, _, function = entry.partition(":")
        if reference.endswith(".py"):
            path = posixpath.normpath(posixpath.join(image.address.spec_path, reference))
            module = self.source_roots.module_of(path)
            source = self.python_files.get(path)
        else:
            module = reference
            source = self.first_party_modules.get(reference)
        if source is None or module is None:
            raise AddressError(
                f"{image.address} (at {image.build_file}:{image.line}): entry_point {entry!r} names no first-party "
                "module; give 'pkg.mod:func', 'pkg.mod' or a file relative to the BUILD file, owned by a python_sources target"
            )
        return source, f"{module}:{function}" if function else module

    def base_target(self, image: Target) -> Target | None:
        """The target an image's ``base=`` names (``:name``, ``//dir:name`` or ``dir:name``),
        or None when it names an image by another form (``docker-archive:...``, ``scratch``)."""
        spec = image.get("base") or self.config.default_base
        if not spec or spec == "scratch" or spec.split(":", 1)[0] in BASE_SCHEMES:
            return None
        if spec.startswith((":", "//")):
            return self.address_of(spec, relative_to=image.address.spec_path, context=image)
        try:
            return self.address_of(spec, relative_to=image.address.spec_path, context=image)
        except AddressError:
            return None  # not an address: a reference for the image sources to read

    # -- queries ----------------------------------------------------------------------

    def resolve_specs(self, specs: Iterable[str]) -> list[Target]:
        """Targets matched by Pants-style specs (``::``, ``dir::``, ``dir:``, ``dir:name``, ``dir``)."""
        matched: dict[str, Target] = {}
        for spec in specs:
            spec = spec.rstrip("/") if not spec.endswith("::") else spec
            if spec.endswith("::"):
                prefix = spec[:-2].strip("/")
                chosen = [
                    t
                    for t in self.targets.values()
                    if not prefix or t.address.spec_path == prefix or t.address.spec_path.startswith(prefix + "/")
                ]
                if not chosen and prefix and not (self.build_root / prefix).is_dir():
                    raise AddressError(f"spec {spec!r}: directory {prefix} does not exist")
            elif spec.endswith(":"):
                prefix = spec[:-1].strip("/")
                chosen = [t for t in self.targets.values() if t.address.spec_path == prefix]
                if not chosen:
                    raise AddressError(f"spec {spec!r}: no targets in {prefix or 'the build root'}")
            else:
                chosen = [self.address_of(spec)]
            matched.update((str(t.address), t) for t in chosen)
        return [matched[key] for key in sorted(matched)]

    def closure(self, roots: Iterable[Target]) -> list[Target]:
        """Roots and everything they depend on, transitively; explicit cycles are errors."""
        seen: dict[str, Target] = {}
        stack = list(roots)
        while stack:
            target = stack.pop()
            key = str(target.address)
            if key in seen:
                continue
            seen[key] = target
            self._check_explicit_cycle(target)
            stack.extend(self.dependencies(target))
        return [seen[key] for key in sorted(seen)]

    def _check_explicit_cycle(self, start: Target) -> None:
        path: list[str] = []

        def visit(target: Target) -> None:
            key = str(target.address)
            if key in path:
                cycle = " -> ".join([*path[path.index(key) :], key])
                raise DependencyCycleError(f"dependency cycle: {cycle}; remove one of these explicit dependencies")
            path.append(key)
            for dependency in self.explicit_dependencies(target)[0]:
                visit(dependency)
            path.pop()

        visit(start)

    def dependents(self, targets: Iterable[Target], *, transitive: bool = False) -> list[Target]:
        """Targets depending on any of ``targets`` (directly, or transitively)."""
        reverse: dict[str, set[str]] = {}
        for target in self.targets.values():
            for dependency in self.dependencies(target):
                reverse.setdefault(str(dependency.address), set()).add(str(target.address))
        wanted = {str(t.address) for t in targets}
        found: set[str] = set()
        frontier = set(wanted)
        while frontier:
            nxt = set().union(*(reverse.get(k, set()) for k in frontier)) - found
            found |= nxt
            frontier = nxt if transitive else set()
        return [self.targets[k] for k in sorted(found - wanted)]
