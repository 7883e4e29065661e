"""Backends: per family, ``target_types.py`` (what users write) and ``rules.py`` (how it is built).

Each backend has a ``register.py`` with ``target_types()`` and ``rules()``: the same
API a plugin named in ``[GLOBAL] backend_packages`` uses.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

from lamina.graph.target import Registry

BUILTIN_BACKENDS = (
    "lamina.backends.core", "lamina.backends.python", "lamina.backends.debian", "lamina.backends.docker",
    "lamina.backends.shell",
    "lamina.backends.pants",
)  # fmt: skip


def lazy(module: str, name: str) -> Callable:
    """``module.name``, imported when first called: a backend registers its functions without
    importing what they need, so a run that builds none of its targets never loads it."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def default_registry(backend_packages: Sequence[str] = (), pythonpath: Sequence[str] = ()) -> Registry:
    """lamina's built-in backends, then plugin backends (``pants.*`` names are Pants' own and skipped)."""
    registry = Registry()
    for module_name in BUILTIN_BACKENDS:
        registry.load_backend(module_name)
    for entry in pythonpath:
        if entry not in sys.path:
            sys.path.insert(0, entry)
    for module_name in backend_packages:
        if not module_name.startswith(("pants.", "lamina.")):
            registry.load_backend(module_name)
    return registry
