"""Which top-level modules a wheel provides, to map imports to requirements."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from lamina.errors import ResolveError

_MAX_TOP_LEVEL = 1 << 20


def top_level_modules(wheel: Path | BinaryIO, filename: str) -> list[str]:
    """Importable top-level names: ``top_level.txt`` when present, else derived from the file
    list. A namespace package (``google``, no ``__init__.py``) stands for the packages inside
    it (``google.cloud.storage``), so distributions sharing a namespace stay apart, as in
    Pants' module mapping. ``wheel`` is a path or a seekable file; ``filename`` names the
    wheel in errors."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            top_level = [
                i
                for i in archive.infolist()
                if i.filename.count("/") == 1 and i.filename.endswith(".dist-info/top_level.txt")
            ]
            listed = None
            if top_level and top_level[0].file_size <= _MAX_TOP_LEVEL:
                listed = archive.read(top_level[0]).decode("utf-8").split()
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError, zlib.error) as err:
        raise ResolveError(
            f"{filename} is not a valid wheel ({type(err).__name__}: {err}); check the lock's hash for it"
        ) from None
    except UnicodeDecodeError:
        raise ResolveError(f"{filename}: its top_level.txt is not UTF-8") from None
    files = {n for n in names if not n.split("/", 1)[0].endswith((".dist-info", ".data"))}
    if listed is not None:
        modules = {line.strip().replace("/", ".") for line in listed if line.strip()}
    else:
        modules = set()
        for name in files:
            head, _, rest = name.partition("/")
            if head == "__pycache__":
                continue
            if rest:
                modules.add(head)
            elif head.endswith(".py"):
                modules.add(head[:-3])
            elif head.endswith((".so", ".pyd")):
                modules.add(head.split(".")[0])
    return sorted(m for module in modules for m in _through_namespaces(module, files))


def _through_namespaces(module: str, files: set[str], depth: int = 0) -> list[str]:
    """``module``, or, if it is a namespace package, the packages and modules inside it."""
    path = module.replace(".", "/")
    inside = {f[len(path) + 1 :] for f in files if f.startswith(path + "/")}
    if depth >= 3 or not inside or "__init__.py" in inside:
        return [module]
    children = set()
    for rest in inside:
        head, _, deeper = rest.partition("/")
        if deeper and head != "__pycache__":
            children.add(head)
        elif head.endswith(".py"):
            children.add(head[:-3])
        elif head.endswith((".so", ".pyd")):
            children.add(head.split(".")[0])
    return [m for child in sorted(children) for m in _through_namespaces(f"{module}.{child}", files, depth + 1)]
