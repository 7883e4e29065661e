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
    """Imports in ``source``; relative imports resolved against ``module``."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError:
        return []
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
