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
    list. ``wheel`` is a path or a seekable file; ``filename`` names the wheel in errors."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            top_level = [
                i
                for i in archive.infolist()
                if i.filename.count("/") == 1 and i.filename.endswith(".dist-info/top_level.txt")
            ]
            if top_level and top_level[0].file_size <= _MAX_TOP_LEVEL:
                listed = archive.read(top_level[0]).decode("utf-8").split()
                return sorted({line.strip().replace("/", ".") for line in listed if line.strip()})
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError, zlib.error) as err:
        raise ResolveError(
            f"{filename} is not a valid wheel ({type(err).__name__}: {err}); check the lock's hash for it"
        ) from None
    except UnicodeDecodeError:
        raise ResolveError(f"{filename}: its top_level.txt is not UTF-8") from None
    modules = set()
    for name in names:
        head, _, rest = name.partition("/")
        if head.endswith((".dist-info", ".data")) or head == "__pycache__":
            continue
        if rest:
            modules.add(head)
        elif head.endswith(".py"):
            modules.add(head[:-3])
        elif head.endswith((".so", ".pyd")):
            modules.add(head.split(".")[0])
    return sorted(modules)
