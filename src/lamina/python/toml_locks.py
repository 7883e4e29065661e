"""The TOML lock formats: ``uv.lock`` (as ``uv lock`` and Pants' ``resolver = "uv"`` write it)
and ``pylock.toml`` (PEP 751, as ``uv export --format pylock.toml`` and pip write it).

Both name each artifact by URL with its sha256. Workspace members and local projects
(``editable``, ``virtual``, ``directory`` sources) are first-party code, not locked
distributions, and are left out. ``uv.lock`` records each package's dependencies (with
their markers and extras), so no artifact has to be opened to follow them; a
``pylock.toml`` lists the packages an environment installs, each with its own marker.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lamina.errors import ResolveError
from lamina.python.locked import SHA256_HEX, LockedArtifact, LockedDist, fix_command

UV = "uv"
PYLOCK = "pylock"
_LOCAL_SOURCES = ("editable", "virtual", "directory", "path")
_TABLE = re.compile(r"^\[\[(package|packages)\]\]\s*$", re.MULTILINE)


def toml_lock_format(text: str) -> str | None:
    """``uv`` or ``pylock`` when ``text`` is one of these locks, else None."""
    found = _TABLE.search(text)
    if found is None and not re.search(r"^lock-version\s*=", text, re.MULTILINE):
        return None
    return PYLOCK if (found is None or found.group(1) == "packages") else UV


def _document(path: Path, text: str, resolve_name: str | None) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ResolveError(f"{path}: not a valid TOML lock ({err}); {fix_command(resolve_name)}") from None


def _artifact(where: str, entry: Any, resolve_name: str | None) -> LockedArtifact:
    if not isinstance(entry, dict) or "url" not in entry:
        raise ResolveError(f"{where}: an artifact without a url; {fix_command(resolve_name)}")
    url = entry["url"]
    digest = (entry.get("hashes") or {}).get("sha256") if "hashes" in entry else None
    if digest is None and isinstance(entry.get("hash"), str):
        algorithm, _, value = entry["hash"].partition(":")
        digest = value if algorithm == "sha256" else None
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
        raise ResolveError(
            f"{where}: artifact {url} has no sha256 hash; lamina verifies sha256; {fix_command(resolve_name)}"
        )
    filename = entry.get("name") or posixpath.basename(unquote(urlsplit(url).path)) or None
    return LockedArtifact(sha256=digest, url=url, filename=filename)


def _artifacts(where: str, package: dict, resolve_name: str | None) -> tuple[LockedArtifact, ...]:
    entries = list(package.get("wheels") or [])
    if package.get("sdist"):
        entries.append(package["sdist"])
    artifacts = [_artifact(f"{where} ({package.get('name')})", e, resolve_name) for e in entries]
    return tuple(sorted(artifacts, key=lambda a: (a.filename or "", a.sha256)))


def _dependency(where: str, entry: Any, extra: str | None) -> Requirement:
    """A uv dependency entry (``{name, extra, marker}``) as a requirement without a version:
    the lock already chose it. ``extra`` is the optional-dependency group it belongs to."""
    try:
        name = entry["name"]
        extras = f"[{','.join(entry['extra'])}]" if entry.get("extra") else ""
        markers = [f"({entry['marker']})"] if entry.get("marker") else []
        if extra is not None:
            markers.append(f"extra == '{extra}'")
        return Requirement(f"{name}{extras}" + (f" ; {' and '.join(markers)}" if markers else ""))
    except (KeyError, TypeError, InvalidRequirement) as err:
        raise ResolveError(f"{where}: a dependency entry uv would not write ({err})") from None


def parse_uv(path: Path, text: str, resolve_name: str | None) -> dict[str, LockedDist]:
    """The registry and URL packages of a ``uv.lock``, with their recorded dependencies."""
    document = _document(path, text, resolve_name)
    dists: dict[str, LockedDist] = {}
    for index, package in enumerate(document.get("package") or []):
        where = f"{path}: package[{index}]"
        source = package.get("source") or {}
        if any(kind in source for kind in _LOCAL_SOURCES):
            continue
        if "git" in source:
            raise ResolveError(
                f"{where}: {package.get('name')} comes from git ({source['git']}); lamina installs only "
                "hash-pinned artifacts: publish it to an index, or vendor it as first-party code"
            )
        try:
            name, version = canonicalize_name(package["name"]), Version(str(package["version"]))
        except (KeyError, InvalidVersion) as err:
            raise ResolveError(f"{where}: malformed package ({err}); {fix_command(resolve_name)}") from None
        requires = [_dependency(where, d, None) for d in package.get("dependencies") or []]
        for group, entries in (package.get("optional-dependencies") or {}).items():
            requires += [_dependency(where, d, canonicalize_name(group)) for d in entries]
        dist = LockedDist(name, version, _artifacts(where, package, resolve_name), requires_dists=tuple(requires))
        earlier = dists.get(name)
        if earlier is not None and earlier.version != version:
            raise ResolveError(
                f"{path}: {name} is locked at {earlier.version} and at {version} for different environments "
                f"(a forked uv resolution); lamina reads one version per project: constrain the lock to the "
                "image's platform (e.g. [tool.uv] environments), then re-run `uv lock`"
            )
        dists[name] = dist
    return dists


def parse_pylock(path: Path, text: str, resolve_name: str | None) -> dict[str, LockedDist]:
    """The packages of a PEP 751 ``pylock.toml``, each with its marker."""
    document = _document(path, text, resolve_name)
    version_text = str(document.get("lock-version", ""))
    if not version_text.startswith("1."):
        raise ResolveError(f"{path}: lock-version {version_text!r} is not a PEP 751 version 1 lock")
    dists: dict[str, LockedDist] = {}
    for index, package in enumerate(document.get("packages") or []):
        where = f"{path}: packages[{index}]"
        if package.get("directory") or package.get("editable"):
            continue
        if package.get("vcs"):
            raise ResolveError(
                f"{where}: {package.get('name')} comes from version control; lamina installs only hashed files"
            )
        try:
            name, version = canonicalize_name(package["name"]), Version(str(package["version"]))
            marker = Marker(package["marker"]) if package.get("marker") else None
        except (KeyError, InvalidVersion, InvalidMarker) as err:
            raise ResolveError(f"{where}: malformed package ({err}); {fix_command(resolve_name)}") from None
        artifacts = list(_artifacts(where, package, resolve_name))
        if package.get("archive"):
            artifacts.append(_artifact(where, package["archive"], resolve_name))
        if name in dists:
            raise ResolveError(f"{where}: {name} is listed twice; lamina reads one version per project")
        dists[name] = LockedDist(name, version, tuple(artifacts), marker=marker)
    return dists
