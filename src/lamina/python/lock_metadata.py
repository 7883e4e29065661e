"""The metadata Pants records with a lock (versions 1 to 8): the requirements and
interpreter constraints it was generated for, in a ``//`` or ``#`` header between
``--- BEGIN PANTS LOCKFILE METADATA`` and ``--- END``, or in a sibling ``LOCK.metadata``
file (``[python] separate_lockfile_metadata_file``). A lock whose metadata no longer
matches the resolve's requirements is stale, as Pants judges it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

_BEGIN, _END = "--- BEGIN PANTS LOCKFILE METADATA", "--- END PANTS LOCKFILE METADATA"


@dataclass(frozen=True)
class LockMetadata:
    """What a lock says it was generated for."""

    version: int
    requirements: frozenset[str]
    interpreter_constraints: frozenset[str]


def _normalized(requirement: str) -> str:
    try:
        return str(Requirement(requirement))
    except InvalidRequirement:
        return requirement.strip()


def _from_json(data: object) -> LockMetadata | None:
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        return None
    return LockMetadata(
        data["version"],
        frozenset(_normalized(r) for r in data.get("generated_with_requirements") or ()),
        frozenset(data.get("valid_for_interpreter_constraints") or ()),
    )


def read_lock_metadata(path: Path, text: str) -> LockMetadata | None:
    """The metadata of the lock at ``path`` (whose text is ``text``), or None if it has none."""
    sidecar = path.with_name(path.name + ".metadata")
    if sidecar.is_file():
        try:
            return _from_json(json.loads(sidecar.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
    lines, inside = [], False
    for line in text.splitlines():
        stripped = line.lstrip("/# ").rstrip()
        if stripped.startswith(_BEGIN):
            inside = True
        elif stripped.startswith(_END):
            break
        elif inside:
            lines.append(line.lstrip()[2:] if line.lstrip().startswith("//") else line.lstrip()[1:])
    if not lines:
        return None
    try:
        return _from_json(json.loads("\n".join(lines)))
    except json.JSONDecodeError:
        return None


def staleness(
    metadata: LockMetadata, requirements: Iterable[str], interpreter_constraints: Iterable[str]
) -> str | None:
    """Why the lock no longer fits the resolve, or None when it does."""
    current = {_normalized(r) for r in requirements}
    reasons = []
    if added := sorted(current - metadata.requirements):
        reasons.append(f"requirements added since it was generated: {', '.join(added)}")
    if removed := sorted(metadata.requirements - current):
        reasons.append(f"requirements removed since: {', '.join(removed)}")
    constraints = {_interpreter(c) for c in interpreter_constraints}
    locked = {_interpreter(c) for c in metadata.interpreter_constraints}
    if constraints and locked and constraints != locked:
        reasons.append(
            f"it was generated for interpreters {', '.join(sorted(metadata.interpreter_constraints))}, "
            f"the resolve now asks for {', '.join(sorted(constraints))}"
        )
    return "; ".join(reasons) or None


def _interpreter(constraint: str) -> str:
    """An interpreter constraint as Pants compares them: ``==3.12.*`` is ``CPython==3.12.*``, and
    ``>=3.9,<3.12`` is ``<3.12,>=3.9``."""
    constraint = "".join(constraint.split())
    name = re.match(r"[A-Za-z]*", constraint)[0]
    return (name or "CPython") + ",".join(sorted(constraint[len(name) :].split(",")))
