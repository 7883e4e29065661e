"""Target types, their fields, targets, and the registry that backends and plugins fill.

A user-facing field is defined once, with its help text and default. Plugins named
in ``[GLOBAL] backend_packages`` use the same API as lamina's own backends: a
``register.py`` (or the package itself) with ``target_types()`` and optionally
``rules()`` returning ``{target_type_alias: packager}`` and ``base_builders()`` returning
``{target_type_alias: builder}`` for targets an image's ``base=`` may name, and
``library_packages()`` saying how such a base target can gain a shared library it lacks, and
``generators()`` returning ``{target_type_alias: generator}`` for target generators that do
not simply make one target per file (``python_requirements``: one per requirement), and
``output_paths()`` returning ``{target_type_alias: target -> path}`` for packages written
as files under the dist dir (a Dockerfile copies them from there), ``runtime_bases()``
returning ``{target_type_alias: (target, context) -> images}``: the images whose Python runs
the packages such a target holds (a ``.pex`` is built for them), ``registry_bases()``
returning ``{target_type_alias: (target, context) -> references}``: the registry images it
builds on, which ``generate-lockfiles`` pins, ``generated_files()`` returning
``{target_type_alias: (target, context) -> {path: ContextFile}}`` for targets that make
files (a ``shell_command``; each file with its executable bit), ``inferrers()`` returning ``{target_type_alias: inferrer}``: what a target depends on
beyond what it names (Python's imports, an image's entry point), and ``synthetic_targets(config)``
for targets no BUILD file declares (Pants' lockfile targets).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lamina.errors import ConfigError
from lamina.graph.address import Address
from lamina.graph.pants_plugins import declared_target_types

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Field:
    """One field users may set on a target."""

    name: str
    help: str
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class TargetType:
    """What users write in BUILD files: an alias and its fields.

    ``fields=None`` accepts any field (Pants' own types that lamina lists but does not build).
    ``generates`` names the type of target a generator makes (``python_sources`` ->
    ``python_source``); the graph expands generators.
    """

    alias: str
    help: str
    fields: tuple[Field, ...] | None = ()
    generates: str | None = None
    builds: bool = True
    default_sources: tuple[str, ...] | None = None  # a file generator's globs when ``sources`` is unset

    def field(self, name: str) -> Field | None:
        """The field called ``name``."""
        return next((f for f in self.fields or () if f.name == name), None)

    def has_field(self, name: str) -> bool:
        """Whether targets of this type may set ``name`` (any name, for types read but not built)."""
        return self.fields is None or name in {f.name for f in (*COMMON_FIELDS, *self.fields)}

    @property
    def generates_files(self) -> bool:
        """Whether this generator makes one target per file of its ``sources``."""
        return self.generates is not None and (self.default_sources is not None or self.field("sources") is not None)


COMMON_FIELDS = (
    Field("name", "The target's name, unique in its directory; defaults to the directory's name."),
    Field("dependencies", "Addresses this target depends on beyond what is inferred; `!addr` excludes one.", ()),
    Field("description", "A human-readable description of the target."),
    Field("tags", "Arbitrary strings to select targets by (`--tag=name`, `--tag=-name`), as in Pants.", ()),
)


@dataclass(frozen=True)
class Target:
    """A declared (or generated) target with its fields resolved against defaults."""

    address: Address
    alias: str
    fields: Mapping[str, Any]
    build_file: str
    line: int
    sources: tuple[str, ...] = ()  # build-root-relative files

    def get(self, name: str, default: Any = None) -> Any:
        """A field's value, or ``default`` when unset."""
        value = self.fields.get(name)
        return default if value is None else value

    def to_json(self) -> dict:
        """The target as ``peek`` prints it."""
        out = {"address": str(self.address), "target_type": self.alias}
        out.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(self.fields.items()) if k != "name"})
        if "sources" in out:
            out["sources_raw"] = out.pop("sources")
        if self.sources:
            out["sources"] = list(self.sources)
        return out


_HOOKS = (
    "base_builders", "library_packages", "owned_files", "output_paths", "runtime_bases", "registry_bases",
    "generated_files", "generators",
)  # fmt: skip
Packager = Callable[[Target, Any], Any]  # (target, lamina.backends.context.BuildContext) -> what it built
Generator = Callable[[Target, Any], list]  # (generator target, GenerationContext) -> the targets it generates
Synthesizer = Callable[[Any], list]  # config -> [(generator, its generated targets)] no BUILD file declares
Inferrer = Callable[[Target, Any], list]  # (target, build graph) -> the targets it depends on beyond its explicit ones
BaseBuilder = Callable[[Target, Any], tuple]  # (target, BuildContext) -> one Image per platform
# (base target, BuildContext, platform, sonames, dirs, {soname: Debian package the builder ships it in}) -> advice
LibraryPackages = Callable[..., str]
OwnedFiles = Callable[[Target], list]  # target -> build-root-relative files it owns besides its sources
# (the run's targets, BuildContext, a stop Event) -> None: work the targets will need, done ahead of them
Prefetcher = Callable[[list, Any, Any], None]


@dataclass
class Registry:
    """Every target type and packager known to this run."""

    target_types: dict[str, TargetType] = field(default_factory=dict)
    packagers: dict[str, Packager] = field(default_factory=dict)
    base_builders: dict[str, BaseBuilder] = field(default_factory=dict)
    library_packages: dict[str, LibraryPackages] = field(default_factory=dict)
    owned_files: dict[str, OwnedFiles] = field(default_factory=dict)
    output_paths: dict[str, Callable[[Target], str]] = field(default_factory=dict)  # where a package goes under dist/
    runtime_bases: dict[str, Callable[[Target, Any], tuple]] = field(default_factory=dict)  # images a package runs on
    registry_bases: dict[str, Callable[[Target, Any], list[str]]] = field(default_factory=dict)  # to pin
    generated_files: dict[str, Callable[[Target, Any], dict]] = field(default_factory=dict)  # path -> ContextFile
    generators: dict[str, Generator] = field(default_factory=dict)
    inferrers: dict[str, list[Inferrer]] = field(default_factory=dict)
    synthesizers: list[Synthesizer] = field(default_factory=list)
    prefetchers: list[Prefetcher] = field(default_factory=list)

    def register_target_types(self, types: Sequence[TargetType]) -> None:
        """Add target types (a later registration of the same alias wins)."""
        self.target_types.update({t.alias: t for t in types})

    def register_rules(self, rules: Mapping[str, Packager]) -> None:
        """Add packagers: what ``package`` runs for a target type."""
        self.packagers.update(rules)

    def packager(self, target: Target) -> Packager | None:
        """The packager for ``target``'s type, if it is packageable."""
        return self.packagers.get(target.alias)

    def _read_pants_plugin(self, module_name: str) -> None:
        """A plugin for Pants' own engine: its target types are read and listed, not built."""
        aliases = [a for a in declared_target_types(module_name) if a not in self.target_types]
        log.warning(
            "backend %r in [GLOBAL] backend_packages is a Pants plugin (it imports Pants' plugin API), which "
            "lamina cannot run; its target types (%s) are read and listed but not built",
            module_name, ", ".join(aliases) or "none found",
        )  # fmt: skip
        self.register_target_types(
            [TargetType(a, f"A target type of the Pants plugin {module_name}.", None, builds=False) for a in aliases]
        )

    def load_backend(self, module_name: str) -> None:
        """Import a backend package and register what its ``register`` module provides."""
        try:
            module = importlib.import_module(module_name)
            try:
                module = importlib.import_module(f"{module_name}.register")
            except ModuleNotFoundError as err:
                if err.name != f"{module_name}.register":
                    raise
        except ImportError as err:
            if isinstance(err, ModuleNotFoundError) and (err.name or "").split(".")[0] == "pants":
                self._read_pants_plugin(module_name)
                return
            raise ConfigError(f"cannot load backend {module_name!r} from [GLOBAL] backend_packages: {err}") from err
        if not hasattr(module, "target_types"):
            raise ConfigError(f"backend {module_name!r} has no target_types() function in register.py")
        self.register_target_types(module.target_types())
        if hasattr(module, "rules"):
            self.register_rules(module.rules())
        for hook in _HOOKS:  # {alias: function} from each hook the backend has
            if hasattr(module, hook):
                getattr(self, hook).update(getattr(module, hook)())
        if hasattr(module, "synthetic_targets"):
            self.synthesizers.append(module.synthetic_targets)
        if hasattr(module, "prefetch"):
            self.prefetchers.append(module.prefetch)
        for alias, inferrer in (module.inferrers() if hasattr(module, "inferrers") else {}).items():
            self.inferrers.setdefault(alias, []).append(inferrer)
