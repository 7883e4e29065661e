"""What lamina last wrote to each output, to notice a damaged output without re-reading it.

For every file of an output (a blob of an OCI layout, a tarball) the ledger records
what it should hold and the file's identity when lamina wrote it: inode, size,
modification and change times. Any write to the file since, or its replacement,
changes that identity (the change time cannot be set back), so ``intact`` answers with
one ``stat`` and a damaged or replaced output is rewritten, as Bazel checks its outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from lamina.atomic import sweep, write_text


def _identity(path: Path) -> list[int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return [found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns]


class OutputRecord:
    """The ledger's record of one output (a directory or a file), loaded and saved whole."""

    def __init__(self, path: Path, output: Path) -> None:
        self.path, self.output = path, output
        try:
            data = json.loads(path.read_text())
            files = data["files"] if data.get("output") == str(output) else {}
            self.files: dict[str, list] = {k: v for k, v in files.items() if isinstance(v, list) and len(v) == 5}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.files = {}

    def _key(self, path: Path) -> str:
        text, prefix = str(path), str(self.output) + os.sep
        return text[len(prefix) :] if text.startswith(prefix) else os.path.relpath(path, self.output)

    def intact(self, path: Path, content: str) -> bool:
        """Whether ``path`` is, untouched, the file lamina wrote to hold ``content``."""
        recorded = self.files.get(self._key(path))
        return recorded is not None and recorded[4] == content and recorded[:4] == _identity(path)

    def remember(self, path: Path, content: str) -> None:
        """Record that ``path``, as it is now, holds ``content``."""
        identity = _identity(path)
        if identity is not None:
            self.files[self._key(path)] = [*identity, content]

    def forget_all_but(self, paths: set[Path]) -> None:
        """Drop the records of files not in ``paths``."""
        keep = {self._key(p) for p in paths}
        self.files = {k: v for k, v in self.files.items() if k in keep}

    def save(self) -> None:
        """Write the record atomically (clearing temporary files a killed run left beside it)."""
        sweep(self.path.parent)
        write_text(self.path, json.dumps({"output": str(self.output), "files": self.files}, sort_keys=True))


class Ledger:
    """Records of outputs, kept under the cache's ``outputs/`` directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def record(self, output: Path) -> OutputRecord:
        """The record of ``output`` (absolute path), empty when there is none."""
        output = Path(output).absolute()
        key = hashlib.sha256(str(output).encode()).hexdigest()
        return OutputRecord(self.root / key[:2] / f"{key}.json", output)
