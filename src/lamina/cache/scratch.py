"""Scratch space for one process: a directory of its own under the cache's ``tmp/``.

Everything lamina writes into the cache starts here and is renamed into place, so a
killed run leaves debris only in its own directory, which the next run sweeps away
(``lamina.atomic.sweep``: only directories whose owning process has exited).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lamina.atomic import sweep, temp_name


class Scratch:
    """This process's scratch directory under ``root``, made (after a sweep) on first use."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._directory: Path | None = None
        self._lock = threading.Lock()

    def directory(self) -> Path:
        """The directory, created on first use."""
        with self._lock:
            if self._directory is None or not self._directory.is_dir():
                self.root.mkdir(parents=True, exist_ok=True)
                sweep(self.root)
                self._directory = self.root / temp_name("run")
                self._directory.mkdir()
                atexit.register(shutil.rmtree, self._directory, True)
            return self._directory

    def file(self, name: str) -> Path:
        """A fresh path (not created) for a temporary file called after ``name``."""
        return self.directory() / temp_name(name)

    @contextmanager
    def tempdir(self) -> Iterator[Path]:
        """A fresh directory, removed when the block ends."""
        path = Path(tempfile.mkdtemp(dir=self.directory()))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
