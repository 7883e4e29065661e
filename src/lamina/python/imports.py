"""The imports of a Python file, read with ``ast`` (never executed). In a repository whose
interpreter constraints allow a newer Python than lamina runs on, a file using newer syntax
(``type X = ...``, ``except A, B:``) is read token by token instead, as Pants' own parser
reads any version's syntax."""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize
from dataclasses import dataclass

from lamina.cache import Cache, action_key

_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


@dataclass(frozen=True)
class Import:
    """A module a file may need, with the candidates to try (most specific first)."""

    candidates: tuple[str, ...]
    line: int
    weak: bool = False  # a string that may name a module: inferred if it does, never warned about


def _absolute(base: str, level: int, module: str | None, is_package: bool) -> str:
    if not level:
        return base
    package = (module or "").split(".")
    if not is_package:
        package = package[:-1]
    package = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*package, base] if base else package)


def _scan_tokens(source: bytes, module: str | None, is_package: bool) -> list[Import]:
    """``import`` and ``from ... import`` statements found in the token stream."""
    found: list[Import] = []
    statement: list[tokenize.TokenInfo] = []
    starts = True
    for token in tokenize.tokenize(io.BytesIO(source).readline):
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or token.string == ";":
            if statement:
                found.extend(_statement_imports(statement, module, is_package))
            statement, starts = [], True
        elif token.type in (tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.COMMENT, tokenize.ENCODING):
            continue
        elif starts and token.type == tokenize.NAME and token.string in ("import", "from"):
            statement, starts = [token], False
        elif statement:
            statement.append(token)
        else:
            starts = False
    return found


def _statement_imports(tokens: list[tokenize.TokenInfo], module: str | None, is_package: bool) -> list[Import]:
    line = tokens[0].start[0]
    words = [t.string for t in tokens if t.string not in ("(", ")")]
    if words[0] == "import":
        names, current, skip = [], "", False
        for word in words[1:] + [","]:
            if word == ",":
                names.append(current)
                current, skip = "", False
            elif word == "as":
                skip = True
            elif not skip:
                current += word
        return [Import((name,), line) for name in names if name]
    if "import" not in words:
        return []
    split = words.index("import")
    head = "".join(words[1:split])
    level = len(head) - len(head.lstrip("."))
    base = _absolute(head.lstrip("."), level, module, is_package)
    if not base:
        return []
    found, skip = [], False
    for word in words[split + 1 :]:
        if word == ",":
            skip = False
        elif word == "as":
            skip = True
        elif not skip:
            found.append(Import((f"{base}.{word}", base) if word != "*" else (base,), line))
    return found


def parse_imports(
    source: bytes,
    module: str | None,
    *,
    is_package: bool,
    filename: str,
    newer_syntax: bool = False,
    string_min_dots: int | None = None,
) -> list[Import]:
    """Imports in ``source``; relative imports resolved against ``module``. Raises
    ``SyntaxError`` (or ``ValueError``) when the file cannot be parsed; with ``newer_syntax``
    (the repository targets a newer Python than this one), only when it cannot be tokenized."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as err:
        if not newer_syntax:
            raise
        try:
            return _scan_tokens(source, module, is_package)
        except (tokenize.TokenError, SyntaxError):
            raise err from None
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import((alias.name,), node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, module, is_package)
            if not base:
                continue
            for alias in node.names:
                found.append(Import((f"{base}.{alias.name}", base) if alias.name != "*" else (base,), node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(Import((node.args[0].value,), node.lineno))
        elif (
            string_min_dots is not None
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.count(".") >= string_min_dots
            and _MODULE_NAME.fullmatch(node.value)
        ):
            found.append(Import((node.value,), node.lineno, weak=True))
    return found


def module_defines(source: bytes, name: str, filename: str, cache: Cache | None = None) -> tuple[bool, list[str]]:
    """Whether a module binds ``name`` at its top level, and the names it binds. A module
    with ``from x import *`` or a module ``__getattr__`` may bind anything: True. With a
    ``cache``, the names are remembered by the source's sha256, so a no-op build over
    hundreds of services parses no entry point again."""
    found = _cached_top_level_names(cache, source, filename)
    if found is None:
        return True, []  # the parse failure is reported where imports are inferred
    any_name, names = found
    return any_name or name in names or "__getattr__" in names, names


def _cached_top_level_names(cache: Cache | None, source: bytes, filename: str) -> tuple[bool, list[str]] | None:
    def parse() -> dict | None:
        found = _top_level_names(source, filename)
        return {"any": found[0], "names": found[1]} if found is not None else None

    hit = _by_source(cache, "top-level-names", source, {}, {"any": bool, "names": [str]}, parse)
    return (hit["any"], hit["names"]) if hit is not None else None


def _by_source(cache: Cache | None, kind: str, source: bytes, options: dict, shape, compute) -> dict | None:
    """``compute()`` (a JSON object, or None when the source does not parse), remembered in
    ``cache`` by ``kind``, the source's sha256 and ``options``; a None is never remembered."""
    if cache is None:
        return compute()
    key = action_key(kind, 1, {"source": hashlib.sha256(source).hexdigest(), **options})
    hit = cache.actions.get(key, shape)
    if hit is None:
        hit = compute()
        if hit is not None:
            cache.actions.put(key, hit, share=False)
    return hit


def _top_level_names(source: bytes, filename: str) -> tuple[bool, list[str]] | None:
    """(whether ``from x import *`` may bind any name, the names bound); None if it does not parse."""
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError):
        return None
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(alias.name == "*" for alias in node.names):
                return True, names
            names += [(alias.asname or alias.name).split(".")[0] for alias in node.names]
        else:  # assignments, and what `if`/`try`/`with` blocks bind (generously: nested bodies too)
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                    names.append(inner.id)
                elif isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.append(inner.name)
                elif isinstance(inner, (ast.Import, ast.ImportFrom)):
                    names += [(alias.asname or alias.name).split(".")[0] for alias in inner.names]
    return False, sorted(set(names))


_PARSED = {"imports": [{"candidates": [str], "line": int, "weak": bool}]}


def cached_parse_imports(
    cache: Cache | None, source: bytes, module: str | None, *, filename: str, **options
) -> list[Import]:
    """``parse_imports`` (same arguments), remembered in ``cache`` by the source's sha256 and
    the options, so a no-op build over hundreds of services parses no file twice (one that
    fails is parsed again, to report it)."""

    def parse() -> dict:
        found = parse_imports(source, module, filename=filename, **options)
        return {"imports": [{"candidates": list(i.candidates), "line": i.line, "weak": i.weak} for i in found]}

    hit = _by_source(cache, "imports", source, {"module": module, **options}, _PARSED, parse)
    return [Import(tuple(i["candidates"]), i["line"], i["weak"]) for i in hit["imports"]]
