"""Which top-level modules a wheel provides, to map imports to requirements."""

from __future__ import annotations

import zipfile
from pathlib import Path


def top_level_modules(wheel: Path) -> list[str]:
    """Importable top-level names: ``top_level.txt`` when present, else derived from the file list."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top_level = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/top_level.txt")]
        if top_level:
            listed = archive.read(top_level[0]).decode().split()
            return sorted({line.strip().replace("/", ".") for line in listed if line.strip()})
    modules = set()
    for name in names:
        head, _, rest = name.partition("/")
        if head.endswith((".dist-info", ".data")) or head == "__pycache__":
            continue
        if rest:
            modules.add(head)
        elif head.endswith(".py"):
            modules.add(head[:-3])
        elif head.endswith(".so") or head.endswith(".pyd"):
            modules.add(head.split(".")[0])
    return sorted(modules)
