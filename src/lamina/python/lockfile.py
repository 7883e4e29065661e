"""A resolve's lock, read into pinned distributions and the sha256 of every artifact.

Five formats are read, told apart by content: ``uv.lock`` and PEP 751 ``pylock.toml``
(see ``toml_locks``), a constraints file (``pip freeze``, Pants' legacy ``[python]
requirement_constraints``: pins without hashes, read but never installed from), and:

* **pip-tools** — what ``pip-compile --generate-hashes`` writes: ``name==version ; marker``
  followed by ``--hash=sha256:...`` options, ``\\`` continuations, ``#`` comments and
  ``# via`` annotations. Index options (``--index-url``, ``--find-links``, ...) are
  ignored: where artifacts come from is configuration, what they are is the lock.
  The format records no dependencies, so ``LockedDist.requires_dists`` is ``None``.
* **pex** — the JSON lock Pants writes (a ``//`` comment header, then JSON). A pex lock
  may hold several ``locked_resolves`` (one per target platform of a ``strict`` or
  ``sources`` lock). They are merged by project: the same version in several resolves
  contributes the union of its artifacts (the artifact selector later picks the one that
  fits the target); different versions of one project cannot be represented by a single
  pin and are an error that asks for a lock made for one platform family.

Every problem is a ``ResolveError`` naming the lock file (and line, where there is one)
and saying how to regenerate it.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lamina.errors import ResolveError
from lamina.python.lock_metadata import LockMetadata, read_lock_metadata
from lamina.python.locked import SHA256_HEX, LockedArtifact, LockedDist, fix_command
from lamina.python.requirement_sources import logical_lines
from lamina.python.toml_locks import PYLOCK, UV, parse_pylock, parse_uv, toml_lock_format

PIP_TOOLS = "pip-tools"
CONSTRAINTS = "constraints"  # Pants' legacy [python] requirement_constraints: pins without hashes
PEX = "pex"

_OPTIONS_START = re.compile(r"\s--[a-z]")
_UNLOCKED_OPTIONS = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable")


@dataclass(frozen=True)
class Lockfile:
    """A parsed lock: its distributions by canonical name, and which format it was."""

    path: Path
    dists: Mapping[str, LockedDist]
    format: str
    metadata: LockMetadata | None = None  # what Pants recorded it was generated for

    def get(self, name: str) -> LockedDist | None:
        """The locked distribution called ``name`` (any spelling), or None."""
        return self.dists.get(canonicalize_name(name))

    def __hash__(self) -> int:
        """By content, like equality, so a lock can sit in frozen, memoized inputs."""
        return hash((self.path, self.format, tuple(self.dists.items()), self.metadata))


def load_lockfile(path: Path, *, resolve_name: str | None = None) -> Lockfile:
    """Parse the lock at ``path``; re-reads only when the file's mtime or size changed.

    ``resolve_name`` is used in error messages, to name the command that regenerates it.
    """
    try:
        stat = path.stat()
    except OSError as err:
        raise ResolveError(f"cannot read lock file {path}: {err.strerror}; {fix_command(resolve_name)}") from err
    return _load(path, stat.st_mtime_ns, stat.st_size, resolve_name)


@functools.lru_cache(maxsize=64)
def _load(path: Path, _mtime_ns: int, _size: int, resolve_name: str | None) -> Lockfile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ResolveError(f"cannot read lock file {path}: {err}; {fix_command(resolve_name)}") from err
    toml_format = toml_lock_format(text)
    if _looks_like_pex(text):
        dists, lock_format = _parse_pex(path, text, resolve_name), PEX
    elif toml_format == UV:
        dists, lock_format = parse_uv(path, text, resolve_name), UV
    elif toml_format == PYLOCK:
        dists, lock_format = parse_pylock(path, text, resolve_name), PYLOCK
    else:
        dists, lock_format = _parse_pip_tools(path, text, resolve_name)
    metadata = read_lock_metadata(path, text)
    return Lockfile(path, MappingProxyType(dict(sorted(dists.items()))), lock_format, metadata)


def _looks_like_pex(text: str) -> bool:
    """A pex lock is JSON after its ``//`` header; a requirements file never starts with ``{``."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("//"):
            return stripped.startswith("{")
    return False


# -- pip-tools -----------------------------------------------------------------------


def _parse_pip_tools(path: Path, text: str, resolve_name: str | None) -> tuple[dict[str, LockedDist], str]:
    """The pins of a pip-tools lock, or of a constraints file (``pip freeze``, Pants' legacy
    ``requirement_constraints``) when no line carries a hash."""
    lines = list(logical_lines(text))
    hashless = not any("--hash" in line for _, line in lines)
    dists: dict[str, LockedDist] = {}
    for number, line in lines:
        where = f"{path}:{number}"
        if line.startswith("-"):
            option = re.split(r"[\s=]", line, maxsplit=1)[0]
            if option in _UNLOCKED_OPTIONS:
                raise ResolveError(
                    f"{where}: `{option}` pulls unlocked requirements into a lock; {fix_command(resolve_name)}"
                )
            continue
        dist = _pip_tools_dist(where, number, line, resolve_name, hashless=hashless)
        if dist.name in dists:
            raise ResolveError(
                f"{where}: {dist.name} is pinned twice (also on line {dists[dist.name].line}); {fix_command(resolve_name)}"
            )
        dists[dist.name] = dist
    return dists, (CONSTRAINTS if hashless and dists else PIP_TOOLS)


def _pip_tools_dist(where: str, number: int, line: str, resolve_name: str | None, *, hashless: bool) -> LockedDist:
    """One ``name==version ; marker --hash=sha256:...`` line."""
    options_at = _OPTIONS_START.search(line)
    requirement_text = line[: options_at.start()] if options_at else line
    options = line[options_at.start() :].split() if options_at else []
    try:
        requirement = Requirement(requirement_text.strip())
    except InvalidRequirement as err:
        raise ResolveError(f"{where}: not a requirement ({err}); {fix_command(resolve_name)}") from err
    version = _pinned_version(where, requirement, resolve_name)
    hashes = _hashes(where, options, resolve_name)
    if not hashes and not hashless:
        raise ResolveError(
            f"{where}: {requirement.name}=={version} has no --hash; lamina installs only "
            f"hash-checked artifacts; {fix_command(resolve_name)} (it passes --generate-hashes)"
        )
    return LockedDist(
        name=canonicalize_name(requirement.name),
        version=version,
        artifacts=tuple(LockedArtifact(sha256=digest) for digest in hashes),
        marker=requirement.marker,
        requires_dists=None,
        line=number,
    )


def _pinned_version(where: str, requirement: Requirement, resolve_name: str | None) -> Version:
    specifiers = list(requirement.specifier)
    pinned = (
        requirement.url is None
        and len(specifiers) == 1
        and specifiers[0].operator in ("==", "===")
        and not specifiers[0].version.endswith(".*")
    )
    if pinned:
        try:
            return Version(specifiers[0].version)
        except InvalidVersion:
            pass
    raise ResolveError(
        f"{where}: `{requirement}` is not pinned to one version (`name==version`); "
        f"a lock must pin every distribution; {fix_command(resolve_name)}"
    )


def _hashes(where: str, options: list[str], resolve_name: str | None) -> list[str]:
    """The sha256 hex digests of ``--hash`` options (``--hash=X`` or ``--hash X``)."""
    values: list[str] = []
    tokens = iter(options)
    for token in tokens:
        if token.startswith("--hash="):
            values.append(token.removeprefix("--hash="))
        elif token == "--hash":
            values.append(next(tokens, ""))
        else:
            raise ResolveError(f"{where}: unsupported option `{token}` in a lock; {fix_command(resolve_name)}")
    digests = []
    for value in values:
        algorithm, _, digest = value.partition(":")
        if algorithm != "sha256" or not SHA256_HEX.fullmatch(digest):
            raise ResolveError(
                f"{where}: `--hash={value}` is not a sha256 hex digest; lamina verifies sha256; {fix_command(resolve_name)}"
            )
        digests.append(digest)
    return sorted(set(digests))


# -- pex ------------------------------------------------------------------------------


def _parse_pex(path: Path, text: str, resolve_name: str | None) -> dict[str, LockedDist]:
    # Blank the ``//`` header instead of removing it, so JSON error lines stay true.
    body = "\n".join("" if line.lstrip().startswith("//") else line for line in text.splitlines())
    try:
        document = json.loads(body)
    except json.JSONDecodeError as err:
        raise ResolveError(
            f"{path}:{err.lineno}: not a valid pex lock ({err.msg}); {fix_command(resolve_name)}"
        ) from err
    resolves = document.get("locked_resolves") if isinstance(document, dict) else None
    if not isinstance(resolves, list) or not resolves:
        raise ResolveError(f"{path}: a pex lock without `locked_resolves`; {fix_command(resolve_name)}")
    merged: dict[str, LockedDist] = {}
    for resolve_index, resolve in enumerate(resolves):
        entries = resolve.get("locked_requirements") if isinstance(resolve, dict) else None
        if not isinstance(entries, list):
            raise ResolveError(
                f"{path}: locked_resolves[{resolve_index}] has no `locked_requirements`; {fix_command(resolve_name)}"
            )
        for entry_index, entry in enumerate(entries):
            where = f"{path}: locked_resolves[{resolve_index}].locked_requirements[{entry_index}]"
            dist = _pex_dist(where, entry, resolve_name)
            earlier = merged.get(dist.name)
            if earlier is None:
                merged[dist.name] = dist
            elif earlier.version != dist.version:
                raise ResolveError(
                    f"{path}: {dist.name} is locked at {earlier.version} for one platform and at "
                    f"{dist.version} for another; lamina reads one version per project: lock this "
                    f"resolve for one platform family, e.g. {fix_command(resolve_name)}"
                )
            else:
                artifacts = {a.sha256: a for a in (*earlier.artifacts, *dist.artifacts)}.values()
                merged[dist.name] = replace(earlier, artifacts=tuple(sorted(artifacts, key=_artifact_key)))
    return merged


def _pex_dist(where: str, entry: Any, resolve_name: str | None) -> LockedDist:
    try:
        name = canonicalize_name(entry["project_name"])
        version = Version(entry["version"])
        requires = tuple(Requirement(text) for text in entry.get("requires_dists") or ())
        artifacts = tuple(
            sorted((_pex_artifact(where, a, resolve_name) for a in entry["artifacts"]), key=_artifact_key)
        )
    except (KeyError, TypeError, AttributeError, InvalidVersion, InvalidRequirement) as err:
        raise ResolveError(
            f"{where}: malformed entry ({type(err).__name__}: {err}); {fix_command(resolve_name)}"
        ) from err
    if not artifacts:
        raise ResolveError(f"{where}: {name}=={version} has no artifacts; {fix_command(resolve_name)}")
    return LockedDist(name=name, version=version, artifacts=artifacts, requires_dists=requires)


def _pex_artifact(where: str, artifact: Mapping[str, Any], resolve_name: str | None) -> LockedArtifact:
    algorithm, digest, url = artifact["algorithm"], artifact["hash"], artifact["url"]
    if algorithm != "sha256" or not SHA256_HEX.fullmatch(digest):
        raise ResolveError(
            f"{where}: artifact {url} has a {algorithm} hash; lamina verifies sha256; {fix_command(resolve_name)}"
        )
    filename = posixpath.basename(unquote(urlsplit(url).path)) or None
    return LockedArtifact(sha256=digest, url=url, filename=filename)


def _artifact_key(artifact: LockedArtifact) -> tuple[str, str]:
    return (artifact.filename or "", artifact.sha256)
