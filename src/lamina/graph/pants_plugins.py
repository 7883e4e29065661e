"""Plugins written for Pants itself (they import ``pants.engine``): lamina cannot run them, but
reads, without importing, which target types they declare (``alias = "..."`` in classes
deriving from Pants' ``Target`` types), so BUILD files using them still load."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path


def _sources(module_name: str) -> list[Path]:
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return sorted(p for location in spec.submodule_search_locations for p in Path(location).rglob("*.py"))
    return [Path(spec.origin)] if spec.origin and spec.origin.endswith(".py") else []


def _base_names(node: ast.ClassDef) -> list[str]:
    names = []
    for base in node.bases:
        while isinstance(base, ast.Attribute):
            names.append(base.attr)
            base = base.value
        if isinstance(base, ast.Name):
            names.append(base.id)
    return names


def declared_target_types(module_name: str) -> list[str]:
    """The aliases of the target types a Pants plugin package declares."""
    aliases = set()
    for path in _sources(module_name):
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef) or not any("Target" in name for name in _base_names(node)):
                continue
            for statement in node.body:
                targets = (
                    statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
                )
                value = getattr(statement, "value", None)
                named_alias = any(isinstance(t, ast.Name) and t.id == "alias" for t in targets)
                if named_alias and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    aliases.add(value.value)
    return sorted(aliases)
