"""Pants' ``overrides`` field of target generators: per generated target, fields that
replace the generator's.

``python_sources`` keys are file paths or globs relative to the BUILD file (a tuple of
them shares one set of fields); ``python_requirements`` keys are requirement names. A
key that matches nothing, a field the generated type does not have, or one field set
twice for the same target is an error, as in Pants.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from packaging.utils import canonicalize_name

from lamina.errors import BuildFileError
from lamina.graph.files import GlobError, check_glob, glob_pattern
from lamina.graph.target import COMMON_FIELDS, Target, TargetType

_FIXED = {"name", "source", "requirements"}  # what a generator decides for each generated target


def _entries(generator: Target) -> list[tuple[tuple[str, ...], Mapping[str, Any]]]:
    overrides = generator.get("overrides") or {}
    if not isinstance(overrides, Mapping):
        raise BuildFileError(
            f"{generator.address}: overrides must be a dict, not {type(overrides).__name__}",
            path=generator.build_file, line=generator.line,
        )  # fmt: skip
    entries = []
    for key, fields in overrides.items():
        keys = key if isinstance(key, tuple) else (key,)
        if not all(isinstance(k, str) for k in keys) or not isinstance(fields, Mapping):
            raise BuildFileError(
                f"{generator.address}: overrides maps a name (or a tuple of names) to a dict of fields; got {key!r}",
                path=generator.build_file, line=generator.line,
            )  # fmt: skip
        entries.append((keys, fields))
    return entries


def _check_fields(generator: Target, generated: TargetType, fields: Mapping[str, Any]) -> None:
    known = {f.name for f in (*COMMON_FIELDS, *(generated.fields or ()))} - _FIXED
    for name in fields:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; it can set: {', '.join(sorted(known))}"
            raise BuildFileError(
                f"{generator.address}: overrides sets {name!r}, which a {generated.alias} target does not have{hint}",
                path=generator.build_file, line=generator.line,
            )  # fmt: skip


def _collect(generator: Target, generated: TargetType, match: Callable[[str], list[str]]) -> tuple[dict, list[str]]:
    """target -> the fields the overrides set for it, and the keys that matched no target."""
    merged: dict[str, dict] = {}
    unused = []
    for keys, fields in _entries(generator):
        _check_fields(generator, generated, fields)
        for key in keys:
            matched = match(key)
            if not matched:
                unused.append(key)
            for target in matched:
                into = merged.setdefault(target, {})
                for name, value in fields.items():
                    if name in into:
                        raise BuildFileError(
                            f"{generator.address}: overrides sets {name!r} twice for {target}; set each field once "
                            "per target", path=generator.build_file, line=generator.line,
                        )  # fmt: skip
                    into[name] = value
    return merged, unused


def _unused(generator: Target, message: str) -> BuildFileError:
    return BuildFileError(message, path=generator.build_file, line=generator.line)


def file_overrides(generator: Target, generated: TargetType, files: Iterable[str]) -> dict[str, dict]:
    """BUILD-relative file -> the fields ``generator``'s overrides set for it."""
    files = sorted(files)

    def match(key: str) -> list[str]:
        try:
            pattern = glob_pattern(check_glob(key))
        except GlobError as err:
            raise _unused(generator, f"{generator.address}: overrides: {err}") from None
        return [f for f in files if pattern.fullmatch(f)]

    merged, unused = _collect(generator, generated, match)
    if unused:
        raise _unused(
            generator,
            f"Unused file paths in the `overrides` field for {generator.address}: {sorted(unused)}; "
            f"its files are: {', '.join(files) or 'none'}",
        )
    return merged


def requirement_overrides(generator: Target, generated: TargetType, names: Iterable[str]) -> dict[str, dict]:
    """Canonical requirement name -> the fields ``generator``'s overrides set for it."""
    present = {canonicalize_name(n) for n in names}
    merged, unused = _collect(
        generator, generated, lambda key: [canonicalize_name(key)] if canonicalize_name(key) in present else []
    )
    if unused:
        raise _unused(
            generator,
            f"Unused key in the `overrides` field for {generator.address}: {sorted(map(canonicalize_name, unused))}; "
            f"its requirements are: {', '.join(sorted(present)) or 'none'}",
        )
    return merged
