"""The build graph: every target of the repository (read by ``loader``) and the edges between them.

Edges are the explicit ``dependencies``, the targets a generator generated, and what the
inferrers the backends register for a target type find (Python's follow imports). The
graph knows no language. Every walk over the graph is
iterative and visits each target once, so a chain of thousands of targets (or a
"ladder" where each depends on the next two) costs time in proportion to its size.
"""

from __future__ import annotations

import difflib
import logging
import posixpath
from collections.abc import Iterable

from lamina.config import Config
from lamina.errors import AddressError, DependencyCycleError
from lamina.graph.address import Address, parse_address, parse_parameters
from lamina.graph.changed import ChangedSince, changed_addresses
from lamina.graph.files import Ignores
from lamina.graph.loader import TargetLoader
from lamina.graph.source_roots import SourceRoots
from lamina.graph.tags import TagFilter
from lamina.graph.target import Registry, Target
from lamina.graph.visibility import Visibility
from lamina.python.module_mapping import ModuleNamesHook
from lamina.sources import SCHEMES as BASE_SCHEMES

log = logging.getLogger(__name__)


class BuildGraph:
    """Targets by address, with explicit and inferred dependencies."""

    def __init__(
        self,
        config: Config,
        registry: Registry,
        *,
        module_names: ModuleNamesHook | None = None,
        tag_filters: Iterable[str] = (),
        changed: ChangedSince | None = None,
    ) -> None:
        self.config = config
        self.registry = registry
        self.build_root = config.build_root
        self.source_roots = SourceRoots(config.root_patterns)
        self.ignores = Ignores(
            self.build_root,
            config.pants_ignore,
            use_gitignore=config.pants_ignore_use_gitignore,
            dist_dir=config.dist_dir,
        )
        self.module_names = module_names  # for the Python backend's inference: dist -> its modules
        self.memo: dict = {}  # what backends compute once per graph (module maps)
        self.tag_filter = TagFilter(tag_filters)
        self.changed = changed  # --changed-since: specs select only the targets it affects
        self._changed_addresses: set[str] | None = None
        self.loader = TargetLoader(config, registry, self.ignores)
        self.targets: dict[str, Target] = self.loader.targets
        self._generated = self.loader.generated  # generator address -> its generated targets
        self.visibility = Visibility(self.loader.rule_sets, self._aliases) if self.loader.has_rules else None
        self._dependencies: dict[str, list[Target]] = {}
        self._acyclic: set[str] = set()  # targets whose explicit dependencies are known to have no cycle
        self._warned: set[tuple[str, int, str]] = set()

    def _aliases(self, target: Target) -> tuple[str, ...]:
        """A target's type and, for a generated target, its generator's."""
        generator = self.targets.get(str(target.address.generator)) if target.address.is_generated else None
        return (target.alias, generator.alias) if generator is not None else (target.alias,)

    def resolve_of(self, target: Target) -> str:
        """The resolve a target uses."""
        return target.get("resolve") or self.config.default_resolve

    # -- edges ------------------------------------------------------------------------

    def address_of(self, text: str, *, relative_to: str = "", context: Target | None = None) -> Target:
        """The target an address string names: ``dir:name``, ``dir#gen``, a file address
        (``dir/f.py``, ``dir/sub/f.py:../name``), any of them with ``@k=v`` parameters."""
        body, parameters = parse_parameters(text)
        path, name, generated = parse_address(body, relative_to=relative_to)
        candidates = [Address(path, name or posixpath.basename(path), generated, parameters=parameters)]
        if generated is None and path:
            ups = (name or "").count("../")
            parts = path.split("/")
            if ups < len(parts):
                spec_path = "/".join(parts[: len(parts) - ups - 1])
                own_name = posixpath.basename(name) if name else posixpath.basename(spec_path)
                candidates.append(
                    Address(
                        spec_path,
                        own_name,
                        relative_file="/".join(parts[len(parts) - ups - 1 :]),
                        parameters=parameters,
                    )
                )
        for candidate in candidates:
            if str(candidate) in self.targets:
                return self.targets[str(candidate)]
        if not parameters:  # an unparametrized address names its only parametrization
            keys = {str(c) for c in candidates}
            matches = [
                t for t in self.targets.values() if t.address.parameters and str(t.address.parametrized_away) in keys
            ]
            if len(matches) == 1:
                return matches[0]
        candidates = [str(c) for c in candidates]
        close = difflib.get_close_matches(candidates[0], list(self.targets), n=1)
        where = f" (in dependencies of {context.address} at {context.build_file}:{context.line})" if context else ""
        hint = f"; did you mean {close[0]}?" if close else "; `lamina list ::` shows every address"
        raise AddressError(f"no target has the address {text!r}{where}{hint}")

    def explicit_dependencies(self, target: Target) -> tuple[list[Target], set[str]]:
        """Targets named in ``dependencies`` and the addresses excluded with ``!``."""
        included, excluded = [], set()
        for text in target.get("dependencies", ()):
            if text.startswith("!"):  # `!addr` drops an inferred dependency, `!!addr` drops it from every closure
                excluded.add(
                    str(self.address_of(text.lstrip("!"), relative_to=target.address.spec_path, context=target).address)
                )
            else:
                included.append(self.address_of(text, relative_to=target.address.spec_path, context=target))
        return included, excluded

    def dependencies(self, target: Target) -> list[Target]:
        """Direct dependencies: explicit, generated (for generators) and inferred (memoized)."""
        key = str(target.address)
        if key in self._dependencies:
            return self._dependencies[key]
        explicit, excluded = self.explicit_dependencies(target)
        found = list(explicit) + self._generated.get(key, [])
        for infer in self.registry.inferrers.get(target.alias, ()):
            found.extend(infer(target, self))
        unique = {str(t.address): t for t in found if str(t.address) not in excluded and t is not target}
        if self.visibility is not None:
            generated = {str(t.address) for t in self._generated.get(key, [])}
            for dependency in unique.values():
                if str(dependency.address) not in generated:
                    self.visibility.check(target, dependency)
        self._dependencies[key] = [unique[k] for k in sorted(unique)]
        return self._dependencies[key]

    def warn_once(self, path: str, line: int, message: str) -> None:
        """Log a warning about ``path:line`` once per run."""
        if (path, line, message) not in self._warned:
            self._warned.add((path, line, message))
            log.warning("%s:%d: %s", path, line, message)

    def base_target(self, image: Target) -> Target | None:
        """The target an image's ``base=`` names, or None when it names an image another way
        (``docker-archive:...``, ``scratch``, a registry reference)."""
        return self.image_target(image.get("base") or self.config.default_base, image, "base")

    def image_target(self, spec: str | None, image: Target, field: str) -> Target | None:
        """The target ``spec`` (an image's ``field``) names, or None when it names an image
        another way. A ``dir:name`` whose directory holds a BUILD file is an address and must
        name a target."""
        if not spec or spec == "scratch" or spec.split(":", 1)[0] in BASE_SCHEMES:
            return None
        if spec.startswith((":", "//")) or self._is_build_directory(spec):
            return self.address_of(spec, relative_to=image.address.spec_path, context=image)
        bases = [t for t in self.targets.values() if t.alias in self.registry.base_builders]
        close = difflib.get_close_matches(spec, [str(t.address) for t in bases], n=1, cutoff=0.8)
        first, _, rest = spec.partition("/")
        names_registry = bool(rest) and ("." in first or ":" in first or first == "localhost")
        if close and not names_registry:
            raise AddressError(
                f"{image.address} (at {image.build_file}:{image.line}): {field}={spec!r} names no target; did you mean "
                f"//{close[0]}? (an image on Docker Hub is written with its registry: docker.io/{spec})"
            )
        return None

    def _is_build_directory(self, spec: str) -> bool:
        path, _, _ = parse_address(spec)
        return bool(path) and path in self.loader.build_directories

    # -- queries ----------------------------------------------------------------------

    def resolve_specs(self, specs: Iterable[str]) -> list[Target]:
        """Targets matched by Pants-style specs (``::``, ``dir::``, ``dir:``, ``dir/``, ``dir:name``,
        a file), less those of ``!spec`` excludes, kept when they pass the ``--tag`` filters
        and, with ``--changed-since``, when the change affects them; in Pants' order."""
        specs = list(specs)
        included = [s for s in specs if not s.startswith("!")]
        if not included and specs:
            included = ["::"]  # Pants: only excludes means everything but them
        excluded: set[str] = set()
        for spec in specs:
            if spec.startswith("!"):
                excluded.update(str(t.address) for t in self._match_spec(spec[1:], strict=False))
        matched: dict[str, Target] = {}
        for spec in included:
            matched.update(
                (str(t.address), t)
                for t in self._match_spec(spec, strict=True)
                if self.tag_filter.keeps(t.get("tags") or ()) and str(t.address) not in excluded
            )
        if self.changed is not None:
            if self._changed_addresses is None:
                self._changed_addresses = changed_addresses(self, self.changed.since, self.changed.dependents)
            matched = {a: t for a, t in matched.items() if a in self._changed_addresses}
        return sorted(matched.values(), key=lambda t: t.address.sort_key)

    def _match_spec(self, spec: str, *, strict: bool) -> list[Target]:
        if spec.endswith("::"):
            prefix = spec[:-2].strip("/")
            chosen = [
                t
                for t in self.targets.values()
                if not prefix or t.address.spec_path == prefix or t.address.spec_path.startswith(prefix + "/")
            ]
            if strict and not chosen and prefix and not (self.build_root / prefix).is_dir():
                raise AddressError(f"spec {spec!r}: directory {prefix} does not exist")
            return chosen
        if spec.endswith((":", "/")) or (self.build_root / spec.strip("/")).is_dir() and ":" not in spec:
            directory = spec.rstrip(":").strip("/")
            if spec.endswith(":"):
                chosen = [t for t in self.targets.values() if t.address.spec_path == directory]
            else:  # a directory: the targets of its BUILD files and of its files, as Pants
                chosen = [
                    t
                    for t in self.targets.values()
                    if t.address.spec_path == directory
                    or (t.address.filename is not None and posixpath.dirname(t.address.filename) == directory)
                ]
            if strict and not chosen:
                raise AddressError(f"spec {spec!r}: no targets in {directory or 'the build root'}")
            return chosen
        if not strict:
            try:
                return [self.address_of(spec)]
            except AddressError:
                return []
        return [self.address_of(spec)]

    def closure(self, roots: Iterable[Target]) -> list[Target]:
        """Roots and everything they depend on, transitively; explicit cycles are errors."""
        roots = list(roots)
        self._check_explicit_cycles(roots)
        seen: dict[str, Target] = {}
        dropped = {  # ``!!addr`` in a root's dependencies: not anywhere in its closure
            str(self.address_of(text[2:], relative_to=root.address.spec_path, context=root).address)
            for root in roots
            for text in root.get("dependencies", ())
            if text.startswith("!!")
        }
        stack = list(roots)
        while stack:
            target = stack.pop()
            key = str(target.address)
            if key in seen or key in dropped:
                continue
            seen[key] = target
            stack.extend(self.dependencies(target))
        return [seen[key] for key in sorted(seen)]

    def _check_explicit_cycles(self, roots: list[Target]) -> None:
        """Depth-first over explicit dependencies, each target visited once (three colours)."""
        on_path: dict[str, int] = {}  # target -> its position on the current path
        path: list[str] = []
        stack: list[tuple[Target, Iterable[Target] | None]] = [(root, None) for root in reversed(roots)]
        while stack:
            target, pending = stack.pop()
            key = str(target.address)
            if pending is None:  # first visit
                if key in self._acyclic:
                    continue
                if key in on_path:
                    cycle = " -> ".join([*path[on_path[key] :], key])
                    raise DependencyCycleError(f"dependency cycle: {cycle}; remove one of these explicit dependencies")
                on_path[key] = len(path)
                path.append(key)
                pending = iter(self.explicit_dependencies(target)[0] + self._generated.get(key, []))
            child = next(pending, None)  # type: ignore[arg-type]
            if child is None:
                self._acyclic.add(key)
                del on_path[key]
                path.pop()
                continue
            stack.append((target, pending))
            stack.append((child, None))

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
