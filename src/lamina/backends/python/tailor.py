"""What ``tailor`` adds for Python, as Pants' tailor does: ``python_sources``,
``python_tests`` and ``python_test_utils`` for unowned source files, ``python_requirements``
(or ``poetry_requirements``) for unowned requirements files and pyprojects, and a
``python_image`` per ``[project.scripts]`` entry and per ``__main__.py`` that no image runs yet.
A solitary empty ``__init__.py`` gets nothing."""

from __future__ import annotations

import posixpath
import tomllib
from dataclasses import dataclass

from lamina.graph.files import glob_pattern, walk

_TESTS = ("test_*.py", "*_test.py", "tests.py")
_TEST_UTILS = ("conftest.py",)


@dataclass(frozen=True)
class Proposal:
    """One target ``tailor`` would add: the BUILD directory, its type, name and fields."""

    directory: str
    alias: str
    name: str
    fields: tuple[tuple[str, str], ...] = ()

    def named(self, name: str) -> Proposal:
        """The same target under another name (when its own is taken)."""
        return Proposal(self.directory, self.alias, name, self.fields)

    def call(self, default_name: str) -> str:
        """The BUILD file text that declares it (``name=`` left out when it is the directory's)."""
        arguments = [f'name="{self.name}"'] if self.name != default_name else []
        arguments += [f'{key}="{value}"' for key, value in self.fields]
        return f"{self.alias}({', '.join(arguments)})"


def _matches(name: str, globs: tuple[str, ...]) -> bool:
    return any(glob_pattern(g).fullmatch(name) for g in globs)


def _pyproject(project, path: str) -> dict:
    try:
        return tomllib.loads((project.build_root / path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def proposals(project) -> list[Proposal]:
    """The targets missing for the repository's Python files, sorted by directory."""
    graph = project.graph
    owned = {path for target in graph.targets.values() for path in target.sources}
    images = {
        (t.address.spec_path, str(t.get("entry_point"))) for t in graph.targets.values() if t.alias == "python_image"
    }
    by_directory: dict[str, list[str]] = {}
    for path in walk(project.build_root, "", graph.ignores):
        by_directory.setdefault(posixpath.dirname(path), []).append(posixpath.basename(path))
    found: list[Proposal] = []
    for directory, names in sorted(by_directory.items()):
        default = default_name(project, directory)
        unowned = [n for n in names if posixpath.join(directory, n) not in owned]
        python = [n for n in unowned if n.endswith(".py")]
        empty_init = python == ["__init__.py"] and not (project.build_root / directory / "__init__.py").stat().st_size
        if any(not _matches(n, _TESTS + _TEST_UTILS) for n in python) and not empty_init:
            found.append(Proposal(directory, "python_sources", default))
        if any(_matches(n, _TESTS) for n in python):
            found.append(Proposal(directory, "python_tests", "tests"))
        if any(_matches(n, _TEST_UTILS) for n in python):
            found.append(Proposal(directory, "python_test_utils", "test_utils"))
        if "requirements.txt" in unowned:
            found.append(Proposal(directory, "python_requirements", "reqs"))
        if "pyproject.toml" in names:
            found.extend(_from_pyproject(project, directory, default, "pyproject.toml" in unowned, images))
        if "__main__.py" in names:
            package = posixpath.basename(directory) or default
            if (directory, "__main__.py") not in images:
                found.append(Proposal(directory, "python_image", package, (("entry_point", "__main__.py"),)))
    return found


def default_name(project, directory: str) -> str:
    """The name a target in ``directory`` gets when its BUILD file gives none."""
    return posixpath.basename(directory) or project.build_root.name


def _from_pyproject(project, directory: str, default: str, unowned: bool, images: set) -> list[Proposal]:
    data = _pyproject(project, posixpath.join(directory, "pyproject.toml"))
    found = []
    metadata = data.get("project") or {}
    if unowned and (metadata.get("dependencies") or metadata.get("optional-dependencies")):
        found.append(Proposal(directory, "python_requirements", "reqs", (("source", "pyproject.toml"),)))
    elif unowned and ((data.get("tool") or {}).get("poetry") or {}).get("dependencies"):
        found.append(Proposal(directory, "poetry_requirements", "poetry"))
    for script, entry_point in sorted((metadata.get("scripts") or {}).items()):
        if (directory, entry_point) not in images and not any(e == entry_point for _, e in images):
            found.append(Proposal(directory, "python_image", script, (("entry_point", entry_point),)))
    return found


def workspace_config(root) -> str | None:
    """A ``pants.toml`` for a uv workspace (or a project with a ``pylock.toml``) that has none:
    source roots at each member's ``src/`` (or the member itself), the lock as the one resolve."""
    lock = next((name for name in ("uv.lock", "pylock.toml") if (root / name).is_file()), None)
    if lock is None:
        return None
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}
    members = [root]
    for pattern in ((data.get("tool") or {}).get("uv") or {}).get("workspace", {}).get("members", []):
        members.extend(sorted(p for p in root.glob(pattern) if (p / "pyproject.toml").is_file()))
    roots = []
    for member in members:
        base = member / "src" if (member / "src").is_dir() else member
        relative = base.relative_to(root).as_posix()
        roots.append("/" if relative == "." else f"/{relative}")
    requires = (data.get("project") or {}).get("requires-python")
    constraints = f'interpreter_constraints = ["CPython{requires}"]\n' if requires else ""
    patterns = ", ".join(f'"{r}"' for r in dict.fromkeys(roots))
    return (
        f"# Written by `lamina tailor` for this workspace: its source roots and {lock} as the lock.\n"
        f"[source]\nroot_patterns = [{patterns}]\n\n"
        f'[python]\nenable_resolves = true\n{constraints}\n[python.resolves]\npython-default = "{lock}"\n'
    )
