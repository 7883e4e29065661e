"""``--changed-since=REF``: the targets a change since a git ref affects, found as Pants finds
them, plus what only lamina's images depend on:

- the owners of every changed, added, deleted or untracked file: targets whose sources hold
  it (or, for a deleted file, whose ``sources`` globs would), targets declared in a changed
  BUILD file, and targets a backend says own it (a ``debian_base`` its lock);
- for a changed resolve lock, the requirement targets whose locked distributions changed,
  directly or through what they pull in (the lock's ``# via`` notes or recorded
  dependencies; every requirement of the resolve when the lock records neither);
- for changed registry-base pins, the images whose ``base`` or ``builder`` names a changed pin;
- with ``--changed-dependents=direct|transitive``, their dependents.

Files come from git: ``git diff --name-only REF`` (committed and uncommitted changes) and
untracked files not ignored.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lamina.errors import ConfigError, LaminaError
from lamina.python.lockfile import load_lockfile
from lamina.registry.pins import read_pins

DEPENDENTS = ("none", "direct", "transitive")


@dataclass(frozen=True)
class ChangedSince:
    """Pants' ``--changed-since=REF`` and ``--changed-dependents``."""

    since: str
    dependents: str = "none"


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==")
_VIA = re.compile(r"^\s*#\s+(?:via\s+)?(-r |-c )?([A-Za-z0-9][A-Za-z0-9._-]*)")


def _git(build_root: Path, *args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=build_root, capture_output=True, text=True, timeout=120, check=False
        )  # fmt: skip
    except OSError as err:
        raise ConfigError(f"--changed-since needs git ({err})") from None
    if result.returncode != 0:
        raise ConfigError(f"--changed-since: `git {' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout


def changed_files(build_root: Path, ref: str) -> list[str]:
    """Files (relative to the build root) that differ from ``ref``, or are new and not ignored."""
    _git(build_root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    diffed = _git(build_root, "diff", "--name-only", "--relative", "--no-renames", ref, "--").splitlines()
    untracked = _git(build_root, "ls-files", "--others", "--exclude-standard").splitlines()
    return sorted({p for p in (*diffed, *untracked) if p})


def _old_text(build_root: Path, ref: str, path: str) -> str | None:
    """``path``'s content at ``ref``, or None when it did not exist there."""
    try:
        return _git(build_root, "show", f"{ref}:./{path}")
    except ConfigError:
        return None


def _globs(graph, target) -> list[str]:
    """A target's ``sources`` patterns (or its type's defaults), relative to the build root,
    excludes left out."""
    target_type = graph.registry.target_types.get(target.alias)
    patterns = target.get("sources") or (target_type.default_sources if target_type else None) or ()
    if not isinstance(patterns, (list, tuple)):
        return []
    return [posixpath.join(target.address.spec_path, p) for p in patterns if isinstance(p, str) and p[:1] != "!"]


def _owners(graph, files: set[str]) -> set[str]:
    """Targets that own one of ``files``; a deleted file is owned by the targets whose globs match it."""
    deleted = [f for f in files if not (graph.build_root / f).exists()]
    # A file of a target generator is owned by the target generated for it, as in Pants.
    generated = {
        address: {f for t in targets for f in t.sources} for address, targets in graph.loader.generated.items()
    }
    owned: set[str] = set()
    for target in graph.targets.values():
        address = str(target.address)
        owned_files = graph.registry.owned_files.get(target.alias)
        own = set(owned_files(target)) if owned_files is not None else set()
        sources = set(target.sources) - generated.get(address, set())
        if target.build_file in files or files & (sources | own):
            owned.add(address)
            continue
        if deleted and any(fnmatch.fnmatch(f, g) for f in deleted for g in _globs(graph, target)):
            owned.add(address)
    return owned


def _lock_entries(path: Path) -> dict[str, tuple]:
    """Each locked distribution's version and artifact hashes."""
    lock = load_lockfile(path)
    return {name: (str(d.version), sorted(a.sha256 for a in d.artifacts)) for name, d in lock.dists.items()}


def _pulled_in_by(path: Path, text: str) -> dict[str, set[str]] | None:
    """``{distribution: the distributions that require it}``, from recorded dependencies or
    pip-compile's ``# via`` notes; None when the lock records neither."""
    lock = load_lockfile(path)
    if any(d.requires_dists is not None for d in lock.dists.values()):
        parents: dict[str, set[str]] = {}
        for name, dist in lock.dists.items():
            for requirement in dist.requires_dists or ():
                parents.setdefault(canonicalize_name(requirement.name), set()).add(name)
        return parents
    parents, current, found = {}, None, False
    for line in text.splitlines():
        pin = _PIN.match(line)
        if pin:
            current = canonicalize_name(pin.group(1))
            continue
        via = _VIA.match(line)
        if current and via and not via.group(1) and via.group(2) != "via":
            parents.setdefault(current, set()).add(canonicalize_name(via.group(2)))
            found = True
        elif current and via and via.group(1):
            found = True
    return parents if found else None


def _changed_dists(graph, ref: str, lock_path: Path) -> set[str] | None:
    """Distributions of the lock at ``lock_path`` that changed since ``ref``, with every
    distribution that pulls one in; None when all of the resolve must count as changed."""
    relative = str(lock_path.relative_to(graph.build_root))
    old = _old_text(graph.build_root, ref, relative)
    if old is None or not lock_path.is_file():
        return None
    with tempfile.TemporaryDirectory() as scratch:
        old_path = Path(scratch) / lock_path.name
        old_path.write_text(old)
        try:
            before, after = _lock_entries(old_path), _lock_entries(lock_path)
        except LaminaError:
            return None
        changed = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
        parents = _pulled_in_by(lock_path, lock_path.read_text())
        old_parents = _pulled_in_by(old_path, old)
    if parents is None or old_parents is None:
        return None
    affected, frontier = set(changed), set(changed)
    while frontier:
        frontier = set().union(*(parents.get(n, set()) | old_parents.get(n, set()) for n in frontier)) - affected
        affected |= frontier
    return affected


def _requirement_names(target) -> set[str]:
    names = set()
    for text in target.get("requirements") or ():
        try:
            names.add(canonicalize_name(Requirement(text).name))
        except InvalidRequirement:
            continue
    return names


def _changed_by_locks(graph, ref: str, files: set[str]) -> set[str]:
    owned = set()
    for resolve in graph.config.resolves:
        path = graph.config.lock_path(resolve)
        if str(path.relative_to(graph.build_root)) not in files:
            continue
        dists = _changed_dists(graph, ref, path)
        for target in graph.targets.values():
            if target.alias != "python_requirement" or graph.resolve_of(target) != resolve:
                continue
            if dists is None or _requirement_names(target) & dists:
                owned.add(str(target.address))
    return owned


def _changed_by_pins(graph, ref: str, files: set[str]) -> set[str]:
    relative = graph.config.bases_lockfile
    if relative not in files:
        return set()
    path = graph.build_root / relative
    old = _old_text(graph.build_root, ref, relative)
    with tempfile.TemporaryDirectory() as scratch:
        old_path = Path(scratch) / "pins.json"
        old_path.write_text(old or "{}")
        before, after = read_pins(old_path), read_pins(path)
    moved = {ref_ for ref_ in before.keys() | after.keys() if before.get(ref_) != after.get(ref_)}
    return {
        str(t.address)
        for t in graph.targets.values()
        if {t.get("base") or graph.config.default_base, t.get("builder")} & moved
    }


def changed_addresses(graph, ref: str, dependents: str = "none", files: Iterable[str] | None = None) -> set[str]:
    """The addresses of the targets changed since ``ref`` (and their dependents, as asked)."""
    if dependents not in DEPENDENTS:
        raise ConfigError(f"--changed-dependents must be one of {', '.join(DEPENDENTS)}, not {dependents!r}")
    changed = set(files) if files is not None else set(changed_files(graph.build_root, ref))
    owned = _owners(graph, changed) | _changed_by_locks(graph, ref, changed) | _changed_by_pins(graph, ref, changed)
    if dependents != "none":
        targets = [graph.targets[a] for a in sorted(owned)]
        owned |= {str(t.address) for t in graph.dependents(targets, transitive=dependents == "transitive")}
    return owned
