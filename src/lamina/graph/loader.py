"""Loading a repository's targets: BUILD files found (ignores honoured) and evaluated,
``__defaults__`` applied, sources globbed, and generators expanded into their targets
(``python_sources`` -> one ``python_source`` per file, ``python_requirements`` -> one
``python_requirement`` per line), with Pants' ``overrides``."""

from __future__ import annotations

import posixpath
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lamina.errors import BuildFileError
from lamina.graph.address import Address
from lamina.graph.build_file import BUILD_FILE_NAMES, BuildFile, check_required, evaluate
from lamina.graph.files import GlobError, Ignores, match_globs, walk
from lamina.graph.overrides import file_overrides, requirement_overrides
from lamina.graph.target import Registry, Target


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


class TargetLoader:
    """Reads every BUILD file under ``build_root`` into ``targets`` (by address string) and
    ``generated`` (generator address -> the targets it generated)."""

    def __init__(self, build_root: Path, registry: Registry, ignores: Ignores) -> None:
        self.build_root, self.registry, self.ignores = build_root, registry, ignores
        self.targets: dict[str, Target] = {}
        self.generated: dict[str, list[Target]] = {}
        self._load()

    def _build_files(self) -> list[str]:
        return sorted(p for p in walk(self.build_root, "", self.ignores) if posixpath.basename(p) in BUILD_FILE_NAMES)

    def _load(self) -> None:
        parsed: dict[str, BuildFile] = {}
        for relative in self._build_files():
            text = read_text(self.build_root, relative, what="BUILD file")
            parsed[relative] = evaluate(text, relative, self.registry.target_types)
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
                target = Target(Address(spec_path, name), declaration.alias, fields, relative, declaration.line)
                if target_type.generates is None and "sources" in fields:
                    target = self._with_sources(target, fields["sources"])
                elif target_type.generates is None and target_type.field("source") is not None and fields.get("source"):
                    target = self._with_sources(target, [fields["source"]], single=True)
                self._add(target)
                if target_type.generates:
                    generated = self._generate(target, target_type.generates)
                    self.generated[str(target.address)] = generated
                    for each in generated:
                        self._add(each)

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

    def _with_sources(self, target: Target, patterns, *, single: bool = False) -> Target:
        patterns = [patterns] if isinstance(patterns, str) else list(patterns or ())
        try:
            sources = match_globs(self.build_root, target.address.spec_path, patterns, self.ignores)
        except GlobError as err:
            raise BuildFileError(f"{target.address}: {err}", path=target.build_file, line=target.line) from None
        if single and not sources:
            raise BuildFileError(
                f"{target.address}: source={patterns[0]!r} names no file in {target.address.spec_path or 'the build root'}",
                path=target.build_file,
                line=target.line,
            )
        return Target(target.address, target.alias, target.fields, target.build_file, target.line, sources)

    def _generate(self, generator: Target, alias: str) -> list[Target]:
        if alias == "python_requirement":
            return self._generate_requirements(generator)
        address, fields = generator.address, generator.fields
        common = {
            "resolve": fields.get("resolve"),
            "dependencies": fields.get("dependencies") or (),
            "tags": fields.get("tags"),
        }
        default = self.registry.target_types[generator.alias].field("sources").default
        with_sources = self._with_sources(generator, fields.get("sources") or default)
        relative = {path: posixpath.relpath(path, address.spec_path or ".") for path in with_sources.sources}
        overrides = file_overrides(generator, self.registry.target_types[alias], relative.values())
        return [
            Target(
                Address(address.spec_path, address.name, relative_file=relative[path]),
                alias,
                {**common, **overrides.get(relative[path], {}), "source": path},
                generator.build_file,
                generator.line,
                (path,),
            )
            for path in with_sources.sources
        ]

    def _generate_requirements(self, generator: Target) -> list[Target]:
        address, fields = generator.address, generator.fields
        source = posixpath.join(address.spec_path, fields.get("source") or "requirements.txt")
        text = read_text(self.build_root, source, what="requirements file", context=generator)
        mapping = {canonicalize_name(k): tuple(v) for k, v in (fields.get("module_mapping") or {}).items()}
        common = {
            "resolve": fields.get("resolve"),
            "dependencies": fields.get("dependencies") or (),
            "tags": fields.get("tags"),
        }
        lines = []
        for number, line in enumerate(text.splitlines(), 1):
            line = line.split(" #")[0].strip()
            if not line or line.startswith(("#", "-")):
                continue
            try:
                lines.append((Requirement(line), line))
            except InvalidRequirement as err:
                raise BuildFileError(f"invalid requirement {line!r}: {err}", path=source, line=number) from None
        overrides = requirement_overrides(
            generator, self.registry.target_types["python_requirement"], [r.name for r, _ in lines]
        )
        return [
            Target(
                Address(address.spec_path, address.name, generated=requirement.name),
                "python_requirement",
                {
                    **common,
                    "requirements": (line,),
                    "modules": mapping.get(canonicalize_name(requirement.name)),
                    **overrides.get(canonicalize_name(requirement.name), {}),
                },
                generator.build_file,
                generator.line,
                (source,),
            )
            for requirement, line in lines
        ]
