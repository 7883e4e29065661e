"""Source roots, as Pants defines them: where module paths start."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Sequence
from functools import cache


class SourceRoots:
    """Matches directories against ``[source] root_patterns``.

    A pattern with a leading ``/`` is anchored at the build root (``/`` is the build
    root itself); one without matches any directory whose path ends with it. ``*`` in a
    pattern stands for one directory name (``/projects/*/src``).
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self.anchored = [_parts(p) for p in patterns if p.startswith("/")]
        self.suffixes = [_parts(p) for p in patterns if not p.startswith("/") and p.strip("/")]

    def _is_root(self, directory: str) -> bool:
        parts = directory.split("/") if directory else []
        if any(_matches(parts, pattern) for pattern in self.anchored):
            return True
        return any(len(parts) >= len(s) and _matches(parts[len(parts) - len(s) :], s) for s in self.suffixes)

    @cache  # noqa: B019 - one instance per run
    def root_of(self, path: str) -> str | None:
        """The longest source root containing ``path`` (a build-root-relative file), or None."""
        directory = posixpath.dirname(path)
        while True:
            if self._is_root(directory):
                return directory
            if not directory:
                return None
            directory = posixpath.dirname(directory)

    def strip(self, path: str) -> str:
        """``path`` relative to its source root (itself when it has none)."""
        root = self.root_of(path)
        return posixpath.relpath(path, root) if root else path

    def module_of(self, path: str) -> str | None:
        """The module a ``.py`` file defines (``a/b/__init__.py`` -> ``a.b``)."""
        if not path.endswith(".py") or self.root_of(path) is None:
            return None
        parts = self.strip(path)[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts) if parts else None


def _parts(pattern: str) -> list[str]:
    stripped = pattern.strip("/")
    return stripped.split("/") if stripped else []


def _matches(parts: list[str], pattern: list[str]) -> bool:
    return len(parts) == len(pattern) and all(fnmatch.fnmatchcase(p, q) for p, q in zip(parts, pattern, strict=True))
