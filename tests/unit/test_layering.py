"""Imports flow one way: each part of lamina may import only from parts listed before it."""

from __future__ import annotations

import ast
from pathlib import Path

import lamina

LAYERS = [
    "errors", "redact", "atomic", "once", "stamp", "progress", "transport", "engine", "sandbox", "oci", "cache", "download", "registry", "tar", "python",
    "debian", "sources", "sinks", "docker", "config", "graph", "backends", "project", "goals", "cli", "__main__",
]  # fmt: skip
PACKAGE = Path(lamina.__file__).parent


def _layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else "__init__"
    return LAYERS.index(part) if part in LAYERS else -1


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lamina."):
            yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            yield from ((a.name, node.lineno) for a in node.names if a.name.startswith("lamina."))


def test_every_module_imports_only_earlier_layers():
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "lamina." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        own = _layer(module)
        for imported, line in _imports(path):
            if _layer(imported) > own:
                violations.append(f"{path.relative_to(PACKAGE)}:{line} imports {imported}")
    assert violations == []


def test_every_layer_exists():
    assert all((PACKAGE / name).exists() or (PACKAGE / f"{name}.py").exists() for name in LAYERS)
