"""lamina's configuration, read from ``pants.toml`` so a Pants repository works unchanged.

Pants' own sections and options are accepted and ignored; lamina's sections
(``[lamina]``, ``[oci]``, ``[debian]``, ``[source]`` and lamina's keys of ``[python]``) are checked,
and an unknown option there is an error with a did-you-mean.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lamina.errors import ConfigError

CONFIG_FILE = "pants.toml"
DEFAULT_ROOT_PATTERNS = (
    "/", "src", "src/python", "src/py", "src/thrift", "src/protobuf", "src/protos", "src/scala", "src/java",
    "test", "tests", "test/python", "tests/python", "3rdparty", "3rdparty/python",
)  # fmt: skip
_OWNED = {
    "source": {"root_patterns", "marker_filenames"},
    "lamina": {"cache_dir", "dist_dir", "index_urls", "max_workers", "remote_cache"},
    "oci": {"default_base", "venv_dir", "app_dir", "default_repository", "registries", "bases_lockfile"},
    "debian": {"mirror", "security_mirror", "keyring", "verify_signatures"},
}
# [python] is shared with Pants: these keys are lamina's, others are Pants' and ignored.
_PYTHON_KEYS = {"interpreter_constraints", "enable_resolves", "default_resolve", "resolves"}


@dataclass(frozen=True)
class Config:
    """Everything lamina reads from ``pants.toml``."""

    build_root: Path
    root_patterns: tuple[str, ...] = DEFAULT_ROOT_PATTERNS
    interpreter_constraints: tuple[str, ...] = ()
    enable_resolves: bool = False
    default_resolve: str = "python-default"
    resolves: dict[str, str] = field(default_factory=dict)
    backend_packages: tuple[str, ...] = ()
    pythonpath: tuple[str, ...] = ()
    cache_dir: str | None = None
    dist_dir: str = "dist"
    index_urls: tuple[str, ...] = ("https://pypi.org/simple",)
    max_workers: int = 8
    default_base: str | None = None
    default_repository: str | None = None
    venv_dir: str = "/opt/venv"
    app_dir: str = "/app"
    debian_mirror: str = "https://deb.debian.org/debian"
    debian_security_mirror: str = "https://deb.debian.org/debian-security"
    debian_keyring: Path | None = None  # None: lamina's copy of the Debian archive keyring
    debian_verify_signatures: bool = True
    registries: dict[str, dict] = field(default_factory=dict)  # host -> {"ca_bundle": Path, "plain_http": bool}
    remote_cache: str | None = None  # REGISTRY/REPO where cacheable layers are shared
    bases_lockfile: str = "3rdparty/oci/bases.lock.json"  # registry bases' tags pinned to digests

    def lock_path(self, resolve: str) -> Path:
        """The lock file of ``resolve`` (absolute)."""
        if resolve not in self.resolves:
            known = ", ".join(sorted(self.resolves)) or "none"
            raise ConfigError(
                f"resolve {resolve!r} has no lock file in {CONFIG_FILE} (known resolves: {known}); add it under [python.resolves]"
            )
        return self.build_root / self.resolves[resolve]


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


def _list_option(values: dict, key: str) -> tuple[str, ...]:
    """A Pants list option: a list, or ``{add = [...], remove = [...]}``."""
    value = values.get(key, [])
    if isinstance(value, dict):
        return tuple(v for v in value.get("add", []) if v not in value.get("remove", []))
    return tuple(value)


def _registries(table: dict, build_root: Path) -> dict[str, dict]:
    """``[oci.registries."host:port"]`` tables: a CA bundle (path) and plain HTTP per registry."""
    found = {}
    for host, options in table.items():
        _check_keys(f'oci.registries."{host}"', options, {"ca_bundle", "plain_http"})
        found[host] = {
            "ca_bundle": build_root / options["ca_bundle"] if "ca_bundle" in options else None,
            "plain_http": options.get("plain_http"),
        }
    return found


def load_config(build_root: Path) -> Config:
    """Read ``pants.toml`` at ``build_root``."""
    path = build_root / CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: {err}") from err
    for section, allowed in _OWNED.items():
        _check_keys(section, data.get(section, {}), allowed)
    python = data.get("python", {})
    lamina, oci, source, globals_ = (
        data.get("lamina", {}),
        data.get("oci", {}),
        data.get("source", {}),
        data.get("GLOBAL", {}),
    )
    root = str(build_root)
    kwargs: dict = {
        "build_root": build_root,
        "backend_packages": _list_option(globals_, "backend_packages"),
        "pythonpath": tuple(p.replace("%(buildroot)s", root) for p in _list_option(globals_, "pythonpath")),
        "resolves": {str(k): str(v) for k, v in (python.get("resolves") or {}).items()},
    }
    if "root_patterns" in source:
        kwargs["root_patterns"] = tuple(source["root_patterns"])
    for key in ("interpreter_constraints",):
        if key in python:
            kwargs[key] = tuple(python[key])
    for key in ("enable_resolves", "default_resolve"):
        if key in python:
            kwargs[key] = python[key]
    for key in ("cache_dir", "dist_dir", "max_workers"):
        if key in lamina:
            kwargs[key] = lamina[key]
    if "index_urls" in lamina:
        kwargs["index_urls"] = tuple(lamina["index_urls"])
    kwargs.update({key: oci[key] for key in _OWNED["oci"] - {"registries"} if key in oci})
    kwargs["registries"] = _registries(oci.get("registries", {}), build_root)
    if "remote_cache" in lamina:
        kwargs["remote_cache"] = lamina["remote_cache"]
    debian = data.get("debian", {})
    kwargs.update(
        {f"debian_{key}": debian[key] for key in ("mirror", "security_mirror", "verify_signatures") if key in debian}
    )
    if "keyring" in debian:
        kwargs["debian_keyring"] = build_root / debian["keyring"]
    return Config(**kwargs)
