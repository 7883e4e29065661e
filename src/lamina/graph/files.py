"""The repository's files as Pants sees them: ignored paths left out, BUILD files found,
source globs matched.

What is ignored follows Pants: ``[GLOBAL] pants_ignore`` (gitignore syntax, default
``.*/``, ``/dist/``, ``__pycache__``) applied after the root ``.gitignore`` and
``.git/info/exclude`` (``pants_ignore_use_gitignore``), plus the dist directory. Trees
are walked without recursion, so depth is no limit, and a glob may not leave its BUILD
file's directory.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import pathspec

log = logging.getLogger(__name__)


class Ignores:
    """Which build-root-relative paths the repository's ignore rules leave out."""

    def __init__(self, build_root: Path, patterns: Sequence[str], *, use_gitignore: bool, dist_dir: str) -> None:
        lines: list[str] = []
        if use_gitignore:
            for name in (".gitignore", ".git/info/exclude"):
                try:
                    lines += (build_root / name).read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    pass
        lines += [*patterns, f"/{dist_dir.strip('/')}/"]
        self._spec = pathspec.GitIgnoreSpec.from_lines(lines)

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        """Whether ``path`` (relative to the build root) is ignored."""
        return bool(path) and self._spec.match_file(path + "/" if is_dir else path)


def walk(build_root: Path, start: str, ignores: Ignores) -> Iterator[str]:
    """Every file under ``start`` (build-root-relative) that is not ignored, depth first,
    sorted; symlinked directories are not followed."""
    stack = [start.strip("/")]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(build_root / directory if directory else build_root) as found:
                entries = sorted(found, key=lambda e: e.name, reverse=True)
        except OSError as err:  # unreadable, vanished, or a path too long for the system
            log.info("skipping %s: %s", directory or ".", err.strerror)
            continue
        files = []
        for entry in entries:
            path = posixpath.join(directory, entry.name) if directory else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if ignores.ignored(path, is_dir=is_dir):
                continue
            if is_dir:
                stack.append(path)
            else:
                files.append(path)
        yield from reversed(files)


@lru_cache(maxsize=256)
def glob_pattern(glob: str) -> re.Pattern[str]:
    """A Pants glob (``*`` within a name, ``**`` across directories) as a regular expression."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 1 :]:
            end = glob.index("]", i + 1)
            out.append("[" + glob[i + 1 : end].replace("!", "^", 1) + "]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))


class GlobError(ValueError):
    """A glob that would reach outside its BUILD file's directory."""


def check_glob(pattern: str) -> str:
    """``pattern`` without its ``!``, refused if absolute or containing ``..``."""
    glob = pattern.removeprefix("!")
    while glob.startswith("./"):
        glob = glob[2:]
    if not glob or glob.startswith("/") or ".." in glob.replace("\\", "/").split("/"):
        raise GlobError(
            f"source glob {pattern!r} reaches outside its BUILD file's directory; globs are relative to it "
            "and may not be absolute or contain '..': move the files or the BUILD file"
        )
    return glob


def match_globs(build_root: Path, spec_path: str, patterns: Iterable[str], ignores: Ignores) -> tuple[str, ...]:
    """Build-root-relative files under ``spec_path`` matched by ``patterns`` (``!`` excludes), sorted."""
    patterns = list(patterns)
    globs = [(pattern.startswith("!"), check_glob(pattern)) for pattern in patterns]
    deep = any("/" in glob or "**" in glob for _, glob in globs)
    if deep:
        candidates = list(walk(build_root, spec_path, ignores))
    else:
        directory = build_root / spec_path
        try:
            names = sorted(e.name for e in os.scandir(directory) if e.is_file())
        except OSError:
            names = []
        candidates = [posixpath.join(spec_path, n) if spec_path else n for n in names]
        candidates = [c for c in candidates if not ignores.ignored(c, is_dir=False)]
    prefix = len(spec_path) + 1 if spec_path else 0
    chosen = set()
    for path in candidates:
        relative = path[prefix:]
        included = any(glob_pattern(g).fullmatch(relative) for excluded, g in globs if not excluded)
        if included and not any(glob_pattern(g).fullmatch(relative) for excluded, g in globs if excluded):
            chosen.add(path)
    return tuple(sorted(chosen))
