"""Pants' ``NAME=value`` or ``NAME`` lists (``[docker] build_args``, ``extra_env_vars``):
a bare ``NAME`` takes the value the environment lamina runs in has, and is left out when
it has none."""

from __future__ import annotations

import os
from collections.abc import Iterable


def named_values(entries: Iterable[str]) -> dict[str, str]:
    """``{NAME: value}`` of ``entries``, later entries winning."""
    values: dict[str, str] = {}
    for entry in entries:
        name, equals, value = entry.partition("=")
        if equals:
            values[name] = value
        elif name in os.environ:
            values[name] = os.environ[name]
    return values
