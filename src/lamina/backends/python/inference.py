"""Python's dependency inference, registered with the graph like any backend's (or plugin's):
imports to first-party modules through source roots, to third-party modules through the
requirement targets of the same resolve, ancestor ``__init__.py`` files, and the entry
points of ``python_image`` and ``pex_binary`` targets. As in Pants, an import several
requirement targets provide is ambiguous, and what nothing provides is reported as
``[python-infer] unowned_dependency_behavior`` says."""

from __future__ import annotations

import difflib
import posixpath
import re
import sys
from functools import cached_property

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from lamina.backends.python.target_types import builder_spec
from lamina.errors import AddressError, BuildFileError
from lamina.graph.target import Target
from lamina.python.imports import cached_parse_imports
from lamina.python.module_mapping import default_modules


class PythonInference:
    """The module maps of one build graph, and what each Python target depends on."""

    def __init__(self, graph) -> None:
        self.graph = graph
        self.config = graph.config

    @classmethod
    def of(cls, graph) -> PythonInference:
        """The one instance for ``graph`` (its maps are built once)."""
        return graph.memo.setdefault("python-inference", cls(graph))

    # -- module maps ------------------------------------------------------------------

    @cached_property
    def python_files(self) -> dict[str, Target]:
        """Build-root-relative ``.py`` path -> its python_source target."""
        return {t.sources[0]: t for t in self.graph.targets.values() if t.alias == "python_source" and t.sources}

    @cached_property
    def first_party_modules(self) -> dict[str, Target]:
        """Module name -> the python_source target defining it."""
        modules = {}
        for path, target in self.python_files.items():
            module = self.graph.source_roots.module_of(path)
            if module:
                modules[module] = target
        return modules

    @cached_property
    def third_party_modules(self) -> dict[str, dict[str, list[Target]]]:
        """Resolve -> module name -> the requirement targets providing it."""
        module_names = self.graph.module_names
        by_resolve: dict[str, dict[str, list[Target]]] = {}
        for target in self.graph.targets.values():
            if target.alias != "python_requirement":
                continue
            resolve = self.graph.resolve_of(target)
            for requirement in target.get("requirements", ()):
                try:
                    name = Requirement(requirement).name
                except InvalidRequirement as err:
                    raise BuildFileError(
                        f"{target.address}: invalid requirement {requirement!r}: {err}",
                        path=target.build_file,
                        line=target.line,
                    ) from None
                modules = (
                    target.get("modules")
                    or (module_names(name, resolve) if module_names else None)
                    or default_modules(name)
                )
                for module in modules:
                    by_resolve.setdefault(resolve, {}).setdefault(module, []).append(target)
        return by_resolve

    @cached_property
    def newer_python(self) -> bool:
        """Whether ``[python] interpreter_constraints`` allow a newer Python than this one."""
        newer = [f"3.{minor}" for minor in range(sys.version_info.minor + 1, 30)]
        for constraint in self.config.interpreter_constraints:
            try:
                specifier = SpecifierSet(re.sub(r"^[A-Za-z]+", "", constraint.strip()) or ">=0")
            except InvalidSpecifier:
                continue
            if any(specifier.contains(version) for version in newer):
                return True
        return False

    def requirements_of(self, resolve: str) -> list[str]:
        """Every requirement string the targets of ``resolve`` declare."""
        targets = self.graph.targets.values()
        return sorted(
            {
                r
                for t in targets
                if t.alias == "python_requirement" and self.graph.resolve_of(t) == resolve
                for r in t.get("requirements", ())
            }
        )

    # -- inference --------------------------------------------------------------------

    def imports(self, target: Target) -> list[Target]:
        """What a python_source's imports (and its packages' ``__init__.py``) need."""
        if not target.sources:
            return []
        graph, path = self.graph, target.sources[0]
        module = graph.source_roots.module_of(path)
        found = self._init_files(path)
        data = (graph.build_root / path).read_bytes()
        third_party = self.third_party_modules.get(graph.resolve_of(target), {})
        try:
            imports = cached_parse_imports(
                getattr(graph.module_names, "cache", None),  # the run's cache, where there is one
                data,
                module,
                is_package=path.endswith("__init__.py"),
                filename=path,
                newer_syntax=self.newer_python,
                string_min_dots=self.config.string_imports_min_dots if self.config.string_imports else None,
            )
        except (SyntaxError, ValueError) as err:
            line = getattr(err, "lineno", None) or 1
            reason = getattr(err, "msg", None) or str(err)
            graph.warn_once(
                path, line,
                f"cannot parse ({reason}), so its imports are not inferred and an image may lack what it imports; "
                "fix the file, or list what it imports in the dependencies of its target",
            )  # fmt: skip
            return found
        explicit, excluded = graph.explicit_dependencies(target)
        chosen = {str(t.address) for t in explicit} | excluded
        for imported in imports:
            owners = {str(t.address): t for t in self._provider(imported.candidates, third_party) or ()}
            if len(owners) > 1:  # ambiguous, as in Pants: only an explicit choice settles it
                if not chosen & set(owners) and not imported.weak:
                    graph.warn_once(
                        path, imported.line,
                        f"import {imported.candidates[-1]!r} is provided by {', '.join(sorted(owners))}, so no "
                        "dependency is inferred; name the one to use in the dependencies of its target "
                        "(or exclude the others with !)",
                    )  # fmt: skip
            elif owners:
                found.extend(owners.values())
            elif not imported.weak and imported.candidates[-1].split(".")[0] not in sys.stdlib_module_names:
                self._unowned(path, imported.line, imported.candidates[-1])
        return found

    def _unowned(self, path: str, line: int, module: str) -> None:
        behaviour = self.config.unowned_dependency_behavior
        message = f"cannot infer a dependency for import {module!r}: no first-party source or requirement provides it"
        if behaviour == "error":
            raise BuildFileError(
                f"{message}; add a requirement that provides it, or set [python-infer] unowned_dependency_behavior",
                path=path,
                line=line,
            )
        if behaviour == "warning":
            self.graph.warn_once(path, line, message)

    def _init_files(self, path: str) -> list[Target]:
        """The ``__init__.py`` files above ``path`` a source depends on, as ``[python-infer]
        init_files`` says: those with content (Pants' default), all, or none. Images get all
        of them anyway (see ``ancestor_init_files``)."""
        mode = self.config.init_files
        if mode == "never":
            return []
        found = self._ancestors(path)
        if mode == "content_only":
            found = [i for i in found if (self.graph.build_root / i.sources[0]).read_bytes().strip()]
        return found

    def ancestor_init_files(self, target: Target) -> list[Target]:
        """Every ``__init__.py`` of the packages above a source (what an image must carry)."""
        return self._ancestors(target.sources[0]) if target.sources else []

    def _ancestors(self, path: str) -> list[Target]:
        root = self.graph.source_roots.root_of(path)
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

    def entry_point(self, target: Target, *, required: bool = True) -> tuple[Target, str] | None:
        """The python_source a target's ``entry_point`` runs, and the entry point as
        ``module[:function]``; an error (or, unless ``required``, None) when it names none."""
        entry = target.get("entry_point") or ""
        reference, _, function = entry.partition(":")
        if reference.endswith(".py"):
            path = posixpath.normpath(posixpath.join(target.address.spec_path, reference))
            module = self.graph.source_roots.module_of(path)
            source = self.python_files.get(path)
        else:
            module = reference
            source = self.first_party_modules.get(reference)
        if source is None or module is None:
            if not required:
                return None
            close = difflib.get_close_matches(reference, list(self.first_party_modules), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise AddressError(
                f"{target.address} (at {target.build_file}:{target.line}): entry_point {entry!r} names no first-party "
                "module; give 'pkg.mod:func', 'pkg.mod' or a file relative to the BUILD file, owned by a python_sources "
                f"target{hint}"
            )
        return source, f"{module}:{function}" if function else module


def infer_python_source(target: Target, graph) -> list[Target]:
    """A python_source depends on what it imports."""
    return PythonInference.of(graph).imports(target)


def infer_python_image(target: Target, graph) -> list[Target]:
    """An image depends on its entry point's source (or its ``binary``) and on its base and builder targets."""
    if target.get("binary"):
        source = graph.address_of(target.get("binary"), relative_to=target.address.spec_path, context=target)
    elif target.get("entry_point"):
        source, _ = PythonInference.of(graph).entry_point(target)
    else:
        source = None  # building it says what is missing
    base = graph.base_target(target)
    builder = graph.image_target(builder_spec(target, graph.config), target, "builder")
    return [t for t in (source, base, builder) if t is not None]


def infer_pex_binary(target: Target, graph) -> list[Target]:
    """A ``pex_binary`` depends on the first-party source its ``entry_point`` names, as in
    Pants (a third-party entry point, a console ``script`` or none infers nothing)."""
    if not target.get("entry_point") or target.get("entry_point") == "<none>":
        return []
    found = PythonInference.of(graph).entry_point(target, required=False)
    return [found[0]] if found else []


INFERRERS = {
    "python_source": infer_python_source,
    "python_image": infer_python_image,
    "pex_binary": infer_pex_binary,
}
