"""Loading a repository's targets as Pants does: BUILD files found by ``build_patterns``
(ignores honoured), the prelude evaluated first, ``__defaults__`` applied down the tree,
``parametrize`` expanded, sources globbed, and generators expanded into their targets
(one per file, or what a backend's generator makes), with Pants' ``overrides``; then the
synthetic targets backends add (Python: one per resolve's lockfile)."""

from __future__ import annotations

import fnmatch
import glob
import itertools
import logging
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from lamina.config import Config
from lamina.errors import BuildFileError
from lamina.graph.address import Address
from lamina.graph.build_file import BuildFile, BuildFileParser, Parametrize, RuleSets, check_required
from lamina.graph.files import GlobError, Ignores, check_glob, glob_pattern, match_globs, walk
from lamina.graph.overrides import file_overrides
from lamina.graph.target import Registry, Target, TargetType

log = logging.getLogger(__name__)
_NOT_MOVED = {"name", "sources", "overrides"}  # generator fields its generated targets do not inherit


def read_text(root: Path, path: str, *, what: str, context: Target | None = None) -> str:
    """A repository file as UTF-8 text; a clear error naming the file (and line) otherwise."""
    try:
        data = (root / path).read_bytes()
    except FileNotFoundError:
        where = f" (read by {context.address} at {context.build_file}:{context.line})" if context else ""
        raise BuildFileError(f"{what} {path} does not exist{where}") from None
    except OSError as err:
        raise BuildFileError(f"cannot read {what} {path}: {err.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise BuildFileError(
            f"{what} is not UTF-8 text (byte 0x{data[err.start]:02x}); save it as UTF-8", path=path, line=line
        ) from None


@dataclass(frozen=True)
class GenerationContext:
    """What a backend's generator may use: the repository's files and the target types."""

    build_root: Path
    registry: Registry

    def read_text(self, path: str, *, what: str, context: Target | None = None) -> str:
        """A repository file as text (see :func:`read_text`)."""
        return read_text(self.build_root, path, what=what, context=context)

    def inherited(self, generator: Target, alias: str) -> dict[str, Any]:
        """The generator's fields that its generated ``alias`` targets inherit."""
        generated = self.registry.target_types[alias]
        return {k: v for k, v in generator.fields.items() if k not in _NOT_MOVED and generated.has_field(k)}


class TargetLoader:
    """Reads every BUILD file under the build root into ``targets`` (by address string),
    ``generated`` (generator address -> the targets it generated) and ``rules`` (BUILD
    directory -> its visibility rule sets, inherited by subdirectories)."""

    def __init__(self, config: Config, registry: Registry, ignores: Ignores) -> None:
        self.config, self.registry, self.ignores = config, registry, ignores
        self.build_root = config.build_root
        self.targets: dict[str, Target] = {}
        self.generated: dict[str, list[Target]] = {}
        self.build_files: dict[str, BuildFile] = {}
        self.build_directories: dict[str, list[BuildFile]] = {}  # directory -> its BUILD files
        self.context = GenerationContext(self.build_root, registry)
        self._rules_cache: dict[tuple[str, str], list[RuleSets]] = {}
        self._load()

    # -- finding and evaluating BUILD files --------------------------------------------

    def _is_build_file(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(posixpath.basename(path), p) for p in self.config.build_patterns)

    def _build_file_paths(self) -> list[str]:
        ignore = pathspec.GitIgnoreSpec.from_lines(self.config.build_ignore)
        return sorted(
            p
            for p in walk(self.build_root, "", self.ignores)
            if self._is_build_file(p) and not ignore.match_file(p) and (self.build_root / p).is_file()
        )

    def _prelude(self) -> list[tuple[str, str]]:
        paths: set[str] = set()
        for pattern in self.config.build_file_prelude_globs:
            matched = glob.glob(pattern, root_dir=self.build_root, recursive=True)
            paths.update(p for p in matched if (self.build_root / p).is_file())
        return [(p, read_text(self.build_root, p, what="BUILD prelude file")) for p in sorted(paths)]

    def _load(self) -> None:
        unknown = self._unknown_type if self.config.unknown_target_types == "warn" else None
        parser = BuildFileParser(self.registry.target_types, prelude=self._prelude(), unknown_type=unknown)
        for relative in self._build_file_paths():
            text = read_text(self.build_root, relative, what="BUILD file")
            self.build_files[relative] = parser.parse(text, relative)
        for relative, build_file in self.build_files.items():
            self.build_directories.setdefault(posixpath.dirname(relative), []).append(build_file)
        defaults_cache: dict[str, dict[str, dict]] = {}
        for directory in sorted(self.build_directories):
            defaults = self._defaults_for(directory, self.build_directories, defaults_cache)
            for build_file in self.build_directories[directory]:
                for declaration in build_file.declarations:
                    self._declare(directory, declaration, defaults)
        self._add_synthetic_targets()

    def _declare(self, spec_path: str, declaration, defaults: dict[str, dict]) -> None:
        target_type = self.registry.target_types[declaration.alias]
        fields = {**defaults.get(declaration.alias, {}), **declaration.kwargs}
        path, line = declaration.path, declaration.line
        name = fields.get("name") or posixpath.basename(spec_path) or self.build_root.name
        for parameters, values in _expand_parametrize(fields, path, line):
            values = {**values, "name": name}
            check_required(target_type, values, path, line)
            if target_type.generates is not None:
                self._declare_generator(
                    Target(Address(spec_path, name), declaration.alias, values, path, line), parameters
                )
            else:
                address = Address(spec_path, name, parameters=parameters)
                self._add(self._with_own_sources(Target(address, declaration.alias, values, path, line), target_type))

    def _declare_generator(self, generator: Target, parameters: tuple) -> None:
        """Add a generator and what it generates. A parametrized generator stays one target;
        its generated targets carry the parameters, as in Pants."""
        generated = self._generate(generator)
        if self.registry.target_types[generator.alias].generates_files:  # its files, as ``peek`` shows them
            files = tuple(sorted({path for each in generated for path in each.sources}))
            generator = Target(
                generator.address, generator.alias, generator.fields, generator.build_file, generator.line, files
            )
        if parameters:
            generated = [
                Target(t.address.parametrized(parameters), t.alias, t.fields, t.build_file, t.line, t.sources)
                for t in generated
            ]
        key = str(generator.address)
        if key in self.targets and self.targets[key].build_file == generator.build_file and parameters:
            self.generated[key].extend(generated)
        else:
            self._add(generator)
            self.generated[key] = list(generated)
        for each in generated:
            self._add(each)

    def _unknown_type(self, alias: str, path: str, line: int | None) -> TargetType:
        """A target type no backend registers, read and listed under ``unknown_target_types = "warn"``."""
        log.warning(
            "%s:%s: %r is not a target type any backend registers; its targets are listed but not built "
            "([lamina] unknown_target_types = \"warn\")", path, line or 0, alias,
        )  # fmt: skip
        target_type = TargetType(alias, "A target type no backend registers.", None, builds=False)
        self.registry.register_target_types([target_type])
        return target_type

    # -- __defaults__ -----------------------------------------------------------------

    def _defaults_for(self, directory: str, by_directory: dict, cache: dict) -> dict[str, dict]:
        """Per target type, the field defaults in effect in ``directory``: the parent's,
        replaced (or, with ``extend=True``, extended) by this directory's ``__defaults__``."""
        if directory in cache:
            return cache[directory]
        parent = self._defaults_for(posixpath.dirname(directory), by_directory, cache) if directory else {}
        merged = {alias: dict(values) for alias, values in parent.items()}
        for build_file in by_directory.get(directory, []):
            for call in build_file.defaults:
                explicit = {a: v for a, v in call.values.items() if a != "all"}
                everyone = call.values.get("all")
                if everyone is not None:
                    for alias, target_type in self.registry.target_types.items():
                        applicable = {k: v for k, v in everyone.items() if target_type.has_field(k)}
                        applicable.update(explicit.pop(alias, {}))
                        merged[alias] = {**merged.get(alias, {}), **applicable} if call.extend else applicable
                for alias, values in explicit.items():
                    merged[alias] = {**merged.get(alias, {}), **values} if call.extend else dict(values)
        cache[directory] = merged
        return merged

    # -- sources and generation ---------------------------------------------------------

    def _warn_unmatched(self, target: Target, patterns: list[str], sources: tuple[str, ...]) -> None:
        behaviour = self.config.unmatched_build_file_globs
        if behaviour == "ignore":
            return
        spec_path = target.address.spec_path
        prefix = len(spec_path) + 1 if spec_path else 0
        relative = [s[prefix:] for s in sources]
        for pattern in patterns:
            if pattern.startswith("!"):
                continue
            regex = glob_pattern(check_glob(pattern))
            if not any(regex.fullmatch(r) for r in relative):
                message = (
                    f"{target.address}: the glob {pattern!r} matches no file in {spec_path or 'the build root'}"
                    " (set [GLOBAL] unmatched_build_file_globs to change how this is reported)"
                )
                if behaviour == "error":
                    raise BuildFileError(message, path=target.build_file, line=target.line)
                log.warning("%s:%d: %s", target.build_file, target.line, message)

    def _glob(self, target: Target, patterns, *, explicit: bool) -> tuple[str, ...]:
        patterns = [patterns] if isinstance(patterns, str) else list(patterns or ())
        try:
            sources = match_globs(self.build_root, target.address.spec_path, patterns, self.ignores)
            if explicit:
                self._warn_unmatched(target, patterns, sources)
        except GlobError as err:
            raise BuildFileError(f"{target.address}: {err}", path=target.build_file, line=target.line) from None
        return sources

    def _with_own_sources(self, target: Target, target_type: TargetType) -> Target:
        """A target with the files its ``sources`` or ``source`` field names."""
        if "sources" in target.fields and target.fields["sources"] is not None:
            sources = self._glob(target, target.fields["sources"], explicit=True)
        elif target.fields.get("source") and (target_type.field("source") is not None or target_type.fields is None):
            if not isinstance(target.fields["source"], str):
                return target
            built = target_type.fields is not None
            sources = self._glob(target, [target.fields["source"]], explicit=not built)
            if built and not sources:
                raise BuildFileError(
                    f"{target.address}: source={target.fields['source']!r} names no file in "
                    f"{target.address.spec_path or 'the build root'}",
                    path=target.build_file,
                    line=target.line,
                )
        else:
            return target
        return Target(target.address, target.alias, target.fields, target.build_file, target.line, sources)

    def _generate(self, generator: Target) -> list[Target]:
        generator_type = self.registry.target_types[generator.alias]
        custom = self.registry.generators.get(generator.alias)
        if custom is not None:
            return custom(generator, self.context)
        if not generator_type.generates_files:
            return []
        return self._generate_files(generator, generator_type)

    def _generate_files(self, generator: Target, generator_type: TargetType) -> list[Target]:
        """One target per file of the generator's ``sources``, addressed ``dir/file.ext:name``."""
        address, alias = generator.address, generator_type.generates
        given = generator.fields.get("sources")
        default = generator_type.default_sources
        if default is None:
            default = generator_type.field("sources").default  # type: ignore[union-attr]
        sources = self._glob(generator, given if given is not None else default, explicit=given is not None)
        inherited = self.context.inherited(generator, alias)
        relative = {path: posixpath.relpath(path, address.spec_path or ".") for path in sources}
        overrides = file_overrides(generator, self.registry.target_types[alias], relative.values())
        return [
            Target(
                Address(address.spec_path, address.name, relative_file=relative[path]),
                alias,
                {**inherited, **overrides.get(relative[path], {}), "source": relative[path]},
                generator.build_file,
                generator.line,
                (path,),
            )
            for path in sources
        ]

    def _add_synthetic_targets(self) -> None:
        """Targets no BUILD file declares, which backends add (Pants' synthetic targets)."""
        for synthesize in self.registry.synthesizers:
            for generator, generated in synthesize(self.config):
                if str(generator.address) in self.targets:
                    continue  # a declared target shadows it, as in Pants
                self._add(generator)
                self.generated[str(generator.address)] = list(generated)
                for each in generated:
                    self._add(each)

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

    def rule_sets(self, directory: str, kind: str) -> list[RuleSets]:
        """The visibility rules (``dependencies_rules`` or ``dependents_rules``) in effect in
        ``directory``, nearest first: its BUILD file's, else the nearest parent's, followed by
        the parent's too when they say ``extend=True``."""
        key = (directory, kind)
        if key not in self._rules_cache:
            own = [r for f in self.build_directories.get(directory, ()) if (r := getattr(f, kind)) is not None]
            parent = self.rule_sets(posixpath.dirname(directory), kind) if directory else []
            self._rules_cache[key] = (own + parent if all(r.extend for r in own) else own) if own else parent
        return self._rules_cache[key]

    @property
    def has_rules(self) -> bool:
        """Whether any BUILD file declares visibility rules."""
        return any(f.dependencies_rules or f.dependents_rules for f in self.build_files.values())


def _expand_parametrize(fields: Mapping[str, Any], path: str, line: int) -> list[tuple[tuple, dict[str, Any]]]:
    """(parameters, fields) per combination of the ``parametrize`` values in ``fields``."""
    plain = {k: v for k, v in fields.items() if not isinstance(v, Parametrize)}
    dimensions: list[list[tuple[tuple[str, str], dict[str, Any]]]] = []
    groups = [
        (k.removeprefix(Parametrize.GROUP_PREFIX), v)
        for k, v in fields.items()
        if k.startswith(Parametrize.GROUP_PREFIX)
    ]
    plain = {k: v for k, v in plain.items() if not k.startswith(Parametrize.GROUP_PREFIX)}
    try:
        for name, value in fields.items():
            if isinstance(value, Parametrize) and not name.startswith(Parametrize.GROUP_PREFIX):
                dimensions.append([((name, label), {name: option}) for label, option in value.options(name)])
    except TypeError as err:
        raise BuildFileError(str(err), path=path, line=line) from None
    if groups:
        dimensions.append([(("parametrize", group), dict(p.kwargs)) for group, p in groups])
    if not dimensions:
        return [((), plain)]
    combinations = []
    for choice in itertools.product(*dimensions):
        values = dict(plain)
        for _, chosen in choice:
            values.update(chosen)
        combinations.append((tuple(parameter for parameter, _ in choice), values))
    return combinations
