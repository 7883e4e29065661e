"""Evaluate BUILD files as restricted Python: only the BUILD vocabulary is in scope.

No imports, only Python's pure builtins (no ``open``, ``getattr``, ``eval``), and, checked on the syntax tree
before anything runs, no attribute or name that starts with ``_`` (``__class__``,
``__globals__``) and none of the frame and code attributes (``gi_frame``, ``f_back``)
through which Python code reaches the interpreter. With nothing else in scope, a BUILD
file cannot read files, open sockets or run programs. Evaluation is bounded in time.
Each target call is recorded with its line; errors name the file and line and suggest
the closest known name.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import os
import posixpath
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from lamina.errors import BuildFileError
from lamina.graph.target import COMMON_FIELDS, TargetType

TIMEOUT = 10.0  # seconds one BUILD file may take to evaluate
_ALLOWED_DUNDERS = frozenset({"__defaults__", "__dependencies_rules__", "__dependents_rules__"})
_INTERPRETER_ATTRIBUTES = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code", "ag_await",
    "f_back", "f_builtins", "f_code", "f_globals", "f_locals", "tb_frame", "tb_next", "func_globals", "func_code",
    "format_map", "mro",
})  # fmt: skip
# Python's pure builtins, as Pants' BUILD files and macros use them; nothing that reads files,
# imports, evaluates code or reaches attributes by name (open, __import__, eval, getattr, vars).
_SAFE_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name)
    for name in (
        "abs", "all", "any", "bool", "callable", "chr", "dict", "divmod", "enumerate", "filter", "float", "format",
        "frozenset", "hasattr", "hash", "int", "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min",
        "next", "ord", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip",
        "True", "False", "None", "Exception", "ValueError", "TypeError", "KeyError", "IndexError", "LookupError",
        "AssertionError", "NotImplementedError", "RuntimeError",
    )
}  # fmt: skip


@dataclass(frozen=True)
class Declaration:
    """One target call in a BUILD file, before defaults and generation."""

    alias: str
    kwargs: Mapping[str, Any]
    path: str
    line: int


@dataclass(frozen=True)
class DefaultsCall:
    """One ``__defaults__(...)`` call: per-alias field values (``"all"`` for every type)."""

    values: Mapping[str, Mapping[str, Any]]
    extend: bool = False
    ignore_unknown_fields: bool = False
    line: int = 0


@dataclass(frozen=True)
class RuleSets:
    """``__dependencies_rules__`` or ``__dependents_rules__``: (selector, rules...) tuples."""

    sets: tuple[tuple[Any, ...], ...]
    extend: bool
    path: str
    line: int


@dataclass
class BuildFile:
    """What a BUILD file declared: its targets, ``__defaults__`` and visibility rules."""

    path: str
    declarations: list[Declaration] = field(default_factory=list)
    defaults: list[DefaultsCall] = field(default_factory=list)
    dependencies_rules: RuleSets | None = None
    dependents_rules: RuleSets | None = None


class Inert:
    """A value of a Pants helper lamina keeps but does not interpret (``python_artifact(...)``)."""

    def __init__(self, helper: str, args: tuple, kwargs: dict) -> None:
        self.helper, self.args, self.kwargs = helper, args, kwargs

    def __repr__(self) -> str:
        return f"{self.helper}(...)"


class Parametrize:
    """``parametrize("a", "b")`` or ``parametrize(a=..., b=...)`` as a field value: one target per
    value; ``**parametrize("group", field=..., ...)``: one target per group of field values."""

    GROUP_PREFIX = "parametrize:"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def options(self, field_name: str) -> list[tuple[str, Any]]:
        """(parameter value as printed, field value) for each alternative of a field."""
        options = []
        for value in self.args:
            if not isinstance(value, str):
                raise TypeError(
                    f"parametrize() for {field_name!r}: positional values must be strings; "
                    f"name other values with keywords, e.g. parametrize(name={value!r})"
                )
            options.append((value, value))
        options.extend(self.kwargs.items())
        return options

    # ``**parametrize("group", ...)``: a mapping of one key, the group's name.
    def keys(self) -> list[str]:
        if len(self.args) != 1 or not isinstance(self.args[0], str):
            raise TypeError('a parametrize group is written **parametrize("name", field=value, ...)')
        return [self.GROUP_PREFIX + self.args[0]]

    def __getitem__(self, key: str) -> Parametrize:
        return self

    def __repr__(self) -> str:
        return "parametrize(...)"


_INERT_HELPERS = (
    "setup_py", "python_artifact", "http_source", "per_platform", "shading_rule", "jvm_exclude", "scala_artifact",
    "duplicate_rule", "node_build_script_output",
)  # fmt: skip


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


def check_fields(target_type: TargetType, kwargs: Mapping[str, Any], path: str, line: int) -> None:
    """Raise, with a did-you-mean, for a field the target type does not have."""
    if target_type.fields is None:
        return
    known = {f.name for f in (*COMMON_FIELDS, *target_type.fields)}
    for name in kwargs:
        if name not in known and not name.startswith(Parametrize.GROUP_PREFIX):
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


class _UnknownName(Exception):
    def __init__(self, name: str, line: int | None) -> None:
        super().__init__(name)
        self.name, self.line = name, line


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


class BuildFileParser:
    """Evaluates BUILD files with one vocabulary: the registered target types, Pants' helpers
    (``env``, ``build_file_dir``, ``parametrize``, ``python_artifact``...), ``__defaults__``,
    the visibility rules, and the public names of the ``[GLOBAL] build_file_prelude_globs``
    files, whose macros declare targets in the BUILD file that calls them."""

    def __init__(
        self,
        target_types: Mapping[str, TargetType],
        *,
        prelude: Sequence[tuple[str, str]] = (),
        environ: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT,
        unknown_type: Callable[[str, str, int | None], TargetType] | None = None,
    ) -> None:
        self.target_types, self.timeout, self.unknown_type = target_types, timeout, unknown_type
        self.environ = os.environ if environ is None else environ
        self._current = BuildFile("")
        self._symbols = self._base_symbols()
        for path, text in prelude:
            self._symbols.update(self._run_prelude(text, path))

    def parse(self, source: str, path: str) -> BuildFile:
        """Run one BUILD file's text and return what it declared."""
        for _ in range(100):  # each round may learn one unknown target type
            self._current = BuildFile(path)
            try:
                self._run(source, path, dict(self._symbols))
            except _UnknownName as unknown:
                target_type = self.unknown_type(unknown.name, path, unknown.line)  # type: ignore[misc]
                self._symbols[unknown.name] = self._target_function(target_type)
                continue
            return self._current
        raise BuildFileError("too many unknown target types", path=path)

    def _run_prelude(self, source: str, path: str) -> dict[str, Any]:
        scope = dict(self._symbols)
        self._current = BuildFile(path)
        self._run(source, path, scope)
        return {name: value for name, value in scope.items() if not name.startswith("_") and name not in self._symbols}

    def _base_symbols(self) -> dict[str, Any]:
        symbols: dict[str, Any] = {alias: self._target_function(t) for alias, t in self.target_types.items()}
        symbols.update({name: (lambda n: lambda *a, **k: Inert(n, a, k))(name) for name in _INERT_HELPERS})
        symbols.update(
            parametrize=Parametrize,
            env=lambda name, default=None: self.environ.get(name, default),
            build_file_dir=lambda: PurePosixPath(posixpath.dirname(self._current.path)),
            __defaults__=self._defaults,
            __dependencies_rules__=lambda *sets, extend=False: self._rules("dependencies_rules", sets, extend),
            __dependents_rules__=lambda *sets, extend=False: self._rules("dependents_rules", sets, extend),
        )
        return symbols

    def _target_function(self, target_type: TargetType):
        def declare(*args: Any, **kwargs: Any) -> None:
            path = self._current.path
            line = _caller_line(path)
            if args:
                raise BuildFileError(f"{target_type.alias}() takes keyword arguments only", path=path, line=line)
            check_fields(target_type, kwargs, path, line)
            self._current.declarations.append(Declaration(target_type.alias, kwargs, path, line))

        declare.alias = target_type.alias  # type: ignore[attr-defined]
        declare.__name__ = target_type.alias
        return declare

    def _defaults(
        self,
        mapping: Mapping[Any, Mapping[str, Any]] | None = None,
        *,
        all: Mapping[str, Any] | None = None,
        extend: bool = False,
        ignore_unknown_fields: bool = False,
        ignore_unknown_targets: bool = False,
    ) -> None:
        path = self._current.path
        line = _caller_line(path)
        values: dict[str, dict[str, Any]] = {}
        for key, fields in (mapping or {}).items():
            for single in key if isinstance(key, tuple) else (key,):
                alias = getattr(single, "alias", single)
                if alias not in self.target_types:
                    if ignore_unknown_targets:
                        continue
                    raise BuildFileError(f"__defaults__ names unknown target type {alias!r}", path=path, line=line)
                if not ignore_unknown_fields:
                    check_fields(self.target_types[alias], fields, path, line)
                values.setdefault(alias, {}).update(fields)
        if all:
            values["all"] = dict(all)
        self._current.defaults.append(DefaultsCall(values, extend, ignore_unknown_fields, line))

    def _rules(self, kind: str, sets: tuple, extend: bool) -> None:
        path = self._current.path
        setattr(self._current, kind, RuleSets(tuple(sets), extend, path, _caller_line(path)))

    def _run(self, source: str, path: str, scope: dict[str, Any]) -> None:
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
            with _time_limit(self.timeout):
                exec(code, scope)  # noqa: S102 - restricted scope, no builtins, checked tree
        except _OutOfTime:
            raise BuildFileError(
                f"evaluating took longer than {self.timeout:g} s; a BUILD file declares targets and should not compute",
                path=path,
            ) from None
        except NameError as err:
            line = _traceback_line(err, path)
            name = getattr(err, "name", None) or str(err)
            if self.unknown_type is not None and getattr(err, "name", None):
                raise _UnknownName(name, line) from None
            close = difflib.get_close_matches(name, sorted(set(scope) - {"__builtins__"}), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise BuildFileError(
                f"unknown name {name!r}: not a target type, a helper or a name of the prelude{hint}",
                path=path,
                line=line,
            ) from None
        except BuildFileError:
            raise
        except Exception as err:  # noqa: BLE001 - a BUILD file is user code: report any failure with its line
            raise BuildFileError(f"{type(err).__name__}: {err}", path=path, line=_traceback_line(err, path)) from None


def evaluate(source: str, path: str, target_types: Mapping[str, TargetType], *, timeout: float = TIMEOUT) -> BuildFile:
    """Run one BUILD file's text (no prelude) and return what it declared."""
    return BuildFileParser(target_types, timeout=timeout).parse(source, path)


def _traceback_line(err: BaseException, path: str) -> int | None:
    line = None
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
