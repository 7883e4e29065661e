"""The imports of a Python file, read with ``ast`` (never executed)."""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Import:
    """A module a file may need, with the candidates to try (most specific first)."""

    candidates: tuple[str, ...]
    line: int


def parse_imports(source: bytes, module: str | None, *, is_package: bool, filename: str) -> list[Import]:
    """Imports in ``source``; relative imports resolved against ``module``. Raises
    ``SyntaxError`` (or ``ValueError``) when the file cannot be parsed."""
    tree = ast.parse(source, filename=filename)
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import((alias.name,), node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = (module or "").split(".")
                if not is_package:
                    package = package[:-1]
                package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join([*package, base] if base else package)
            if not base:
                continue
            for alias in node.names:
                found.append(Import((f"{base}.{alias.name}", base) if alias.name != "*" else (base,), node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(Import((node.args[0].value,), node.lineno))
    return found


def module_defines(source: bytes, name: str, filename: str) -> tuple[bool, list[str]]:
    """Whether a module binds ``name`` at its top level, and the names it binds. A module
    with ``from x import *`` or a module ``__getattr__`` may bind anything: True."""
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError):
        return True, []  # the parse failure is reported where imports are inferred
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(alias.name == "*" for alias in node.names):
                return True, names
            names += [(alias.asname or alias.name).split(".")[0] for alias in node.names]
        else:  # assignments, and what `if`/`try`/`with` blocks bind (generously: nested bodies too)
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                    names.append(inner.id)
                elif isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.append(inner.name)
                elif isinstance(inner, (ast.Import, ast.ImportFrom)):
                    names += [(alias.asname or alias.name).split(".")[0] for alias in inner.names]
    return name in names or "__getattr__" in names, sorted(set(names))
