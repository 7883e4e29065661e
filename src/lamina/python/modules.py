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
        modules = _names_in(files)
    return sorted(m for module in modules for m in _through_namespaces(module, files))


def _names_in(relative_paths) -> set[str]:
    """The importable names directly in a directory, from the paths of the files below it."""
    names = set()
    for path in relative_paths:
        head, _, rest = path.partition("/")
        if rest and head != "__pycache__":
            names.add(head)
        elif not rest and head.endswith(".py"):
            names.add(head[:-3])
        elif not rest and head.endswith((".so", ".pyd")):
            names.add(head.split(".")[0])
    return names


def _through_namespaces(module: str, files: set[str], depth: int = 0) -> list[str]:
    """``module``, or, if it is a namespace package, the packages and modules inside it."""
    path = module.replace(".", "/")
    inside = {f[len(path) + 1 :] for f in files if f.startswith(path + "/")}
    if depth >= 3 or not inside or "__init__.py" in inside:
        return [module]
    return [
        m for child in sorted(_names_in(inside)) for m in _through_namespaces(f"{module}.{child}", files, depth + 1)
    ]
