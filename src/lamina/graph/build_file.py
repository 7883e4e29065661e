"""Evaluate BUILD files as restricted Python: only the BUILD vocabulary is in scope.

No imports, no builtins beyond a few constructors, and, checked on the syntax tree
before anything runs, no attribute or name that starts with ``_`` (``__class__``,
``__globals__``) and none of the frame and code attributes (``gi_frame``, ``f_back``)
through which Python code reaches the interpreter. With nothing else in scope, a BUILD
file cannot read files, open sockets or run programs. Evaluation is bounded in time.
Each target call is recorded with its line; errors name the file and line and suggest
the closest known name.
"""

from __future__ import annotations

import ast
import difflib
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lamina.errors import BuildFileError
from lamina.graph.target import COMMON_FIELDS, TargetType

BUILD_FILE_NAMES = ("BUILD", "BUILD.pants")
TIMEOUT = 10.0  # seconds one BUILD file may take to evaluate
_ALLOWED_DUNDERS = frozenset({"__defaults__"})
_INTERPRETER_ATTRIBUTES = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code", "ag_await",
    "f_back", "f_builtins", "f_code", "f_globals", "f_locals", "tb_frame", "tb_next", "func_globals", "func_code",
    "format_map", "mro",
})  # fmt: skip
_SAFE_BUILTINS = {"True": True, "False": False, "None": None, "dict": dict, "list": list, "tuple": tuple, "len": len}


@dataclass(frozen=True)
class Declaration:
    """One target call in a BUILD file, before defaults and generation."""

    alias: str
    kwargs: Mapping[str, Any]
    path: str
    line: int


@dataclass
class BuildFile:
    """What a BUILD file declared: its targets and its ``__defaults__``."""

    path: str
    declarations: list[Declaration] = field(default_factory=list)
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)  # alias (or "all") -> fields


class _Inert:
    """A value of a Pants helper lamina does not interpret (``setup_py(...)``, ``parametrize(...)``)."""

    def __init__(self, helper: str, args: tuple, kwargs: dict) -> None:
        self.helper, self.args, self.kwargs = helper, args, kwargs

    def __repr__(self) -> str:
        return f"{self.helper}(...)"


_PANTS_HELPERS = ("setup_py", "python_artifact", "parametrize", "http_source", "per_platform", "shading_rule")


def _caller_line(path: str) -> int:
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename != path:
        frame = frame.f_back  # type: ignore[assignment]
    return frame.f_lineno if frame is not None else 0


def check_required(target_type: TargetType, fields: Mapping[str, Any], path: str, line: int) -> None:
    """Raise if a required field is unset (after ``__defaults__`` were applied)."""
    for f in target_type.fields or ():
        if f.required and fields.get(f.name) is None:
            raise BuildFileError(f"{target_type.alias} needs the field {f.name!r}: {f.help}", path=path, line=line)


def _check_fields(target_type: TargetType, kwargs: Mapping[str, Any], path: str, line: int) -> None:
    if target_type.fields is None:
        return
    known = {f.name for f in (*COMMON_FIELDS, *target_type.fields)}
    for name in kwargs:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; its fields are: {', '.join(sorted(known))}"
            raise BuildFileError(
                f"unknown field {name!r} for target type {target_type.alias!r}{hint}", path=path, line=line
            )


def _check_restricted(tree: ast.AST, path: str) -> None:
    """Refuse what would let BUILD code reach past its scope (private and dunder names and
    attributes, the attributes of frames and code objects) or outlast its time limit (a
    bare ``except:``)."""
    nodes = [n for n in ast.walk(tree) if hasattr(n, "lineno")]
    for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset, n.end_lineno or 0, n.end_col_offset or 0)):
        if isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr in _INTERPRETER_ATTRIBUTES):
            raise BuildFileError(
                f"BUILD files may not use the attribute {node.attr!r}: they are evaluated with only lamina's "
                "vocabulary in scope", path=path, line=node.lineno,
            )  # fmt: skip
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            raise BuildFileError("BUILD files may not use a bare `except:`", path=path, line=node.lineno)
        name = node.id if isinstance(node, ast.Name) else getattr(node, "name", None)
        if isinstance(name, str) and name.startswith("__") and name not in _ALLOWED_DUNDERS:
            raise BuildFileError(
                f"BUILD files may not use the name {name!r}", path=path, line=getattr(node, "lineno", None)
            )


class _OutOfTime(BaseException):
    """Raised into a BUILD file that runs too long (a BaseException, so BUILD code cannot catch it)."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (on the main thread, where signals arrive)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(_signum, _frame):
        raise _OutOfTime()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def evaluate(source: str, path: str, target_types: Mapping[str, TargetType], *, timeout: float = TIMEOUT) -> BuildFile:
    """Run one BUILD file's text and return what it declared."""
    result = BuildFile(path)

    def make_target_function(target_type: TargetType):
        def declare(*args: Any, **kwargs: Any) -> None:
            line = _caller_line(path)
            if args:
                raise BuildFileError(f"{target_type.alias}() takes keyword arguments only", path=path, line=line)
            _check_fields(target_type, kwargs, path, line)
            result.declarations.append(Declaration(target_type.alias, kwargs, path, line))

        declare.alias = target_type.alias  # type: ignore[attr-defined]
        declare.__name__ = target_type.alias
        return declare

    def defaults(
        mapping: Mapping[Any, Mapping[str, Any]] | None = None, *, all: Mapping[str, Any] | None = None, **_: Any
    ) -> None:
        line = _caller_line(path)
        for key, values in (mapping or {}).items():
            keys = key if isinstance(key, tuple) else (key,)
            for single in keys:
                alias = getattr(single, "alias", single)
                if alias not in target_types:
                    raise BuildFileError(f"__defaults__ names unknown target type {alias!r}", path=path, line=line)
                _check_fields(target_types[alias], values, path, line)
                result.defaults.setdefault(alias, {}).update(values)
        if all:
            result.defaults.setdefault("all", {}).update(all)

    scope: dict[str, Any] = {alias: make_target_function(t) for alias, t in target_types.items()}
    scope.update({name: (lambda n: lambda *a, **k: _Inert(n, a, k))(name) for name in _PANTS_HELPERS})
    scope["__defaults__"] = defaults
    scope["__builtins__"] = dict(_SAFE_BUILTINS)
    try:
        tree = ast.parse(source, path)
    except SyntaxError as err:
        raise BuildFileError(f"invalid syntax: {err.msg}", path=path, line=err.lineno) from None
    except ValueError as err:  # e.g. a NUL byte
        raise BuildFileError(f"invalid syntax: {err}", path=path) from None
    _check_restricted(tree, path)
    code = compile(tree, path, "exec")
    try:
        with _time_limit(timeout):
            exec(code, scope)  # noqa: S102 - restricted scope, no builtins, checked tree
    except _OutOfTime:
        raise BuildFileError(
            f"evaluating took longer than {timeout:g} s; a BUILD file declares targets and should not compute",
            path=path,
        ) from None
    except NameError as err:
        line = _traceback_line(err, path)
        name = getattr(err, "name", None) or str(err)
        close = difflib.get_close_matches(name, sorted(set(scope) - {"__builtins__"}), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise BuildFileError(
            f"unknown name {name!r}: not a lamina or Pants target type or helper{hint}", path=path, line=line
        ) from None
    except BuildFileError:
        raise
    except Exception as err:  # a BUILD file is user code: report any failure with its line
        raise BuildFileError(f"{type(err).__name__}: {err}", path=path, line=_traceback_line(err, path)) from None
    return result


def _traceback_line(err: BaseException, path: str) -> int | None:
    line = None
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
