"""Where a repository declares its third-party requirements, read by one parser each:
requirements files (``-r`` includes, line continuations, extras, markers, direct URLs),
PEP 621 ``[project]`` tables, and Poetry's ``[tool.poetry]`` tables, whose caret and tilde
constraints are translated the way Pants translates them. Each requirement keeps the
file and line it came from, so errors point at it."""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lamina.errors import BuildFileError

_COMMENT = re.compile(r"(^|\s+)#.*$")
ReadText = Callable[[str], str]  # build-root-relative path -> its text


@dataclass(frozen=True)
class Declared:
    """One requirement as a file declares it: its name as written and pip-syntax strings."""

    name: str
    requirements: tuple[str, ...]
    path: str
    line: int


def _requirement(text: str, path: str, line: int) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as err:
        raise BuildFileError(f"invalid requirement {text!r}: {err}", path=path, line=line) from None


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first physical line number, text) of each non-empty line, comments dropped and
    ``\\`` continuations joined, the way pip reads requirements files (and lock files)."""
    start: int | None = None
    parts: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT.sub("", raw).rstrip()
        start = start if start is not None else number
        continued = line.endswith("\\")
        parts.append(line[:-1] if continued else line)
        if not continued:
            joined = " ".join(part.strip() for part in parts).strip()
            if joined:
                yield start, joined
            start, parts = None, []
    if start is not None and (joined := " ".join(part.strip() for part in parts).strip()):
        yield start, joined


def requirements_file(path: str, read_text: ReadText, *, _seen: frozenset[str] = frozenset()) -> list[Declared]:
    """The requirements of a pip requirements file, following ``-r``/``--requirement`` includes."""
    if path in _seen:
        raise BuildFileError(f"requirements file {path} includes itself (through -r)", path=path)
    found: list[Declared] = []
    for start, text in logical_lines(read_text(path)):
        if text.startswith(("-r ", "--requirement ", "-r", "--requirement=")) and not text.startswith("--requirements"):
            included = text.split("=", 1)[1] if text.startswith("--requirement=") else text.split(None, 1)[-1]
            included = included.removeprefix("-r").strip()
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), included))
            found.extend(requirements_file(target, read_text, _seen=_seen | {path}))
            continue
        if text.startswith("-"):  # index options, constraints, hashes-only lines: not requirements
            continue
        text = text.split(" --hash", 1)[0].strip()
        requirement = _requirement(text, path, start)
        found.append(Declared(requirement.name, (text,), path, start))
    return found


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _toml(path: str, read_text: ReadText) -> tuple[str, dict]:
    text = read_text(path)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise BuildFileError(f"invalid TOML: {err}", path=path) from None


def pep621(path: str, read_text: ReadText) -> list[Declared]:
    """``[project] dependencies`` and every ``[project.optional-dependencies]`` group, less the
    projects ``[tool.uv.sources]`` takes from the workspace or a path (first-party code)."""
    text, data = _toml(path, read_text)
    project = data.get("project") or {}
    strings = list(project.get("dependencies") or [])
    for group in (project.get("optional-dependencies") or {}).values():
        strings.extend(group)
    sources = ((data.get("tool") or {}).get("uv") or {}).get("sources") or {}
    local = {
        canonicalize_name(name)
        for name, source in sources.items()
        if isinstance(source, dict) and ({"workspace", "path", "editable"} & set(source))
    }
    found = []
    for string in strings:
        line = _line_of(text, string)
        requirement = _requirement(string, path, line)
        if canonicalize_name(requirement.name) not in local:
            found.append(Declared(requirement.name, (string,), path, line))
    return found


def _caret(version: str) -> str:
    parsed = Version(version)
    major, minor, micro = 0, 0, 0
    if parsed.major:
        major = parsed.major + 1
    elif parsed.minor:
        minor = parsed.minor + 1
    elif parsed.micro:
        micro = parsed.micro + 1
    else:
        length = len(parsed.base_version.split("."))
        major, minor, micro = (1, 0, 0) if length == 1 else (0, 1, 0) if length == 2 else (0, 0, 1)
    return f">={version},<{major}.{minor}.{micro}"


def _tilde(version: str) -> str:
    parsed = Version(version)
    upper = f"{parsed.major + 1}.0.0" if len(parsed.release) == 1 else f"{parsed.major}.{parsed.minor + 1}.0"
    return f">={version},<{upper}"


def poetry_constraint(constraint: str) -> str:
    """A Poetry version constraint as a PEP 440 specifier (``^1.2`` -> ``>=1.2,<2.0.0``)."""
    parts = []
    for piece in (p.strip() for p in constraint.split(",")):
        if not piece or piece == "*":
            continue
        if piece.startswith("^"):
            parts.append(_caret(piece[1:].strip()))
        elif piece.startswith("~") and not piece.startswith("~="):
            parts.append(_tilde(piece[1:].strip()))
        elif piece[0].isdigit():
            parts.append(f"=={piece}")
        else:
            parts.append(piece.replace(" ", ""))
    return ",".join(parts)


def _python_marker(constraint: str) -> str:
    specifier = poetry_constraint(constraint)
    clauses = []
    for item in filter(None, specifier.split(",")):
        operator = next(op for op in ("===", "==", "!=", "<=", ">=", "~=", "<", ">") if item.startswith(op))
        clauses.append(f"python_version {operator} '{item[len(operator) :]}'")
    return " and ".join(clauses)


def _poetry_requirement(name: str, value: object, path: str, line: int) -> str | None:
    if isinstance(value, str):
        return f"{name}{poetry_constraint(value)}"
    if not isinstance(value, dict):
        raise BuildFileError(f"poetry dependency {name!r}: expected a string or a table", path=path, line=line)
    if "path" in value:
        return None  # a path dependency is first-party code, as Pants treats it
    extras = f"[{','.join(value['extras'])}]" if value.get("extras") else ""
    if "git" in value:
        reference = value.get("rev") or value.get("tag") or value.get("branch")
        spec = f" @ git+{value['git']}{'@' + reference if reference else ''}"
    elif "url" in value:
        spec = f" @ {value['url']}"
    else:
        spec = poetry_constraint(str(value.get("version", "*")))
    markers = [m for m in (value.get("markers"), _python_marker(value["python"]) if "python" in value else None) if m]
    joined = markers[0] if len(markers) == 1 else " and ".join(f"({m})" for m in markers)
    marker = f" ; {joined}" if markers else ""
    return f"{name}{extras}{spec}{marker}"


def poetry(path: str, read_text: ReadText) -> list[Declared]:
    """``[tool.poetry]`` dependencies, dev-dependencies and groups, without ``python`` and path dependencies."""
    text, data = _toml(path, read_text)
    tool = (data.get("tool") or {}).get("poetry") or {}
    tables = [tool.get("dependencies") or {}, tool.get("dev-dependencies") or {}]
    tables += [(group or {}).get("dependencies") or {} for group in (tool.get("group") or {}).values()]
    found = []
    for table in tables:
        for name, value in table.items():
            if name.lower() == "python":
                continue
            line = _line_of(text, f"\n{name}")
            values = value if isinstance(value, list) else [value]
            try:
                strings = tuple(s for s in (_poetry_requirement(name, v, path, line) for v in values) if s)
            except (InvalidVersion, StopIteration):
                raise BuildFileError(
                    f"poetry dependency {name!r}: cannot read its constraint", path=path, line=line
                ) from None
            for string in strings:
                _requirement(string, path, line)
            if strings:
                found.append(Declared(name, strings, path, line))
    return found
