"""The CPython interpreters of this machine, found as Pants finds them: a ``pex_binary`` that no
image holds is built for the oldest interpreter on ``[python-bootstrap] search_path`` that its
interpreter constraints allow (pex's own choice among matching interpreters), so the ``.pex``
runs with the host's Python the repository asks for, not with whatever runs lamina.

Each interpreter is asked what it is by running ``interpreter_probe.py``; the answer is
cached by the binary's path, inode, size and modification time, so a no-op build runs none.
pyenv's shims are resolved to the version they select, as pex does, without running them.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from lamina.cache import ActionCache, action_key
from lamina.errors import BuildError, ConfigError, ImageError
from lamina.python import interpreter_probe
from lamina.python.platform import TargetPlatform

SPECIAL_ENTRIES = ("<PATH>", "<PYENV>", "<PYENV_LOCAL>", "<ASDF>", "<ASDF_LOCAL>", "<PEXRC>")
_BINARY = re.compile(r"python(?:[2-9](?:\.\d+[a-z]?)?)?")  # the names pex takes for CPython
_CONSTRAINT = re.compile(r"\s*([A-Za-z]*)\s*(.*)")
_PROBE_SHAPE = {
    "implementation": str, "python_version": str, "machine": str, "libc": str, "libc_version": str, "stdlib_dir": str,
}  # fmt: skip


def platform_of(description: Mapping[str, str], interpreter: str) -> TargetPlatform:
    """The target platform of an interpreter that ``interpreter_probe.describe`` described."""
    if description["libc"] != "glibc":
        raise ImageError(
            f"{interpreter} runs on {description['libc'] or 'an unknown C library'}, not glibc; "
            "give the pex_binary complete_platforms"
        )
    major, minor = (int(part) for part in description["libc_version"].split(".")[:2])
    return TargetPlatform(
        python_version=description["python_version"],
        interpreter=interpreter,
        machine=description["machine"],
        libc="glibc",
        libc_version=(major, minor),
        stdlib_dir=description["stdlib_dir"],
    )


def host_platform() -> TargetPlatform:
    """The CPython running lamina (what a ``pex_binary`` is built for when nothing constrains it)."""
    return platform_of(interpreter_probe.describe(), sys.executable)


# --- interpreter constraints ---------------------------------------------------------------


def merge_constraints(lists: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """Pants' AND of several constraint lists (each an OR of its entries): every combination of
    one entry per list, joined; combinations naming two implementations are dropped."""
    unique = list(dict.fromkeys(tuple(c) for c in lists if c))
    if len(unique) <= 1:
        return unique[0] if unique else ()
    merged = []
    for combination in itertools.product(*unique):
        parts = [_split(c) for c in combination]
        names = {name for name, _ in parts if name}
        if len(names) > 1:
            continue
        specifiers = sorted({s.strip() for _, spec in parts for s in spec.split(",") if s.strip()})
        merged.append((names.pop() if names else "CPython") + ",".join(specifiers))
    return tuple(dict.fromkeys(merged))


def allows(constraints: Sequence[str], platform: TargetPlatform) -> bool:
    """Whether CPython ``platform`` meets any of ``constraints`` (no constraints: any CPython)."""
    if not constraints:
        return True
    version = Version(platform.python_version)
    for constraint in constraints:
        name, spec = _split(constraint)
        if name.lower() in ("", "cpython") and SpecifierSet(spec).contains(version, prereleases=True):
            return True
    return False


def invalid_constraint(constraints: Sequence[str]) -> str | None:
    """The first of ``constraints`` that is not a valid interpreter constraint, or None."""
    for constraint in constraints:
        try:
            SpecifierSet(_split(constraint)[1])
        except InvalidSpecifier:
            return constraint
    return None


def _split(constraint: str) -> tuple[str, str]:
    name, spec = _CONSTRAINT.fullmatch(constraint).groups()
    return name, spec.strip()


# --- the search path -------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchPath:
    """``[python-bootstrap] search_path``, expanded as Pants expands it, from ``build_root``."""

    entries: tuple[str, ...]
    build_root: Path
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def home(self) -> Path:
        return Path(self.environ.get("HOME", "~")).expanduser()

    @property
    def pyenv_root(self) -> Path:
        return Path(self.environ.get("PYENV_ROOT") or self.home / ".pyenv")

    def directories(self) -> list[Path]:
        """The directories (or binaries) to look in, in order."""
        found: list[Path] = []
        for entry in self.entries:
            found += self._expand(entry)
        return list(dict.fromkeys(found))

    def _expand(self, entry: str) -> list[Path]:
        asdf = Path(self.environ.get("ASDF_DATA_DIR") or self.home / ".asdf") / "installs" / "python"
        if entry == "<PATH>":
            return [Path(p) for p in self.environ.get("PATH", os.defpath).split(os.pathsep) if p]
        if entry == "<PYENV>":
            return sorted(p / "bin" for p in _subdirectories(self.pyenv_root / "versions"))
        if entry == "<PYENV_LOCAL>":
            versions = _words(self.build_root / ".python-version")
            return [self.pyenv_root / "versions" / v / "bin" for v in versions]
        if entry == "<ASDF>":
            return sorted(p / "bin" for p in _subdirectories(asdf))
        if entry == "<ASDF_LOCAL>":
            lines = (line.split() for line in _lines(self.build_root / ".tool-versions"))
            return [asdf / v / "bin" for words in lines if words[:1] == ["python"] for v in words[1:]]
        if entry == "<PEXRC>":
            paths = []
            for rc in (self.build_root / ".pexrc", self.home / ".pexrc", Path("/etc/pexrc")):
                for line in _lines(rc):
                    name, _, value = line.partition("=")
                    if name.strip() == "PEX_PYTHON_PATH":
                        paths += [Path(p) for p in value.strip().split(os.pathsep) if p]
            return paths
        if entry.startswith("<") and entry.endswith(">"):
            raise ConfigError(
                f"pants.toml: [python-bootstrap] search_path: {entry} is not one of {', '.join(SPECIAL_ENTRIES)}"
            )
        return [Path(entry).expanduser()]

    def candidates(self) -> list[Path]:
        """Every CPython binary the search path names, pyenv shims resolved, each once by real path."""
        shims = self.pyenv_root / "shims"
        found: dict[Path, Path] = {}
        for directory in self.directories():
            names = [directory] if directory.is_file() else _binaries(directory)
            for path in names:
                if path.parent == shims:
                    path = self._shim_target(path)
                    if path is None:
                        continue
                real = path.resolve()
                if real.is_file() and os.access(real, os.X_OK):
                    found.setdefault(real, path)
        return list(found.values())

    def _shim_target(self, shim: Path) -> Path | None:
        """The binary a pyenv shim runs, from the versions pyenv selects; None when it selects none."""
        if "PYENV_VERSION" in self.environ:
            active = self.environ["PYENV_VERSION"].split(":")
        else:
            local = next((d / ".python-version" for d in (self.build_root, *self.build_root.parents)
                          if (d / ".python-version").is_file()), None)  # fmt: skip
            active = _words(local or self.pyenv_root / "version")
        wanted = shim.name.removeprefix("python")  # "", "3" or "3.12"
        for version in active:
            if version[:1].isdigit() and (not wanted or version == wanted or version.startswith(wanted + ".")):
                binary = self.pyenv_root / "versions" / version / "bin" / shim.name
                if binary.is_file():
                    return binary
        return None


def _subdirectories(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except OSError:
        return []


def _binaries(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if _BINARY.fullmatch(p.name))
    except OSError:
        return []


def _lines(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError):
        return []


def _words(path: Path) -> list[str]:
    return [word for line in _lines(path) if not line.startswith("#") for word in line.split()]


# --- asking each interpreter ----------------------------------------------------------------


@dataclass(frozen=True)
class Examined:
    """One interpreter the search found: what it is, or why it could not say."""

    path: Path
    platform: TargetPlatform | None = None
    problem: str | None = None

    def __str__(self) -> str:
        return f"{self.path} ({self.problem or f'CPython {self.platform.python_version}'})"


def examine(path: Path, cache: ActionCache | None) -> Examined:
    """Run the probe in ``path`` (or read its cached answer)."""
    real = path.resolve()
    try:
        stat = real.stat()
    except OSError as err:
        return Examined(path, problem=err.strerror)
    key = action_key("interpreter", 1, {"path": str(real), "stat": [stat.st_ino, stat.st_size, stat.st_mtime_ns]})
    description = cache.get(key, _PROBE_SHAPE, share=False) if cache is not None else None
    if description is None:
        try:
            done = subprocess.run(
                [str(path), "-I", "-S", interpreter_probe.__file__],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as err:
            return Examined(path, problem=f"cannot run: {err}")
        try:
            description = json.loads(done.stdout) if done.returncode == 0 else None
        except ValueError:
            description = None
        if description is None:
            return Examined(path, problem=f"cannot run the probe: {(done.stderr.strip() or 'no answer')[:200]}")
        if cache is not None:
            cache.put(key, description, share=False)
    if description["implementation"] != "CPython":
        return Examined(path, problem=description["implementation"])
    try:
        Version(description["python_version"])
        return Examined(path, platform_of(description, str(path)))
    except (ImageError, InvalidVersion, ValueError) as err:
        return Examined(path, problem=str(err))


def examine_all(search_path: SearchPath, cache: ActionCache | None) -> list[Examined]:
    """Every interpreter on ``search_path``, in order, each asked what it is."""
    return [examine(path, cache) for path in search_path.candidates()]


def choose(
    constraints: Sequence[str], examined: Sequence[Examined], search_path: SearchPath, *, who: str
) -> TargetPlatform:
    """The oldest examined CPython that ``constraints`` allow (the first found, on a tie)."""
    matching = [e.platform for e in examined if e.platform is not None and allows(constraints, e.platform)]
    if matching:
        return min(matching, key=lambda p: Version(p.python_version))
    seen = "; ".join(map(str, examined)) or "none"
    raise BuildError(
        f"{who}: no Python on this machine meets the interpreter constraints {' or '.join(constraints)}. "
        f"Searched [python-bootstrap] search_path = {list(search_path.entries)} and found: {seen}. "
        "Install a matching CPython (e.g. with pyenv), add where it is to search_path, "
        "or give the pex_binary complete_platforms"
    )
