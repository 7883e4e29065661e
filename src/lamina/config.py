"""lamina's configuration, read from ``pants.toml`` so a Pants repository works unchanged.

Pants' own sections are accepted and ignored; lamina's sections (``[lamina]``, ``[oci]``,
``[debian]``, ``[source]``) and ``[python]`` (lamina's keys and every key Pants' own
``[python]`` has) are checked, and an unknown option there is an error with a
did-you-mean. Values may use Pants' interpolations ``%(buildroot)s`` and
``%(env.NAME)s``, the usual way to keep a password out of the file. Credentials in
URLs are split off as soon as they are read: the rest of lamina holds clean URLs.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamina.errors import ConfigError
from lamina.redact import Credentials, split_credentials
from lamina.sandbox import SANDBOXES
from lamina.transport import HostOptions, netloc

CONFIG_FILE = "pants.toml"
DEFAULT_ROOT_PATTERNS = (  # Pants' own default, when [source] is absent
    "/", "src", "src/python", "src/py", "src/thrift", "src/protobuf", "src/protos", "src/scala", "src/java",
)  # fmt: skip
DEFAULT_PANTS_IGNORE = (".*/", "/dist/", "__pycache__")
DEFAULT_BUILD_PATTERNS = ("BUILD", "BUILD.*")
DEFAULT_RESOLVES = {"python-default": "3rdparty/python/default.lock"}  # Pants' default, when none are declared
DEFAULT_SEARCH_PATH = ("<PYENV>", "<PATH>")  # Pants' [python-bootstrap] search_path
_OWNED = {
    "source": {"root_patterns", "marker_filenames"},
    "lamina": {
        "cache_dir",
        "dist_dir",
        "index_urls",
        "jobs",
        "max_workers",
        "remote_cache",
        "unknown_target_types",
        "container_engine",
    },
    "oci": {
        "default_base",
        "venv_dir",
        "app_dir",
        "default_repository",
        "registries",
        "bases_lockfile",
        "stamp",
        "outputs",
    },
    "debian": {"mirror", "security_mirror", "keyring", "verify_signatures"},
}
# [python] is shared with Pants: lamina reads these keys ...
_PYTHON_KEYS = {
    "interpreter_constraints", "enable_resolves", "default_resolve", "resolves", "enable_lockfile_targets", "builder",
    "sandbox", "resolves_to_interpreter_constraints", "default_to_resolve_interpreter_constraints",
}  # fmt: skip
# ... and accepts, without reading them, the other options Pants 2.x has had there.
_PANTS_PYTHON_KEYS = {
    "default_run_goal_use_sandbox",
    "experimental_default_resolve", "experimental_lockfile", "experimental_resolves",
    "experimental_resolves_to_interpreter_constraints", "experimental_resolves_to_lockfiles",
    "interpreter_search_paths", "interpreter_versions_universe", "invalid_lockfile_behavior", "lockfile_generator",
    "macos_big_sur_compatibility", "no_binary", "only_binary", "pip_version", "repl_history",
    "requirement_constraints", "requirement_constraints_target", "resolve_all_constraints", "resolver",
    "resolver_http_cache_ttl", "resolver_jobs", "resolver_manylinux", "resolver_version",
    "resolves_generate_lockfiles", "resolves_to_complete_platforms", "resolves_to_constraints_file",
    "resolves_to_excludes", "resolves_to_lock_style",
    "resolves_to_no_binary", "resolves_to_only_binary", "resolves_to_overrides", "resolves_to_sources",
    "run_against_entire_lockfile", "separate_lockfile_metadata_file", "tailor_ignore_empty_init_files",
    "tailor_ignore_solitary_init_files", "tailor_pex_binary_targets", "tailor_py_typed_targets",
    "tailor_requirements_targets", "tailor_source_targets", "tailor_test_file_globs", "tailor_testutils_file_globs",
    "warn_on_python2_usage",
}  # fmt: skip
_INTERPOLATION = re.compile(r"%\((?P<name>buildroot|env\.[A-Za-z_][A-Za-z0-9_]*)\)s")


@dataclass(frozen=True)
class Config:
    """Everything lamina reads from ``pants.toml``."""

    build_root: Path
    root_patterns: tuple[str, ...] = DEFAULT_ROOT_PATTERNS
    interpreter_constraints: tuple[str, ...] = ()
    interpreter_search_path: tuple[str, ...] = DEFAULT_SEARCH_PATH  # [python-bootstrap] search_path
    resolves_to_interpreter_constraints: dict[str, tuple[str, ...]] = field(default_factory=dict)
    default_to_resolve_interpreter_constraints: bool = False
    enable_resolves: bool = False
    enable_lockfile_targets: bool = True  # Pants' synthetic target per resolve's lockfile
    python_builder: str | None = None  # [python] builder: the base target compiled sdists are built in
    python_sandbox: str = "auto"  # [python] sandbox: what builds run in: auto, bubblewrap or docker
    default_resolve: str = "python-default"
    resolves: dict[str, str] = field(default_factory=dict)
    backend_packages: tuple[str, ...] = ()
    pythonpath: tuple[str, ...] = ()
    pants_ignore: tuple[str, ...] = DEFAULT_PANTS_IGNORE
    pants_ignore_use_gitignore: bool = True
    build_patterns: tuple[str, ...] = DEFAULT_BUILD_PATTERNS
    build_ignore: tuple[str, ...] = ()
    build_file_prelude_globs: tuple[str, ...] = ()
    unmatched_build_file_globs: str = "warn"  # or "error", "ignore"
    string_imports: bool = False  # [python-infer]: infer dependencies from strings that name modules
    string_imports_min_dots: int = 2
    unowned_dependency_behavior: str = "warning"  # [python-infer]: or "ignore", "error"
    init_files: str = "content_only"  # [python-infer]: which __init__.py files are dependencies
    unknown_target_types: str = "error"  # or "warn": a target type no backend registers is listed, not refused
    cache_dir: str | None = None
    dist_dir: str = "dist"
    index_urls: tuple[str, ...] = ("https://pypi.org/simple",)
    max_workers: int = 8  # concurrent downloads and uploads
    jobs: int | None = None  # targets built at once (None: one per CPU)
    default_base: str | None = None
    default_repository: str | None = None
    venv_dir: str = "/opt/venv"
    app_dir: str = "/app"
    stamp: bool = False
    outputs: tuple[str, ...] = ("oci",)  # what `package` writes: "oci" (the shared layout), "tarball", "docker"
    debian_mirror: str = "https://deb.debian.org/debian"
    debian_security_mirror: str = "https://deb.debian.org/debian-security"
    debian_keyring: Path | None = None  # None: lamina's copy of the Debian archive keyring
    debian_verify_signatures: bool = True
    registries: dict[str, HostOptions] = field(default_factory=dict)
    credentials: dict[str, Credentials] = field(default_factory=dict)  # host -> what its configured URLs carried
    remote_cache: str | None = None  # REGISTRY/REPO where cacheable layers are shared
    container_engine: str = "auto"  # what runs a Dockerfile's RUN: "auto" (Docker, else buildah), "docker", "buildah"
    bases_lockfile: str = "3rdparty/oci/bases.lock.json"  # registry bases' tags pinned to digests
    mirrors: dict[str, tuple[str, ...]] = field(default_factory=dict)  # registry host -> mirror hosts, tried first
    docker: DockerOptions = field(default_factory=lambda: DockerOptions())

    def resolve_interpreter_constraints(self, resolve: str) -> tuple[str, ...]:
        """The constraints ``resolve`` is locked for: its ``[python.resolves_to_interpreter_constraints]``, else ``[python]``'s."""
        return self.resolves_to_interpreter_constraints.get(resolve) or self.interpreter_constraints

    def default_interpreter_constraints(self, resolve: str) -> tuple[str, ...]:
        """A target's constraints when it sets none: its resolve's, where
        ``default_to_resolve_interpreter_constraints`` says so, else ``[python]``'s."""
        if self.default_to_resolve_interpreter_constraints:
            return self.resolve_interpreter_constraints(resolve)
        return self.interpreter_constraints

    def lock_path(self, resolve: str) -> Path:
        """The lock file of ``resolve`` (absolute)."""
        if resolve not in self.resolves:
            known = ", ".join(sorted(self.resolves)) or "none"
            raise ConfigError(
                f"resolve {resolve!r} has no lock file in {CONFIG_FILE} (known resolves: {known}); add it under [python.resolves]"
            )
        return self.build_root / self.resolves[resolve]


@dataclass(frozen=True)
class DockerRegistry:
    """``[docker.registries.ALIAS]``: a registry ``docker_image`` targets name as ``@ALIAS``."""

    alias: str
    address: str
    default: bool = False
    skip_push: bool = False
    repository: str | None = None
    extra_image_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DockerOptions:
    """Pants' ``[docker]`` options that change what a ``docker_image`` is."""

    build_args: tuple[str, ...] = ()  # NAME=value, or NAME to take from the environment
    env_vars: tuple[str, ...] = ()  # NAME[=value] of the environment the build sees
    default_repository: str = "{name}"
    default_context_root: str = ""
    build_target_stage: str | None = None
    registries: dict[str, DockerRegistry] = field(default_factory=dict)


def find_build_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding ``pants.toml``."""
    for directory in (start, *start.parents):
        if (directory / CONFIG_FILE).is_file():
            return directory
    raise ConfigError(
        f"no {CONFIG_FILE} found in {start} or any parent; run lamina inside a repository or pass --build-root"
    )


def _check_keys(section: str, values: dict, allowed: set[str]) -> None:
    for key in values:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known options: {', '.join(sorted(allowed))}"
            raise ConfigError(f"{CONFIG_FILE}: unknown option {key!r} in [{section}]{hint}")


OUTPUTS = ("oci", "tarball", "docker")


def parse_outputs(values: list, where: str) -> tuple[str, ...]:
    """Output names, checked: ``oci``, ``tarball``, ``docker``, in that order."""
    unknown = [v for v in values if v not in OUTPUTS]
    if unknown or not values:
        raise ConfigError(f"{where}: {unknown or values!r} is not a list of outputs; choose from {', '.join(OUTPUTS)}")
    return tuple(o for o in OUTPUTS if o in values)


def _expect(section: str, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ConfigError(f"{CONFIG_FILE}: [{section}] {key} must be a {names}, not {value!r}")
    return value


def _list_option(values: dict, key: str, section: str = "GLOBAL", default: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A Pants list option: a list, or ``{add = [...], remove = [...]}`` on top of ``default``."""
    value = values.get(key)
    if value is None:
        return default
    if isinstance(value, dict):
        removed = value.get("remove", [])
        return tuple(v for v in (*default, *value.get("add", [])) if v not in removed)
    return tuple(_expect(section, key, value, list))


def _choice(values: dict, section: str, key: str, choices: tuple[str, ...]) -> str:
    """A string option that must be one of ``choices`` (the first is the default)."""
    value = _expect(section, key, values.get(key, choices[0]), str)
    if value not in choices:
        raise ConfigError(f"{CONFIG_FILE}: [{section}] {key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _interpolate(value: Any, build_root: Path, where: str) -> Any:
    """``%(buildroot)s`` and ``%(env.NAME)s`` substituted in every string of ``value``."""
    if isinstance(value, dict):
        return {k: _interpolate(v, build_root, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, build_root, where) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        name = match["name"]
        if name == "buildroot":
            return str(build_root)
        variable = name.removeprefix("env.")
        if variable not in os.environ:
            raise ConfigError(f"{CONFIG_FILE}: {where} uses %({name})s, but ${variable} is not set")
        return os.environ[variable]

    return _INTERPOLATION.sub(substitute, value)


def _mirrors(table: dict) -> dict[str, tuple[str, ...]]:
    """``[oci.registries."HOST"] mirrors``: hosts tried before HOST, in order (containerd's ``hosts.toml``);
    ``docker.io`` is Docker Hub under any of its names."""
    from lamina.registry.reference import registry_host

    return {
        registry_host(host): tuple(_list_option(options, "mirrors", f'oci.registries."{host}"'))
        for host, options in table.items()
        if "mirrors" in options
    }


def _docker(table: dict) -> DockerOptions:
    """Pants' ``[docker]`` section (options lamina does not use are accepted and left alone)."""
    registries = {}
    for alias, options in _expect("docker", "registries", table.get("registries", {}), dict).items():
        section = f"docker.registries.{alias}"
        _expect("docker", f"registries.{alias}", options, dict)
        registries[alias] = DockerRegistry(
            alias=alias,
            address=_expect(section, "address", options.get("address", ""), str),
            default=_expect(section, "default", options.get("default", False), bool),
            skip_push=_expect(section, "skip_push", options.get("skip_push", False), bool),
            repository=options.get("repository"),
            extra_image_tags=tuple(_list_option(options, "extra_image_tags", section)),
        )
        if not registries[alias].address:
            raise ConfigError(f"{CONFIG_FILE}: [{section}] has no address")
    return DockerOptions(
        build_args=tuple(_list_option(table, "build_args", "docker")),
        env_vars=tuple(_list_option(table, "env_vars", "docker")),
        default_repository=_expect("docker", "default_repository", table.get("default_repository", "{name}"), str),
        default_context_root=_expect("docker", "default_context_root", table.get("default_context_root", ""), str),
        build_target_stage=table.get("build_target_stage"),
        registries=registries,
    )


def _registries(table: dict, build_root: Path) -> dict[str, HostOptions]:
    """``[oci.registries."host:port"]`` tables: a CA bundle (path) and plain HTTP per registry."""
    found = {}
    for host, options in table.items():
        section = f'oci.registries."{host}"'
        _check_keys(
            section, _expect("oci", f"registries.{host}", options, dict), {"ca_bundle", "plain_http", "mirrors"}
        )
        found[host] = HostOptions(
            ca_bundle=build_root / _expect(section, "ca_bundle", options["ca_bundle"], str)
            if "ca_bundle" in options
            else None,
            plain_http=_expect(section, "plain_http", options.get("plain_http", False), bool),
        )
    return found


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: {err}") from None
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from None


def load_config(build_root: Path) -> Config:
    """Read ``pants.toml`` at ``build_root``."""
    data = _interpolate(_read(build_root / CONFIG_FILE), build_root, "")
    for section, allowed in _OWNED.items():
        _check_keys(section, _expect(section, "section", data.get(section, {}), dict), allowed)
    python = _expect("python", "section", data.get("python", {}), dict)
    _check_keys("python", python, _PYTHON_KEYS | _PANTS_PYTHON_KEYS)
    lamina, oci, source, debian = (data.get(name, {}) for name in ("lamina", "oci", "source", "debian"))
    globals_ = data.get("GLOBAL", {})
    infer = _expect("python-infer", "section", data.get("python-infer", {}), dict)
    kwargs: dict[str, Any] = {
        "build_root": build_root,
        "backend_packages": _list_option(globals_, "backend_packages"),
        "pythonpath": _list_option(globals_, "pythonpath"),
        "pants_ignore": _list_option(globals_, "pants_ignore", default=DEFAULT_PANTS_IGNORE),
        "pants_ignore_use_gitignore": _expect(
            "GLOBAL", "pants_ignore_use_gitignore", globals_.get("pants_ignore_use_gitignore", True), bool
        ),
        "resolves": {
            str(k): str(v)
            for k, v in _expect("python", "resolves", python.get("resolves") or DEFAULT_RESOLVES, dict).items()
        },
        "build_patterns": _list_option(globals_, "build_patterns", default=DEFAULT_BUILD_PATTERNS),
        "build_ignore": _list_option(globals_, "build_ignore"),
        "build_file_prelude_globs": _list_option(globals_, "build_file_prelude_globs"),
        "unmatched_build_file_globs": _choice(
            globals_, "GLOBAL", "unmatched_build_file_globs", ("warn", "error", "ignore")
        ),
        "unknown_target_types": _choice(lamina, "lamina", "unknown_target_types", ("error", "warn")),
        "string_imports": _expect("python-infer", "string_imports", infer.get("string_imports", False), bool),
        "string_imports_min_dots": _expect(
            "python-infer", "string_imports_min_dots", infer.get("string_imports_min_dots", 2), int
        ),
        "init_files": _choice(infer, "python-infer", "init_files", ("content_only", "always", "never")),
        "unowned_dependency_behavior": _choice(
            infer, "python-infer", "unowned_dependency_behavior", ("warning", "ignore", "error")
        ),
    }
    if "root_patterns" in source:
        kwargs["root_patterns"] = _list_option(source, "root_patterns", "source", DEFAULT_ROOT_PATTERNS)
    if "interpreter_constraints" in python:
        kwargs["interpreter_constraints"] = _list_option(python, "interpreter_constraints", "python")
    by_resolve = _expect("python", "resolves_to_interpreter_constraints",
                         python.get("resolves_to_interpreter_constraints", {}), dict)  # fmt: skip
    kwargs["resolves_to_interpreter_constraints"] = {
        str(resolve): _list_option(by_resolve, resolve, "python.resolves_to_interpreter_constraints")
        for resolve in by_resolve
    }
    if "default_to_resolve_interpreter_constraints" in python:
        kwargs["default_to_resolve_interpreter_constraints"] = _expect(
            "python",
            "default_to_resolve_interpreter_constraints",
            python["default_to_resolve_interpreter_constraints"],
            bool,
        )
    bootstrap = _expect("python-bootstrap", "section", data.get("python-bootstrap", {}), dict)
    search_path = bootstrap.get("search_path", python.get("interpreter_search_paths"))  # the latter: Pants < 2.9
    if search_path is not None:
        entries = _list_option({"search_path": search_path}, "search_path", "python-bootstrap", DEFAULT_SEARCH_PATH)
        kwargs["interpreter_search_path"] = tuple(_expect("python-bootstrap", "search_path", e, str) for e in entries)
    constraints = python.get("requirement_constraints")
    if constraints and not python.get("enable_resolves") and "resolves" not in python:
        # Pants' legacy setup: one resolve, pinned by a constraints file
        kwargs["resolves"] = {"python-default": _expect("python", "requirement_constraints", constraints, str)}
    if "enable_resolves" in python:
        kwargs["enable_resolves"] = _expect("python", "enable_resolves", python["enable_resolves"], bool)
    if "builder" in python:
        kwargs["python_builder"] = _expect("python", "builder", python["builder"], str)
    if "sandbox" in python:
        kwargs["python_sandbox"] = _expect("python", "sandbox", python["sandbox"], str)
        if kwargs["python_sandbox"] not in SANDBOXES:
            raise ConfigError(
                f"{CONFIG_FILE}: [python] sandbox must be one of {', '.join(SANDBOXES)}, not {python['sandbox']!r}"
            )
    if "enable_lockfile_targets" in python:
        kwargs["enable_lockfile_targets"] = _expect(
            "python", "enable_lockfile_targets", python["enable_lockfile_targets"], bool
        )
    if "default_resolve" in python:
        kwargs["default_resolve"] = _expect("python", "default_resolve", python["default_resolve"], str)
    for key, kind in (
        ("cache_dir", str),
        ("dist_dir", str),
        ("max_workers", int),
        ("jobs", int),
        ("remote_cache", str),
        ("container_engine", str),
    ):
        if key in lamina:
            kwargs[key] = _expect("lamina", key, lamina[key], kind)
    if kwargs.get("container_engine", "auto") not in ("auto", "docker", "buildah"):
        raise ConfigError(f"{CONFIG_FILE}: [lamina] container_engine must be auto, docker or buildah")
    if kwargs.get("jobs", 1) < 1 or kwargs.get("max_workers", 1) < 1:
        raise ConfigError(f"{CONFIG_FILE}: [lamina] jobs and max_workers must be 1 or more")
    credentials: dict[str, Credentials] = {}

    def clean(url: str, where: str) -> str:
        url, found = split_credentials(_expect(*where.split(" ", 1), url, str))
        if found is not None:
            credentials[netloc(url)] = found
        return url

    if "index_urls" in lamina:
        kwargs["index_urls"] = tuple(
            clean(u, "lamina index_urls") for u in _expect("lamina", "index_urls", lamina["index_urls"], list)
        )
    for key, kind in (("default_base", str), ("default_repository", str), ("venv_dir", str), ("app_dir", str),
                      ("bases_lockfile", str), ("stamp", bool)):  # fmt: skip
        if key in oci:
            kwargs[key] = _expect("oci", key, oci[key], kind)
    if "outputs" in oci:
        kwargs["outputs"] = parse_outputs(
            _expect("oci", "outputs", oci["outputs"], list), f"{CONFIG_FILE}: [oci] outputs"
        )
    kwargs["registries"] = _registries(_expect("oci", "registries", oci.get("registries", {}), dict), build_root)
    kwargs["mirrors"] = _mirrors(oci.get("registries", {}))
    kwargs["docker"] = _docker(_expect("docker", "section", data.get("docker", {}), dict))
    for key in ("mirror", "security_mirror"):
        if key in debian:
            kwargs[f"debian_{key}"] = clean(debian[key], f"debian {key}")
    if "verify_signatures" in debian:
        kwargs["debian_verify_signatures"] = _expect("debian", "verify_signatures", debian["verify_signatures"], bool)
    if "keyring" in debian:
        kwargs["debian_keyring"] = build_root / _expect("debian", "keyring", debian["keyring"], str)
    kwargs["credentials"] = credentials
    return Config(**kwargs)
